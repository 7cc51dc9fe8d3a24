"""A case validated: its shape, then what the shape cannot say across fields (contradictions, weeks beyond a life),
and its graph."""

from __future__ import annotations

import copy
import functools
import math
from typing import TypeGuard, cast

from rdflib import Graph

from ..errors import CaseError
from ..kb.cache import cached
from ..kb.codes import split_curie
from ..kb.load import kb_version, shared_kb
from ..kb.mappings import resolve_for
from . import graph as casegraph
from .graph import Vocabulary
from .model import _WEEKS_PER_YEAR, MAX_WEEKS, Case, CaseProblem, case_iri, vocabulary
from .salvage import salvage_graph
from .spec import _Checker, _spec

__all__ = ["case_graph", "parse_case", "red_flag_features"]

# --- semantic checks ------------------------------------------------------------------------------------------


def _spots(entry: dict) -> frozenset:
    """Where a symptom is recorded: its body regions and dermatomes (empty: not placed)."""
    places = [p for f in ("body_regions", "dermatomes") if isinstance(entry.get(f), list) for p in entry[f]]
    return frozenset(p for p in places if isinstance(p, str))


def _meet(spots: frozenset, other: frozenset, present: bool) -> bool:
    """Whether a symptom recorded present in some places and absent in others says both of one place: an absence
    not placed is an absence everywhere; a presence not placed may be anywhere else than where it is absent.

    >>> _meet(frozenset({"dorsum_of_foot"}), frozenset({"saddle_region"}), True)
    False
    >>> _meet(frozenset({"L5"}), frozenset(), True), _meet(frozenset({"L5", "S1"}), frozenset({"S1"}), False)
    (True, True)
    """
    absent = other if present else spots
    return not absent or bool(spots & other)


def _contradictions(doc: dict, ck: _Checker) -> None:
    """What the case says twice, differently: the same finding recorded present and absent (symptoms with one
    laterality in one place, or an absence not placed: :func:`_meet`; imaging at one level; ``severity: none`` is an
    absence); a finding said ``present: true`` with ``severity: none``, or ``present: false`` with another severity
    or (a symptom) a duration; a laterality its region or type contradicts (:func:`_sides`)."""

    def scan(entries, where: str, field: str) -> None:
        seen: dict[tuple, list[tuple[str, frozenset]]] = {}
        for path, entry in entries:
            if not isinstance(entry, dict):
                continue
            ftype, present, place = entry.get("type"), entry.get("present", True), entry.get(where)
            if not (isinstance(ftype, str) and isinstance(present, bool) and isinstance(place, (str, type(None)))):
                continue
            severity = entry.get("severity")
            if not present and isinstance(severity, str) and severity != "none":
                why = "a severity other than none records the finding as present"
                ck.add(f"{path}.severity", severity, f"contradicts {path}.present: false ({why})")
                ck.dirty.add(path)
                continue
            dated = field == "symptom_types" and "duration_weeks" in entry  # a symptom's duration
            if not present and dated:  # present: false (a severity none with a duration is read as an absence)
                why = "an absent symptom has no duration"
                ck.add(f"{path}.duration_weeks", entry["duration_weeks"], f"contradicts {path}.present: false ({why})")
                ck.dirty.add(path)
                continue
            if present and severity == "none":
                if "present" in entry:
                    why = "severity none records the finding as absent"
                    ck.add(f"{path}.severity", "none", f"contradicts {path}.present: true ({why})")
                    ck.dirty.add(path)
                    continue
                present = False
            key = _type_key(ftype, ck.vocab, field)  # a code and the id it resolves to are one finding
            spots = _spots(entry) if field == "symptom_types" else frozenset()
            other = next(
                (o for o, o_spots in seen.get((key, place, not present), ()) if _meet(spots, o_spots, present)),
                None,
            )
            if other is not None:
                at = f"{where} {place!r}" if place is not None else f"no {where}"
                ck.add(path, ftype, f"contradicts {other}: recorded both present and absent (with {at})")
                ck.dirty.update({path, other})
            seen.setdefault((key, place, present), []).append((path, spots))

    symptoms = doc.get("symptoms")
    if isinstance(symptoms, list):
        _sides([(f"symptoms[{i}]", s) for i, s in enumerate(symptoms)], ck)
        scan([(f"symptoms[{i}]", s) for i, s in enumerate(symptoms)], "laterality", "symptom_types")
    scan(_imaging_findings(doc), "level", "imaging_finding_types")
    # a red-flag screen that found none beside a red-flag feature the case records is not refused: the plan raises
    # the red flag and says the screen is contradicted (warning red_flag_screen_contradicted; issue 12: "A screen that
    # says none found while a red flag is raised is a warning"). Refusing it left a patient with osteoporosis, or a
    # cancer years ago, whose clinician wrote "no red flags", with no plan at all (review R15 #6)


#: What is on both sides by what it is (a laterality other than bilateral contradicts it): the both-legs region ("a
#: symptom felt here is felt on both sides", anatomy.ttl) and a bilateral leg weakness
_BOTH_SIDES_REGIONS, _BOTH_SIDES_TYPES = frozenset({"both_legs"}), frozenset({"bilateral_leg_weakness"})
#: What runs down a leg, on one side or both: a midline laterality contradicts it
_LEG_TYPES = frozenset({"radicular_pain"})


def _sides(entries: list[tuple[str, object]], ck: _Checker) -> None:
    """A symptom's laterality that contradicts its place or type: ``body_regions: [both_legs]`` (or the type
    ``bilateral_leg_weakness``) on one side or the midline; a radicular pain in the midline (it is felt down a leg, on
    one side or both). The laterality is named, with the field it contradicts."""
    for path, entry in entries:
        side = entry.get("laterality") if isinstance(entry, dict) else None
        if not (isinstance(entry, dict) and isinstance(side, str) and side in ck.vocab.laterality):
            continue
        regions = entry.get("body_regions")
        regions = regions if isinstance(regions, list) else []
        both = [i for i, r in enumerate(regions) if isinstance(r, str) and r in _BOTH_SIDES_REGIONS]
        ftype = entry.get("type")
        key = _type_key(ftype, ck.vocab, "symptom_types") if isinstance(ftype, str) else None
        if side != "bilateral" and (both or key in _BOTH_SIDES_TYPES):
            where = f"{path}.body_regions[{both[0]}] ({regions[both[0]]!r})" if both else f"{path}.type ({ftype!r})"
            why = "that is on both sides: record laterality bilateral, or the one leg's own regions or dermatomes"
            ck.add(f"{path}.laterality", side, f"contradicts {where}: {why}")
            ck.dirty.add(path)
        elif side == "midline" and key in _LEG_TYPES:
            why = "a radicular pain runs down a leg, on one side or both (left, right or bilateral), not in the midline"
            ck.add(f"{path}.laterality", side, f"contradicts {path}.type ({ftype!r}): {why}")
            ck.dirty.add(path)


def _number(value: object) -> TypeGuard[int | float]:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)


def _beyond_lifetime(doc: dict, ck: _Checker) -> None:
    """Weeks longer than the patient has lived: a duration, a time since imaging or a treatment, or a treatment's
    length of more than the case's age in weeks (an age in whole years may be up to a year short, so a year is
    added)."""
    age = doc.get("age")
    if not (_number(age) and 0 <= age <= 120):
        return
    life = (age + 1) * _WEEKS_PER_YEAR
    places = [("symptoms", "duration_weeks"), ("imaging", "weeks_ago"), ("prior_treatments", "weeks")]
    places.append(("prior_treatments", "weeks_ago"))
    for field, key in places:
        entries = doc.get(field)
        for i, entry in enumerate(entries if isinstance(entries, list) else []):
            weeks = entry.get(key) if isinstance(entry, dict) else None
            if _number(weeks) and life < weeks <= MAX_WEEKS:
                ck.add(
                    f"{field}[{i}].{key}", weeks, f"is longer than the patient has lived (age {age}: {life:.0f} weeks)"
                )


def _imaging_findings(doc: dict) -> list[tuple[str, object]]:
    """(path, entry) of every imaging finding of a document, however malformed around them."""
    imaging = doc.get("imaging")
    if not isinstance(imaging, list):
        return []
    return [
        (f"imaging[{j}].findings[{k}]", f)
        for j, study in enumerate(imaging)
        if isinstance(study, dict) and isinstance(study.get("findings"), list)
        for k, f in enumerate(study["findings"])
    ]


@functools.lru_cache(maxsize=1)
def red_flag_features() -> casegraph.RedFlagFeatures:
    """What a case can record that is a red-flag feature by itself, read from the shared KB once."""

    return cached("red-flag-features", kb_version(), lambda: casegraph.read_red_flag_features(shared_kb()))


def _red_flag_features(doc: dict, vocab: Vocabulary) -> list[tuple[str, object, tuple[str, ...]]]:
    """(path, value, red flags) of each red-flag feature a document records: a risk factor, present symptom or
    present imaging finding whose type is a subclass of a red flag, or a vital sign or laboratory value past a
    threshold the KB defines as a red flag (``sk:fever_measured``). Flags that only classification infers from
    several facts (a bilateral weakness, a saddle-pattern numbness, an mJOA of 11) are not seen here."""
    features = red_flag_features()
    out: list[tuple[str, object, tuple[str, ...]]] = []

    def typed(path: str, value: object, field: str) -> None:
        if not isinstance(value, str):
            return
        term = getattr(vocab, field).get(_type_key(value, vocab, field))
        flags = features.types.get(str(term)) if term is not None else None
        if flags:
            out.append((path, value, flags))

    risk_factors = doc.get("risk_factors")
    for m, rf in enumerate(risk_factors if isinstance(risk_factors, list) else []):
        typed(f"risk_factors[{m}]", rf, "risk_factors")
    symptoms = doc.get("symptoms")
    entries = [
        (f"symptoms[{i}]", s, "symptom_types") for i, s in enumerate(symptoms if isinstance(symptoms, list) else [])
    ]
    entries += [(path, f, "imaging_finding_types") for path, f in _imaging_findings(doc)]
    for path, entry, field in entries:
        if isinstance(entry, dict) and not casegraph.is_absent(entry):
            typed(path, entry.get("type"), field)
    for field in casegraph.MEASURED:
        values = doc.get(field)
        for key, value in (values if isinstance(values, dict) else {}).items():
            term = getattr(vocab, field).get(key) if isinstance(key, str) else None
            if term is None or isinstance(value, bool) or not isinstance(value, (int, float)):
                continue
            if isinstance(value, float) and not math.isfinite(value):
                continue
            flags = features.flags_of_value(str(term), value)
            if flags:
                out.append((f"{field}.{key}", value, flags))
    return out


def _type_key(ftype: object, vocab: Vocabulary, field: str) -> object:
    """A finding type as the spinekg id a code resolves to (so ``SCTID:44077006`` and ``numbness`` are one)."""
    if split_curie(ftype) is None:
        return ftype

    term = resolve_for(cast(str, ftype), getattr(vocab, field), "").term  # a CURIE: a string
    return vocab.id_of(field, term) if term is not None else ftype


def parse_case(data: dict, source: str = "<dict>") -> Case:
    """Validate a case document; every problem is collected, then the case is rejected with all of them.

    >>> parse_case({"id": "c1", "age": 45, "symptoms": [{"type": "axial_pain"}]}).id
    'c1'
    >>> try:
    ...     parse_case({"id": "c2", "age": True, "symptoms": [{"type": "numbness", "dermatomes": ["L9"]}]})
    ... except CaseError as exc:
    ...     print(*exc.problems, sep="\\n")
    age: True is a boolean, not a number
    symptoms[0].dermatomes[0]: 'L9' is not a dermatome
    """
    return _validate(data, source, [], copy_data=True)


def _validate(data: object, source: str, found: list[CaseProblem], copy_data: bool = False) -> Case:
    """Validate ``data``; ``found`` are the problems the reader already met (duplicate keys).

    A caller's dict is copied (``copy_data``: the Case must not change when the caller's dict does); what a
    parser of ours made from text belongs to the Case already.
    """
    ck = _Checker(vocabulary())
    ck.problems.extend(found)
    if not isinstance(data, dict):
        ck.add("", data, "is not a mapping (a case is a mapping of fields such as id, age, symptoms)")
        raise CaseError(ck.problems, source=source)
    ck.keep_unmapped = data.get("unmapped_codes") == "warn"
    _spec(ck.vocab).check(data, "", ck)
    _contradictions(data, ck)
    _beyond_lifetime(data, ck)
    if ck.problems:
        bad = [p.path for p in ck.problems if p.path] + sorted(ck.dirty)
        raise CaseError(ck.problems, salvage=salvage_graph(data, ck.vocab, bad), source=source)
    return Case(id=data["id"], data=copy.deepcopy(data) if copy_data else data, source=source)


def case_graph(case: Case) -> Graph:
    """The RDF of a case (``sk:Case``, its patient, findings, absences, studies, treatments and scores).

    >>> from rdflib import URIRef
    >>> from reasoner.consts import RDF, SK
    >>> g = case_graph(parse_case({"id": "c3", "symptoms": [{"type": "urinary_retention"}]}))
    >>> (URIRef(case_iri("c3") + "/symptom/0"), RDF.type, SK.urinary_retention) in g
    True
    """
    return casegraph.document_graph(case.data, vocabulary(), case_iri(case.id))
