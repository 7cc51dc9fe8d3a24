"""The ``spinekg`` command line: parse arguments, call the library, print."""

from __future__ import annotations

import argparse
import gc
import os
import sys

from ..errors import SpinekgError, UsageError
from .parser import build_parser

#: The commands that reason about one case and exit: they run with the cyclic garbage collector off. Loading the
#: knowledge base makes hundreds of thousands of long-lived objects, which it would walk about 130 times for nothing
#: (about 30 ms of a cold ``spinekg recommend``); the little cyclic garbage one case leaves goes with the process.
ONE_CASE_COMMANDS = frozenset({"recommend", "explain", "why-not", "graph"})

#: The exit status of a run whose reader closed standard output (``spinekg … | head -1``): 128 + SIGPIPE, as a
#: command killed by the signal gives; nothing is printed.
EXIT_PIPE_CLOSED = 141


class _PipeClosed(Exception):
    """The reader of standard output went away."""


class _StdoutError(UsageError):
    """Standard output cannot be written (a full device, an I/O error): exit status 2."""


class _Stdout:
    """Standard output that turns a failed write into an exit-2 error (a full device: ``> /dev/full``) or, for a
    closed pipe, into a quiet exit; everything else is the stream's own."""

    def __init__(self, stream) -> None:
        self._stream = stream

    def _guard(self, call, *args):
        try:
            return call(*args)
        except BrokenPipeError:
            raise _PipeClosed from None
        except OSError as exc:
            raise _StdoutError(f"standard output: cannot write: {exc.strerror or exc}") from None

    def write(self, text: str) -> int:
        return self._guard(self._stream.write, text)

    def flush(self) -> None:
        self._guard(self._stream.flush)

    def __getattr__(self, name: str):
        return getattr(self._stream, name)


def _silence_stdout() -> None:
    """Point file descriptor 1 at /dev/null, so the interpreter's last flush of what could not be written does
    not fail again (and print a traceback) at exit."""
    try:
        fd = sys.stdout.fileno()
    except (AttributeError, OSError, ValueError):  # not a real file (a test's capture)
        return
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, fd)
    os.close(devnull)


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    real = sys.stdout
    sys.stdout = _Stdout(real)
    collecting = gc.isenabled()
    if args.command in ONE_CASE_COMMANDS:
        gc.disable()
        if argv is None:  # the program itself (not main() called in another): one case, in a fresh process
            from ..api import prefer_engine

            prefer_engine("oxigraph")  # the embedded store starts faster; the plans are the same
    try:
        status = _dispatch(args)
        sys.stdout.flush()
        return status
    except SpinekgError as exc:
        print(f"spinekg: {exc}", file=sys.stderr)
        if isinstance(exc, _StdoutError):
            _silence_stdout()
        return exc.exit_code
    except _PipeClosed:
        _silence_stdout()
        return EXIT_PIPE_CLOSED
    except KeyboardInterrupt:  # Ctrl-C: one line, no traceback (a cohort says what it kept before this)
        print("spinekg: interrupted", file=sys.stderr)
        return 130
    finally:
        sys.stdout = real
        if collecting:  # as the caller had it (main() also runs inside other programs and the tests)
            gc.enable()


def _dispatch(args: argparse.Namespace) -> int:
    """Run one command; each command's module is imported when it runs (a cold ``spinekg`` starts fast)."""
    if args.command in ("recommend", "explain", "why-not", "graph"):
        from .plans import check_case_and_output

        check_case_and_output(args.case, getattr(args, "output", None))
    if args.command in ("recommend", "explain", "why-not"):
        from .plans import plan_command

        return plan_command(args)
    if args.command == "graph":
        from .graph import cli_graph

        return cli_graph(args)
    if args.command in ("query", "sparql"):
        from .query import cli_query, cli_sparql

        return (cli_query if args.command == "query" else cli_sparql)(args)
    if args.command == "cohort":
        from .cohort import cohort

        return cohort(args)
    if args.command == "map":
        from .map import cli_map

        return cli_map(args)
    if args.command == "serve":
        from .serve import cli_serve

        return cli_serve(args)
    if args.command == "kb":
        from . import knowledge

        return getattr(knowledge, args.kb_command)(args)
    raise AssertionError(args.command)
