"""``spinekg query | sparql``: the query library and ad-hoc SPARQL over the KB and loaded cases."""

from __future__ import annotations

import sys

from ..errors import SpinekgError
from ..sparql.library import describe, run, run_any, split_param, unmatched_parameters
from ..sparql.results import ResultTable, format_table


def cli_query(args) -> int:
    """``spinekg query [NAME] [--param k=v …] [--case CASE …] [--format table|csv|tsv|json]``; status 0 or 2.

    ``args`` (argparse): ``query`` (a library name; None lists the library), ``param`` (list of ``k=v``),
    ``case`` (list of paths), ``format``; optional ``engine``.

    >>> import argparse
    >>> cli_query(argparse.Namespace(query="nope", param=None, case=None, format="table"))
    2
    """
    if args.query is None:
        print(describe())
        return 0
    return _cli(run, args)


def cli_sparql(args) -> int:
    """``spinekg sparql QUERY [--case CASE …] [--format …]``: QUERY is a file (``*.rq``) or the query text.

    ``args`` (argparse): ``query``, ``case`` (list of paths), ``format`` (table, csv, tsv, json; a graph result
    also ttl, nt, jsonld); optional ``param`` (list of ``k=v``) and ``engine``.

    >>> import argparse
    >>> cli_sparql(argparse.Namespace(query="ASK { sk:rec_000_01 a sk:Recommendation }", case=None, format="json"))
    {
      "head": {},
      "boolean": true
    }
    0
    """
    return _cli(run_any, args)


def _cli(runner, args) -> int:
    try:
        params = dict(split_param(p) for p in (getattr(args, "param", None) or []))
        result = runner(args.query, params, args.case or [], getattr(args, "engine", None) or "oxigraph")
        text = format_table(result, args.format or "table")
        print(text, end="" if text.endswith("\n") else "\n")  # CSV ends in its own CRLF
        if isinstance(result, ResultTable) and not result.rows and params:
            for p in unmatched_parameters(params, args.case or []):
                where = "the knowledge base" + (" or the cases given" if args.case else "")
                print(f"spinekg: note: no rows; --param {p} names nothing in {where}: check the id", file=sys.stderr)
    except SpinekgError as exc:
        print(f"spinekg: {exc}", file=sys.stderr)
        return exc.exit_code
    return 0
