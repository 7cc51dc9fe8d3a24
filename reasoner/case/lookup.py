"""``spinekg map``: the mappings of a spinekg term or of an external code, looked up both ways."""

from __future__ import annotations

from dataclasses import dataclass, field

from ..case.model import vocabulary
from ..consts import SK
from ..kb.codes import curie_of_iri, split_curie
from ..kb.mappings import _index, resolve
from ..kb.sssom import Mapping


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
