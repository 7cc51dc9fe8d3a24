"""The endpoint's store process: Oxigraph in a network namespace of its own, memory-capped, supervised, restarted."""

from __future__ import annotations

import json
import logging
import os
import shutil
import socket
import subprocess
import sys
import threading
import time
from collections import deque
from collections.abc import Callable
from pathlib import Path

from ..errors import EndpointError

log = logging.getLogger("spinekg.serve")

#: The host process's program: the standard library only, so it starts fast and alone.
HOST = Path(__file__).with_name("backend_host.py")


def oxigraph_binary() -> str:
    """The ``oxigraph`` server (``pip install oxigraph``): beside this Python first, then on the PATH.

    >>> Path(oxigraph_binary()).name.startswith("oxigraph")
    True
    """
    here = Path(sys.executable).parent / "oxigraph"
    found = str(here) if here.is_file() else shutil.which("oxigraph")
    if not found:
        raise EndpointError("the oxigraph server was not found beside Python or on the PATH: pip install oxigraph")
    return found


class Backend:
    """Oxigraph ``serve-read-only`` on ``store``, reached only through :meth:`connect`, restarted when it dies.

    A host process (``host_main``) moves into a new network namespace (only a loopback interface, so nothing
    outside can connect to Oxigraph and Oxigraph can connect to nothing outside: SERVICE reaches no host),
    starts Oxigraph there under an address-space limit, and hands the guard each connection as a file
    descriptor over a socket pair. When the namespace cannot be made (no user namespaces and no
    CAP_SYS_ADMIN) Oxigraph listens on a loopback port instead, and ``isolated`` is False.

    If Oxigraph exits (a query over its memory limit), the host exits and the supervisor starts another on the
    same read-only store; more than ``max_restarts`` deaths within ``window_s`` seconds is a failure: ``failure``
    says why, ``on_failure`` is called, and :meth:`connect` refuses (503) from then on.
    """

    def __init__(
        self,
        store: Path,
        logfile: Path,
        timeout_s: float,
        memory_mb: int = 4096,
        max_restarts: int = 3,
        window_s: float = 60.0,
        on_failure: Callable[[str], None] | None = None,
        cleanup: Path | None = None,
        concurrency: int = 32,
    ) -> None:
        self.store, self.logfile, self.timeout_s, self.memory_mb = store, logfile, timeout_s, memory_mb
        self.max_restarts, self.window_s, self.on_failure, self.cleanup = max_restarts, window_s, on_failure, cleanup
        self.failure: str | None = None
        #: Queries Oxigraph runs at once (each is a thread of its own there, within its memory limit).
        self.slots = threading.BoundedSemaphore(concurrency)
        self.isolated = False
        self.oxigraph_pid: int | None = None
        self.deaths = 0
        self._recent: deque[float] = deque()
        self._ctl: socket.socket | None = None
        self._proc: subprocess.Popen | None = None
        self._ready = threading.Event()
        self._settled = threading.Event()  # the first start succeeded or failed
        self._lock = threading.Lock()
        self._stopping = False
        self._thread: threading.Thread | None = None

    @property
    def host_pid(self) -> int | None:
        return self._proc.pid if self._proc is not None else None

    def start(self) -> None:
        """Start the supervisor and wait for the first Oxigraph; EndpointError if it did not start."""
        self._thread = threading.Thread(target=self._supervise, name="spinekg-backend", daemon=True)
        self._thread.start()  # the host is started by this thread, so its parent-death signal outlives callers
        self._settled.wait()
        if not self._ready.is_set():
            self.stop()
            raise EndpointError(self.failure or "oxigraph did not start")

    def connect(self, deadline: float) -> socket.socket:
        """A new connection to Oxigraph, waiting for a restart until ``deadline``; EndpointError 503 if none."""
        if not self._ready.wait(max(0.0, deadline - time.monotonic())):
            raise EndpointError(self.failure or "the store is restarting: try again in a moment", 503)
        with self._lock:
            try:
                assert self._ctl is not None
                self._ctl.settimeout(max(0.5, deadline - time.monotonic()))
                self._ctl.send(b"c")
                _, fds, _, _ = socket.recv_fds(self._ctl, 1024, 1)
            except (OSError, AssertionError) as exc:
                raise EndpointError(f"the store did not accept a connection ({exc or 'restarting'})", 503) from exc
        if not fds:
            raise EndpointError("the store did not accept a connection: it is restarting", 503)
        sock = socket.socket(fileno=fds[0])
        sock.setblocking(True)  # the host's end was non-blocking; a caller that sets no timeout must not see EAGAIN
        return sock

    def died_since(self, deaths: int, wait_s: float) -> bool:
        """Whether Oxigraph died after ``deaths`` deaths had been counted (waiting up to ``wait_s`` to notice)."""
        until = time.monotonic() + wait_s
        while self.deaths == deaths and time.monotonic() < until:
            time.sleep(0.02)
        return self.deaths > deaths

    def stop(self) -> None:
        """Stop Oxigraph and its host (closing the socket pair ends the host, which ends Oxigraph)."""
        self._stopping = True
        self._ready.clear()
        with self._lock:
            if self._ctl is not None:
                self._ctl.close()
            self._ctl = None
        proc = self._proc
        if proc is not None:
            try:
                proc.wait(10)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(10)
        if self._thread is not None and self._thread is not threading.current_thread():
            self._thread.join(15)

    def _supervise(self) -> None:
        while not self._stopping:
            problem = self._spawn()
            self._settled.set()
            if problem is not None:
                return self._fail(problem)
            assert self._proc is not None
            code = self._proc.wait()
            self._ready.clear()
            with self._lock:
                if self._ctl is not None:
                    self._ctl.close()
                self._ctl = None
            if self._stopping:
                return
            self.deaths += 1
            now = time.monotonic()
            self._recent.append(now)
            while self._recent and self._recent[0] < now - self.window_s:
                self._recent.popleft()
            tail = _tail(self.logfile, 400)
            log.warning("the store (oxigraph) stopped (exit %s); restarting it. Log: %s", code, tail)
            if len(self._recent) > self.max_restarts:
                return self._fail(
                    f"the store (oxigraph) stopped {len(self._recent)} time{'s' if len(self._recent) > 1 else ''} "
                    f"within {self.window_s:g} s "
                    f"(last log lines: {tail.strip()[-300:]!r}); the endpoint stops"
                )

    def _fail(self, message: str) -> None:
        self.failure = message
        self._ready.clear()
        log.error("%s", message)
        if self.on_failure is not None and not self._stopping:
            self.on_failure(message)

    def _spawn(self) -> str | None:
        """Start a host and wait for its Oxigraph to listen; None, or why it did not start."""
        ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        config = {"store": str(self.store), "timeout_s": self.timeout_s, "memory_mb": self.memory_mb}
        config |= {"ctl": theirs.fileno(), "parent": os.getpid(), "cleanup": str(self.cleanup or "")}
        config["oxigraph"] = oxigraph_binary()
        with self.logfile.open("ab") as out:
            proc = subprocess.Popen(
                [sys.executable, "-I", str(HOST), json.dumps(config)],
                pass_fds=(theirs.fileno(),),
                stdin=subprocess.DEVNULL,
                stdout=out,
                stderr=subprocess.STDOUT,
            )
        theirs.close()
        ours.settimeout(60)
        try:
            hello = json.loads(ours.recv(65536) or b"{}")
        except (OSError, ValueError):
            hello = {}
        if not hello.get("ready"):
            ours.close()
            if proc.poll() is None:
                proc.kill()
            proc.wait(10)
            why = hello.get("failed") or f"exit status {proc.returncode}"
            return f"oxigraph serve-read-only did not start ({why}; log {self.logfile}):\n{_tail(self.logfile, 2000)}"
        with self._lock:
            self._ctl, self._proc = ours, proc
            self.isolated, self.oxigraph_pid = hello["isolated"], hello["pid"]
            if not self.isolated:
                log.warning("the store listens on a loopback port other local users can reach: %s", hello["why"])
            self._ready.set()
        return None


def _tail(path: Path, size: int) -> str:
    try:
        return path.read_bytes()[-size:].decode(errors="replace")
    except OSError:
        return ""
