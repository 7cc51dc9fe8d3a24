"""``spinekg map``: the mappings of a spinekg term or of an external code, looked up both ways."""

from __future__ import annotations

from typing import cast

from ..case.lookup import Lookup, lookup
from ..kb.codes import SYSTEMS, System, split_curie
from ..kb.sssom import Mapping

_TSV_COLUMNS = ("subject_id", "subject_label", "predicate_id", "object_id", "object_label", "mapping_justification")


def _text(answers: list[Lookup]) -> str:
    """The mappings as lines, each code with its verification status in codes.csv (verified, corroborated...)."""
    lines = []
    for a in answers:
        if a.kind == "code":
            system = cast("tuple[System, str]", split_curie(a.key))[0].name  # a code: a known system
            label = a.mappings[0].object_label if a.mappings else ""
            status = f"; codes.csv: {a.mappings[0].status}" if a.mappings else ""
            lines.append(f"{a.key}  {label}  [{system}{status}]" if label else f"{a.key}  [{system}]")
            for m in a.mappings:
                what = {"exact": "the same", "close": "a close match"}.get(m.relation, f"the code is {m.relation}er")
                how = "stands for it in a case" if m.resolves else "does not stand for it in a case"
                lines.append(f"  {m.predicate_id:<17} {m.subject_id} ({m.subject_label}): {what}, {how}")
            if not a.mappings:
                lines.append("  no mapping to a spinekg term")
        else:
            lines.append(f"sk:{a.key}")
            for m in a.mappings:
                lines.append(f"  {m.predicate_id:<17} {m.object_id}  {m.object_label}  [codes.csv: {m.status}]")
            if not a.mappings:
                lines.append("  no mapping (see ontology/mappings/README.md for the terms left unmapped, and why)")
    return "\n".join(lines)


def cli_map(args) -> int:
    """``spinekg map CODE_OR_TERM [--format text|json|tsv]``: the mappings of a code or of a term.

    Exit status 0 with mappings found, 1 when the code or term has none, 2 when the text is neither a spinekg term
    nor a well-formed code of a known system.
    """
    import json
    import sys

    answers = lookup(args.code_or_term)
    bad = [a for a in answers if a.problem]
    if bad:
        print(f"spinekg: {args.code_or_term!r}: {bad[0].problem}", file=sys.stderr)
        return 2
    if not answers:
        print(
            f"spinekg: {args.code_or_term!r} is neither a spinekg term nor a code of a known system "
            f"(PREFIX:code with a prefix of {', '.join(SYSTEMS)})",
            file=sys.stderr,
        )
        return 2
    fmt = getattr(args, "format", "text") or "text"
    rows = [m for a in answers for m in a.mappings]
    if fmt == "json":
        out = [
            {"query": a.query, "kind": a.kind, "id": a.key, "mappings": [_row(m) for m in a.mappings]} for a in answers
        ]
        print(json.dumps(out, indent=2, ensure_ascii=False))
    elif fmt == "tsv":
        print("\t".join((*_TSV_COLUMNS, "resolves", "status", "source")))
        for m in rows:
            print("\t".join((*(getattr(m, c) for c in _TSV_COLUMNS), str(m.resolves).lower(), m.status, m.source)))
    else:
        print(_text(answers))
    return 0 if rows else 1


def _row(m: Mapping) -> dict:
    return {
        **{c: getattr(m, c) for c in _TSV_COLUMNS},
        "relation": m.relation,
        "resolves": m.resolves,
        "status": m.status,
        "comment": m.comment,
        "source": m.source,
    }
