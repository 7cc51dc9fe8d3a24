"""The case's facts in words, as a clinician reads them: "numbness, bilateral, buttock + S2, S3"."""

from __future__ import annotations

from collections.abc import Callable, Iterable

from ..case.paths import field_path, path_key
from ..consts import RDF, SK, SK_IRI
from ..kb.codes import curie_of_iri
from ..kb.index import KBIndex, local

_GENERIC = {
    str(SK[n]) for n in ("Finding", "Symptom", "ImagingFinding", "ClinicalFinding", "RiskFactor", "Measurement")
}
# the IRIs fact_text tests, as strings made once (it runs for every fact of every case)
_TYPE, _ABSENCE, _PRIOR, _SCREEN, _STUDY, _PATIENT = (
    str(RDF.type),
    *(SK_IRI + n for n in ("FindingAbsence", "PriorTreatment", "RedFlagScreen", "ImagingStudy", "Patient")),
)


def _number(text: str) -> str:
    try:
        return f"{float(text):g}"
    except ValueError:
        return text


def fact_text(idx: KBIndex, details: dict[str, set[str]]) -> str:
    """One recorded fact in words, from what the case records of it (property IRI → values).

    >>> from reasoner.reasoning.engine import Reasoner
    >>> idx = Reasoner().index
    >>> sk = "https://w3id.org/spinekg/"
    >>> fact_text(idx, {str(RDF.type): {sk + "numbness"}, sk + "laterality": {sk + "bilateral"},
    ...                 sk + "inBodyRegion": {sk + "buttock"}, sk + "inDermatome": {sk + "dermatome_S2"}})
    'numbness, bilateral, buttock + S2'
    >>> fact_text(idx, {str(RDF.type): {sk + "RiskFactor", "http://purl.bioontology.org/ontology/ICD10CM/I71.40"}})
    'unmapped code ICD10CM:I71.40'
    """

    def values(prop: str) -> list[str]:
        found = details.get(SK_IRI + prop)
        return sorted(found) if found else []

    types = [t for t in sorted(details.get(_TYPE, ())) if t.startswith(SK_IRI) and t not in _GENERIC]
    parts: list[str] = []
    if _ABSENCE in types:
        absent = [idx.label(t) for t in values("absentType") if t.startswith(SK_IRI)]
        parts.append("no " + (" / ".join(absent) or "finding"))
    elif _PRIOR in types:
        parts.append(", ".join(idx.label(t) for t in values("treatmentType")))
    elif _SCREEN in types:
        parts.append("red-flag screen: " + ", ".join(local(v).replace("_", " ") for v in values("screenResult")))
    elif _STUDY in types:
        parts.append(" ".join(idx.label(m) for m in values("modality")) or "imaging study")
        parts += [("current" if float(v) == 0 else f"{_number(v)} weeks ago") for v in values("weeksAgo")]
    elif _PATIENT in types:
        parts += [f"{_number(v)} years" for v in values("age")] + [local(v) for v in values("sex")]
    else:
        named = " / ".join(idx.label(t) for t in types if t != _PRIOR)
        if not named:  # a finding kept as an unmapped code (unmapped_codes: warn) is shown by its code
            codes = [
                c for t in sorted(details.get(_TYPE, ())) if not t.startswith(SK_IRI) for c in [curie_of_iri(t)] if c
            ]
            named = " / ".join(f"unmapped code {c}" for c in codes)
        parts.append(named or "finding")
    parts += [local(v) for v in values("laterality")]
    where = [idx.label(r) for r in values("inBodyRegion")]
    where += [idx.notation(d) for d in sorted(values("inDermatome"), key=lambda d: (len(d), d))]
    if where:
        parts.append(" + ".join([where[0]] if len(where) == 1 else [where[0], ", ".join(where[1:])]))
    parts += [idx.notation(v) for v in values("atDiscLevel") + values("atSpinalLevel")]
    parts += [local(v).removeprefix("zone_") + " zone" for v in values("zone")]
    parts += [local(v).removeprefix("severity_") for v in values("severity")]
    parts += [f"MRC {_number(v)}/5" for v in values("mrcGrade")]
    parts += [_number(v) for v in values("scoreValue") + values("measuredValue")]
    parts += [f"{_number(v)} week{'' if _number(v) == '1' else 's'}" for v in values("durationWeeks") + values("weeks")]
    parts += [("up to now" if float(v) == 0 else f"{_number(v)} weeks ago") for v in values("treatmentWeeksAgo")]
    parts += ["progressive" for v in values("progressive") if v == "true"]
    parts += ["new" for v in values("isNew") if v == "true"]
    parts += [local(v).replace("_", " ") for v in values("outcome")]
    return ", ".join(p for p in parts if p)


class Words:
    """The facts of one case in words, made once per fact."""

    def __init__(
        self,
        idx: KBIndex,
        case: str,
        details: dict[str, dict[str, set[str]]],
        candidacy: Callable[[], tuple[str, ...]] | None = None,
    ):
        """``candidacy`` gives what the case records the patient as a candidate for (the candidacy IRIs): the words
        of the case itself where a condition names it (``candidate_for``: "candidate for injection"), asked only
        then (most steps do not rest on a candidacy)."""
        self.idx, self.case, self.details, self._candidacy = idx, case, details, candidacy
        self._done: dict[str, str] = {}
        self._triggers: dict[str, tuple[str, str]] = {}

    def text(self, fact: str) -> str:
        if fact not in self._done:
            found = self.details.get(fact)
            said = self._candidacy() if fact == self.case and self._candidacy is not None else ()
            if said:
                self._done[fact] = "candidate for " + ", ".join(local(c).removesuffix("_candidate") for c in said)
            else:
                self._done[fact] = fact_text(self.idx, found) if found else field_path(self.case, fact)
        return self._done[fact]

    def trigger(self, fact: str) -> tuple[str, str]:
        """(path, "words — path")."""
        made = self._triggers.get(fact)
        if made is None:
            path = field_path(self.case, fact)
            made = self._triggers[fact] = (path, f"{self.text(fact)} — {path}")
        return made

    def summary(self) -> tuple[str, ...]:
        """The case as recorded, a line a fact, in field order."""
        lines = [(field_path(self.case, f), self.text(f)) for f in self.details]
        return tuple(f"{path}: {text}" for path, text in sorted(lines, key=lambda x: path_key(x[0])) if text)


STANCE_WORDS = {"do": "do", "consider": "consider", "avoid": "do not"}


def steps_named(steps) -> str:
    """Plan steps as a warning names them: "step 3 (do NSAIDs), step 9 (do not bed rest)"."""
    return ", ".join(f"step {s.number} ({STANCE_WORDS[s.stance]} {s.label})" for s in steps)


def until_excluded(flags: list[tuple[str, str]], join: str = " and ") -> str:
    """Until when deferred care waits, in words: each red flag's label and until when it holds care back
    (:meth:`reasoner.kb.index.KBIndex.held_until`), those that wait for the same thing together.

    >>> until_excluded([("suspected spinal infection", "is excluded")])
    'until suspected spinal infection is excluded'
    >>> until_excluded([("suspected vertebral fracture", "is excluded"), ("suspected spinal infection", "is excluded")])
    'until suspected vertebral fracture and suspected spinal infection are excluded'
    >>> until_excluded([("suspected fracture", "is excluded"), ("instability", "has been assessed by a surgeon")])
    'until suspected fracture is excluded and instability has been assessed by a surgeon'
    >>> until_excluded([("instability", "has been assessed"), ("severe myelopathy", "has been assessed")])
    'until instability and severe myelopathy have been assessed'
    """
    groups: dict[str, list[str]] = {}
    for label, until in flags:
        groups.setdefault(until, []).append(label)
    parts = []
    for until, labels in groups.items():
        if len(labels) > 1:  # the verb agrees: "are excluded", "have been assessed"
            verb, _, rest = until.partition(" ")
            until = f"{_PLURAL.get(verb, verb)} {rest}"
        parts.append(f"{join.join(labels)} {until}")
    return f"until {' and '.join(parts)}"


_PLURAL = {"is": "are", "has": "have", "was": "were"}


def deferred_why(idx: KBIndex, flags: list[str], confirmed: Iterable[str]) -> tuple[str, str]:
    """Why a recommendation waits for red flags, and its timing on the deferred list: until those the case only
    suspects are excluded (or assessed), and while those it confirms stand (``confirmed``: no work-up excludes them;
    only a "do not" of imaging waits on them, for it is advice for a presentation without a specific cause).

    >>> from reasoner.kb.load import load_kb
    >>> idx = KBIndex(load_kb())
    >>> deferred_why(idx, [SK_IRI + "infection_suspected"], ())[1]
    'deferred until suspected spinal infection is excluded'
    >>> why, timing = deferred_why(idx, [SK_IRI + "fracture_suspected"], [SK_IRI + "fracture_suspected"])
    >>> timing
    'deferred while suspected vertebral fracture stands (confirmed)'
    """
    sure = set(confirmed)
    held = [(idx.label(f), idx.held_until(f)) for f in flags if f not in sure]
    seen = [idx.label(f) for f in flags if f in sure]
    stands = f"while {' and '.join(seen)} stand{'s' * (len(seen) == 1)} (confirmed)" if seen else ""
    timing = " and ".join(w for w in (until_excluded(held) if held else "", stands) if w)
    why = f"deferred {until_excluded(held, ', ')}: resume it then" if held else "deferred"
    if seen:
        why += (
            f"{',' if held else ''} {stands}: confirmed, not a suspicion a work-up will exclude; advice against "
            "imaging for a presentation without a specific cause does not stand beside it"
        )
    return f"{why} (red flag {', '.join(local(f) for f in flags)})", f"deferred {timing}"
