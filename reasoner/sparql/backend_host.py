"""The store's host process (run as a script, standard library only): a network namespace, Oxigraph, connections."""

from __future__ import annotations

import ctypes
import fcntl
import json
import os
import resource
import select
import shutil
import signal
import socket
import struct
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

#: Port Oxigraph listens on inside its own network namespace (no other process shares that namespace).
PRIVATE_PORT = 7878
CLONE_NEWUSER, CLONE_NEWNET, PR_SET_PDEATHSIG = 0x10000000, 0x40000000, 1
SIOCGIFFLAGS, SIOCSIFFLAGS, IFF_UP = 0x8913, 0x8914, 0x1
#: glibc reserves 64 MB of address space per malloc arena, up to 8 per core: two keep 64 threads at ~400 MB.
MALLOC = {"MALLOC_ARENA_MAX": "2"}


def _libc() -> ctypes.CDLL:
    return ctypes.CDLL(None, use_errno=True)


def _die_with_parent(sig: int = signal.SIGKILL) -> None:
    if _libc().prctl(PR_SET_PDEATHSIG, sig, 0, 0, 0) != 0:
        raise OSError(ctypes.get_errno(), "prctl(PR_SET_PDEATHSIG)")


def _unshare(flags: int) -> None:
    if _libc().unshare(flags) != 0:
        err = ctypes.get_errno()
        raise OSError(err, os.strerror(err))


def isolate() -> str | None:
    """Move this (single-threaded) process into a new network namespace with its loopback up; None, or why not."""
    uid, gid = os.geteuid(), os.getegid()
    try:
        _unshare(CLONE_NEWUSER | CLONE_NEWNET)
        for name, text in (("setgroups", "deny"), ("uid_map", f"{uid} {uid} 1"), ("gid_map", f"{gid} {gid} 1")):
            try:
                Path(f"/proc/self/{name}").write_text(text)
            except OSError:
                pass  # unmapped ids only change how file owners are shown here, not who may read the store
    except OSError as user_ns:
        try:
            _unshare(CLONE_NEWNET)
        except OSError as net_ns:
            return f"no network namespace could be made (user namespace: {user_ns}; without one: {net_ns})"
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        flags = struct.unpack("16sH", fcntl.ioctl(s, SIOCGIFFLAGS, struct.pack("16sH22x", b"lo", 0))[:18])[1]
        fcntl.ioctl(s, SIOCSIFFLAGS, struct.pack("16sH22x", b"lo", flags | IFF_UP))
    return None


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _limit_child(memory_mb: int) -> Callable[[], None]:
    def preexec() -> None:  # runs in the host's forked child; the host has one thread
        _die_with_parent()
        if memory_mb > 0:
            limit = memory_mb * 1024 * 1024
            resource.setrlimit(resource.RLIMIT_AS, (limit, limit))

    return preexec


def host_main() -> None:
    """The host: isolate, start Oxigraph, then hand out connections to it until the guard closes the socket pair.

    Exits when Oxigraph exits (the supervisor starts another host) and when the guard is gone: its end of the
    pair reads as closed, because the guard closed it or because the guard died (even by SIGKILL: the kernel
    then also sends this process SIGTERM). Then it ends Oxigraph and removes the guard's temporary directory.
    """
    config = json.loads(sys.argv[1])
    ctl = socket.socket(fileno=config["ctl"])
    signal.signal(signal.SIGTERM, lambda *_: TERMINATED.append(True))
    _die_with_parent(signal.SIGTERM)
    if os.getppid() != config["parent"]:
        TERMINATED.append(True)  # the guard died before the signal was armed
    why = isolate()
    proc, port = None, PRIVATE_PORT
    for _ in range(3 if not TERMINATED else 0):
        port = PRIVATE_PORT if why is None else _free_port()
        cmd = [config["oxigraph"], "serve-read-only", "--location", config["store"], "--bind", f"127.0.0.1:{port}"]
        cmd += ["--union-default-graph", "--timeout-s", str(int(config["timeout_s"]) + 2)]
        proc = subprocess.Popen(
            cmd, stdin=subprocess.DEVNULL, env=os.environ | MALLOC, preexec_fn=_limit_child(config["memory_mb"])
        )
        if _listening(proc, port, time.monotonic() + 30):
            break
        _end(proc)
        proc = None
    try:
        if proc is None:
            ctl.send(json.dumps({"failed": "it did not listen"}).encode())
        else:
            ctl.send(json.dumps({"ready": True, "isolated": why is None, "why": why, "pid": proc.pid}).encode())
            _serve_connections(ctl, proc, port)
    except OSError:
        pass
    died = proc is None or proc.poll() is not None
    if proc is not None:
        _end(proc)
    if _guard_gone(ctl, 2.0 if TERMINATED else 0.0) and config["cleanup"]:
        shutil.rmtree(config["cleanup"], ignore_errors=True)
    sys.exit(3 if died else 0)


#: Set by SIGTERM (the kernel's, when the guard died; or anyone's).
TERMINATED: list[bool] = []


def _guard_gone(ctl: socket.socket, wait_s: float = 2.0) -> bool:
    """Whether the guard's end of the pair is closed (waiting up to ``wait_s`` for it to close)."""
    try:
        if not select.select([ctl], [], [], wait_s)[0]:
            return False
        return ctl.recv(16, socket.MSG_PEEK) == b""
    except OSError:
        return True


def _listening(proc: subprocess.Popen, port: int, deadline: float) -> bool:
    while proc.poll() is None and time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
            return True
        except OSError:
            time.sleep(0.05)
    return False


def _serve_connections(ctl: socket.socket, proc: subprocess.Popen, port: int) -> None:
    """Until Oxigraph exits, SIGTERM, or the guard's end closes: each byte from the guard gets a connection."""
    while proc.poll() is None and not TERMINATED:
        if not select.select([ctl], [], [], 0.1)[0]:
            continue
        if not ctl.recv(16):
            return
        try:
            conn = socket.create_connection(("127.0.0.1", port), timeout=5)
        except OSError as exc:
            ctl.send(str(exc).encode()[:500])
            continue
        try:
            socket.send_fds(ctl, [b"k"], [conn.fileno()])
        finally:
            conn.close()
    if proc.poll() is not None:
        print(f"spinekg: oxigraph exited with status {proc.returncode}", flush=True)


def _end(proc: subprocess.Popen) -> None:
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(5)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(5)


if __name__ == "__main__":
    host_main()
