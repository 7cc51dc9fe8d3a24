"""``spinekg map``: the mappings of a spinekg term or of an external code, looked up both ways."""

from __future__ import annotations

from dataclasses import dataclass, field

from .codes import SYSTEMS, curie_of_iri, split_curie
from .consts import SK
from .mappings import Mapping, _index, resolve


@dataclass(frozen=True)
class Lookup:
    """The answer of ``spinekg map``: what was asked, as what (a code or a term), and the mapping rows."""

    query: str
    kind: str  # code | term
    key: str  # the CURIE or the term id
    mappings: tuple[Mapping, ...] = field(default_factory=tuple)
    problem: str | None = None


def lookup(text: str) -> list[Lookup]:
    """Look a code or a term up both ways: ``SCTID:44077006``, a code IRI, a bare code (``M51.36``), or a spinekg
    term (``numbness``, ``sk:numbness``, its IRI). One answer per way the text can be read; none when it is neither.

    >>> [(x.kind, x.key, [m.term for m in x.mappings]) for x in lookup("26538006")]
    [('code', 'SCTID:26538006', ['degenerative_disc_disease'])]
    >>> [m.object_id for m in lookup("sk:paresthesia")[0].mappings]
    ['HP:0003401', 'ICD10CM:R20.2']
    """
    from .case import vocabulary

    by_code, by_term = _index()
    text = text.strip()
    if (curie := curie_of_iri(text)) is not None:
        text = curie
    if split_curie(text) is not None:
        r = resolve(text)
        return [Lookup(text, "code", text, r.mappings, r.problem)]
    term = text.removeprefix(str(SK)).removeprefix("sk:")
    vocab = vocabulary()
    known = {str(v).removeprefix(str(SK)) for f in vocab.__dataclass_fields__ for v in getattr(vocab, f).values()}
    out = []
    if term in by_term or term in known:
        out.append(Lookup(text, "term", term, by_term.get(term, ())))
    for code in sorted(c for c in by_code if c.split(":", 1)[1] in (text, f"RPID{text}")):
        out.append(Lookup(text, "code", code, by_code[code]))
    return out


_TSV_COLUMNS = ("subject_id", "subject_label", "predicate_id", "object_id", "object_label", "mapping_justification")


def _text(answers: list[Lookup]) -> str:
    lines = []
    for a in answers:
        if a.kind == "code":
            system = split_curie(a.key)[0].name
            label = a.mappings[0].object_label if a.mappings else ""
            lines.append(f"{a.key}  {label}  [{system}]".rstrip() if label else f"{a.key}  [{system}]")
            for m in a.mappings:
                what = {"exact": "the same", "close": "a close match"}.get(m.relation, f"the code is {m.relation}er")
                how = "stands for it in a case" if m.resolves else "does not stand for it in a case"
                lines.append(f"  {m.predicate_id:<17} {m.subject_id} ({m.subject_label}): {what}, {how}")
            if not a.mappings:
                lines.append("  no mapping to a spinekg term")
        else:
            lines.append(f"sk:{a.key}")
            for m in a.mappings:
                lines.append(f"  {m.predicate_id:<17} {m.object_id}  {m.object_label}")
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
        print("\t".join((*_TSV_COLUMNS, "resolves", "source")))
        for m in rows:
            print("\t".join((*(getattr(m, c) for c in _TSV_COLUMNS), str(m.resolves).lower(), m.source)))
    else:
        print(_text(answers))
    return 0 if rows else 1


def _row(m: Mapping) -> dict:
    return {
        **{c: getattr(m, c) for c in _TSV_COLUMNS},
        "relation": m.relation,
        "resolves": m.resolves,
        "comment": m.comment,
        "source": m.source,
    }
