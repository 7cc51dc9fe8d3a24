"""Codes resolved through the SSSOM mappings: what a code stands for, whether a case may use it, what is unmapped."""

from __future__ import annotations

import functools
import re
from collections.abc import Iterable
from collections.abc import Mapping as Table
from dataclasses import dataclass
from typing import cast

from rdflib import URIRef

from ..case.paths import field_path, path_key
from ..consts import RDFS, SK
from .codes import SYSTEMS, System, curie_of_iri, split_curie
from .load import shared_kb
from .sssom import Mapping, all_mappings

__all__ = ["Resolution", "case_code_problem", "code_side_warnings", "resolve", "resolve_for", "unmapped_code_warnings"]


# --- lookup and resolution -----------------------------------------------------------------------------------


@functools.lru_cache(maxsize=1)
def _index() -> tuple[dict[str, tuple[Mapping, ...]], dict[str, tuple[Mapping, ...]]]:
    by_code: dict[str, list[Mapping]] = {}
    by_term: dict[str, list[Mapping]] = {}
    for m in all_mappings():
        by_code.setdefault(m.object_id, []).append(m)
        by_term.setdefault(m.term, []).append(m)
    return ({k: tuple(v) for k, v in by_code.items()}, {k: tuple(v) for k, v in by_term.items()})


@dataclass(frozen=True)
class Resolution:
    """What a code stands for: the spinekg terms it establishes (exact or narrower), the ones it only
    approaches (close or broader), or what is wrong with the code itself.

    ``mappings`` are every row that names the code; ``terms`` the subjects of its exact and narrow rows.
    """

    code: str
    problem: str | None = None
    mappings: tuple[Mapping, ...] = ()

    @property
    def terms(self) -> tuple[URIRef, ...]:
        return tuple(dict.fromkeys(m.subject for m in self.mappings if m.resolves))

    @property
    def partial(self) -> tuple[Mapping, ...]:
        return tuple(m for m in self.mappings if not m.resolves)


def resolve(curie: str) -> Resolution:
    """Resolve ``PREFIX:code`` through the mappings.

    >>> [str(t) for t in resolve("SCTID:44077006").terms]
    ['https://w3id.org/spinekg/numbness']
    >>> r = resolve("ICD10CM:M51.36")
    >>> r.terms, [(m.term, m.relation) for m in r.partial]
    ((), [('degenerative_disc_disease', 'broad')])
    >>> resolve("SCTID:44077007").problem
    'the Verhoeff check digit of this SNOMED CT id fails'
    """
    hit = split_curie(curie)
    if hit is None:
        return Resolution(curie, f"is not PREFIX:code with a known prefix ({', '.join(SYSTEMS)})")
    system, code = hit
    if (problem := system.problem(code)) is not None:
        return Resolution(curie, problem)
    return Resolution(curie, None, _index()[0].get(curie, ()))


@dataclass(frozen=True)
class FieldResolution:
    """A code given in a case field: the term it stands for there (None: unmapped), or why it cannot be used.

    ``unmapped`` is the reason a code establishes no term (no mapping, or only close or broad ones); such a code
    is an error unless the case keeps unmapped codes (``unmapped_codes: warn``).
    """

    code: str
    term: URIRef | None = None
    problem: str | None = None
    unmapped: str | None = None
    system: str = ""


def resolve_for(curie: str, allowed: Table[str, URIRef], noun: str) -> FieldResolution:
    """Resolve a code where a case expects one of ``allowed`` (a vocabulary field: id → IRI), called ``noun``.

    >>> from reasoner.case.model import vocabulary
    >>> resolve_for("SCTID:44077006", vocabulary().symptom_types, "a symptom type").term
    rdflib.term.URIRef('https://w3id.org/spinekg/numbness')
    >>> print(resolve_for("SCTID:26538006", vocabulary().symptom_types, "a symptom type").problem)
    maps to degenerative_disc_disease, which is not a symptom type
    """
    r = resolve(curie)
    system = cast("tuple[System, str]", split_curie(curie))[0].name if split_curie(curie) else ""
    if r.problem is not None:
        return FieldResolution(curie, problem=f"is not a valid {system or 'external'} code: {r.problem}", system=system)
    iris = set(allowed.values())
    here = [t for t in r.terms if t in iris]
    if len(here) == 1:
        return FieldResolution(curie, term=here[0], system=system)
    if len(here) > 1:
        names = ", ".join(sorted(t.removeprefix(str(SK)) for t in here))
        problem = f"maps to several spinekg terms ({names}); give the spinekg id"
        return FieldResolution(curie, problem=problem, system=system)
    if r.terms:
        names = ", ".join(sorted(t.removeprefix(str(SK)) for t in r.terms))
        return FieldResolution(curie, problem=f"maps to {names}, which is not {noun}", system=system)
    return FieldResolution(curie, unmapped=_why_unmapped(r), system=system)


def _why_unmapped(r: Resolution) -> str:
    """Why a code that resolves to nothing establishes no term: no mapping, or only close or broader ones."""
    if not r.partial:
        return "has no mapping to a spinekg term (ontology/mappings/)"
    parts = "; ".join(
        f"{'broader than' if m.relation == 'broad' else 'a close match of'} {m.term} ({m.predicate_id})"
        for m in r.partial
    )
    return (
        f"establishes no spinekg term: the code is only {parts}, and a broader or merely close code is not "
        "evidence of the spinekg term, so it does not stand for it"
    )


def case_code_problem(curie: str, allowed: Table[str, URIRef], noun: str, keep_unmapped: bool) -> str | None:
    """What the case reader says about a code given where one of ``allowed`` is expected, or None when it may
    stand: it resolves to one term of the field, or it establishes none and the case keeps unmapped codes.

    >>> from reasoner.case.model import vocabulary
    >>> print(case_code_problem("SCTID:22298006", vocabulary().symptom_types, "a symptom type", False)[:59])
    has no mapping to a spinekg term (ontology/mappings/); give
    >>> case_code_problem("SCTID:22298006", vocabulary().symptom_types, "a symptom type", True) is None
    True
    """
    r = resolve_for(curie, allowed, noun)
    if r.problem is not None:
        return r.problem
    flags = _red_flags_named(curie) if r.unmapped is not None else []
    if flags:  # safety over fidelity: a coded red flag is never kept as a finding that matches nothing
        return (
            f"names a red flag ({'; '.join(flags)}) but no finding type of this field; a red flag is never kept as "
            "an unmapped finding: record the findings it rests on (e.g. saddle numbness, urinary retention)"
        )
    if r.unmapped is not None and not keep_unmapped:
        return f"{r.unmapped}; give the spinekg id, or set unmapped_codes: warn to keep it as an unmapped finding"
    return None


def _red_flags_named(curie: str) -> list[str]:
    """The red flags a code is mapped to by any predicate (close and broader included), as ``label (predicate)``.

    >>> _red_flags_named("SCTID:192970008")
    ['suspected cauda equina syndrome (skos:closeMatch)']
    """
    kb = shared_kb()
    flags = {s for s in kb.subjects(RDFS.subClassOf, SK.RedFlag)}
    return [
        f"{kb.value(m.subject, RDFS.label) or m.subject} ({m.predicate_id})"
        for m in resolve(curie).mappings
        if m.subject in flags
    ]


_SK = str(SK)


def unmapped_code_warnings(case_iri: str, fact_types: Table[str, Iterable[str]]) -> list[tuple]:
    """``(id, message, subjects)`` of the plan warnings for the findings a case kept as unmapped codes: a case
    fact typed by a code IRI that establishes none of the fact's spinekg types.

    >>> unmapped_code_warnings("https://w3id.org/spinekg/case/x", {
    ...     "https://w3id.org/spinekg/case/x/symptom/0": {str(SK.Symptom), "http://snomed.info/id/22298006"}})[0][2]
    ('symptoms[0]', 'SCTID:22298006')
    """
    out = []
    for fact, types in fact_types.items():
        types = set(types)
        for t in sorted(t for t in types if not t.startswith(_SK)):  # a spinekg term is no code
            curie = curie_of_iri(t)
            if curie is None or {str(x) for x in resolve(curie).terms} & types:
                continue
            where = field_path(case_iri, fact)
            message = (
                f"{where}: {curie} {_why_unmapped(resolve(curie))}; the finding is kept as unmapped, with its code, "
                "and no condition on a specific finding type matches it"
            )
            out.append(("unmapped_code", message, (where, curie)))
    return sorted(out, key=lambda w: path_key(w[2][0]))


#: a side named in a code's display (the mapping's object label, from codes.csv): a word, not a structured fact
_SIDE_WORD = re.compile(r"\b(left|right|bilateral)\b", re.IGNORECASE)
_LATERALITY = str(SK.laterality)


def code_side_warnings(
    case_iri: str, fact_types: Table[str, Iterable[str]], details: Table[str, Table[str, Iterable[str]]]
) -> list[tuple]:
    """``(id, message, subjects)`` of the plan warnings for a finding given as a code whose display names a side
    ("Sciatica, right side") and recorded with no laterality (or side). spinekg reads a side only from that field:
    the code's side is a word in its display, not a fact of the knowledge base, so it is not used, and the plan says
    so rather than read the finding as unsided in silence.

    >>> case = "https://w3id.org/spinekg/case/x"
    >>> unsided = {case + "/symptom/0": {str(SK.radicular_pain), "http://purl.bioontology.org/ontology/ICD10CM/M54.31"}}
    >>> code_side_warnings(case, unsided, {})[0][2]
    ('symptoms[0]', 'ICD10CM:M54.31')
    >>> code_side_warnings(case, unsided, {case + "/symptom/0": {_LATERALITY: {str(SK.right)}}})
    []
    """
    out = []
    for fact, types in fact_types.items():
        if details.get(fact, {}).get(_LATERALITY):
            continue
        for t in sorted(t for t in types if not t.startswith(_SK)):
            curie = curie_of_iri(t)
            if curie is None:
                continue
            named = sorted({m.object_label for m in resolve(curie).mappings if _SIDE_WORD.search(m.object_label)})
            if not named:
                continue
            where = field_path(case_iri, fact)
            field = "side" if where.startswith("imaging[") else "laterality"
            message = (
                f"{where} is given as {curie} ({'; '.join(repr(n) for n in named)}), whose display names a side, and "
                f"records no {field}: spinekg takes a finding's side only from its {field}, not from a code's "
                f"display, so this finding has no side in the plan; record the {field} the code names and plan again"
            )
            out.append(("code_side_not_used", message, (where, curie)))
    return sorted(out, key=lambda w: path_key(w[2][0]))
