"""``spinekg serve``: the KB and loaded cases over the SPARQL 1.1 Protocol, behind the read-only guard."""

from __future__ import annotations

import argparse

from ..sparql.endpoint import (
    serve,
)


def cli_serve(args: argparse.Namespace) -> int:
    """``spinekg serve [--case FILE …] [--host H] [--port N] [--timeout S] [--max-rows N] [--allow-remote]``
    ``[--max-result-bytes N] [--backend-memory MB] [--request-deadline S]``.

    >>> cli_serve(argparse.Namespace(case=[], host="0.0.0.0", port=0, timeout=10, max_rows=10000))
    Traceback (most recent call last):
    ...
    reasoner.errors.UsageError: --host 0.0.0.0: not a loopback address; ...
    """
    limits = {
        name: getattr(args, option)
        for name, option in (
            ("max_result_bytes", "max_result_bytes"),
            ("backend_memory_mb", "backend_memory"),
            ("request_deadline_s", "request_deadline"),
        )
        if getattr(args, option, None) is not None
    }
    return serve(
        cases=list(getattr(args, "case", None) or []),
        host=getattr(args, "host", "127.0.0.1"),
        port=getattr(args, "port", 7878),
        timeout_s=getattr(args, "timeout", 10.0),
        max_rows=getattr(args, "max_rows", 10000),
        allow_remote=getattr(args, "allow_remote", False),
        **limits,
    )
