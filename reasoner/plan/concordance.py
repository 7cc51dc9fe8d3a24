"""Dermatome–imaging concordance: which symptomatic dermatomes the imaging findings can explain, and how."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, cast

from ..case.paths import field_path, path_key
from ..consts import SK, SK_IRI
from ..kb.index import local
from .model import Step, Warning
from .words import fact_text, steps_named

if TYPE_CHECKING:
    from rdflib import Literal

    from ..reasoning.engine import CaseRun, Reasoner

VIA = {
    "exitingRoot": "foraminal (exiting root)",
    "traversingRoot": "paracentral or lateral recess (traversing root)",
    "centralCanalReaches": "central canal",
}
#: How a herniation recorded without a zone may reach a root (``sk:possible_root_compression``): not known to.
POSSIBLY = "only if foraminal or far lateral (exiting root): the zone on the imaging report decides"
#: How a compressive finding recorded without a level may reach a root (``sk:level_unknown_root_compression``).
POSSIBLY_AT_A_LEVEL = "only at a level that reaches this root: the level on the imaging report decides"
NO_LEVEL = "level not recorded"
BOTH = ("left", "right")
IMAGING_ONLY = "imaging only: no symptom recorded in this dermatome"
#: A dermatome only a herniation without a zone could explain: the zone on the imaging report decides it.
ZONE_UNKNOWN = "unknown: the zone is not recorded"
#: A dermatome only a compressive finding without a level could explain: the level on the imaging report decides it.
LEVEL_UNKNOWN = "unknown: the level is not recorded"
#: A symptomatic dermatome of a case that records no imaging study: nothing says whether imaging would explain it (a
#: missing fact is reported as missing, never as false)
NOT_IMAGED = "unknown: no imaging is recorded"
#: A dermatome no imaging finding explains that only a body region spans, of symptoms that record dermatomes of their
#: own (posterior thigh pain beside an S1 sciatica spans S2): the clinician did not place the symptom in it, so it is
#: not read as a symptom imaging leaves unexplained (clinician's review R9 #4: "S2 not explained" in every S1 sciatica
#: with posterior thigh pain, read as a second, sacral lesion to look for)
REGION_ONLY = "region only: a body region the symptom records spans it, not a dermatome it records"
_IN_DERMATOME = str(SK.inDermatome)
_STUDY = str(SK.ImagingStudy)
_POSSIBLE = "possible_root_compression"
_NO_LEVEL = "level_unknown_root_compression"
_TYPE = "http://www.w3.org/1999/02/22-rdf-syntax-ns#type"


def _rows(run: CaseRun) -> list[tuple[str, str, str | None, str | None, str, str | None]]:
    """The case's root-reach rows in a stable order (a finding without a level has no level and no way)."""
    return sorted(run.root_reach, key=lambda row: tuple(x or "" for x in row))


def _unknown(kinds: set[str]) -> str:
    """What leaves a dermatome's concordance unknown: the zone, the level, or either.

    >>> _unknown({_POSSIBLE}), _unknown({_NO_LEVEL})
    ('unknown: the zone is not recorded', 'unknown: the level is not recorded')
    >>> _unknown({_POSSIBLE, _NO_LEVEL})
    'unknown: the zone or the level is not recorded'
    """
    if kinds == {_NO_LEVEL}:
        return LEVEL_UNKNOWN
    return "unknown: the zone or the level is not recorded" if _NO_LEVEL in kinds else ZONE_UNKNOWN


@dataclass(frozen=True)
class Explanation:
    finding: str  # case field path
    type: str
    level: str
    root: str
    via: str
    side: str | None


@dataclass(frozen=True)
class DermatomeConcordance:
    """One symptomatic dermatome: on which sides it is symptomatic, and whether imaging explains it."""

    dermatome: str
    sides: tuple[str, ...]
    status: str  # explained | partly explained | not explained | unknown: the zone (level) … | imaging only: …
    explained_by: tuple[Explanation, ...]


def _sides(laterality: str | None) -> set[str]:
    name = local(laterality) if laterality else None
    return {name} if name in BOTH else set(BOTH)


def concordance(reasoner: Reasoner, run: CaseRun) -> list[DermatomeConcordance]:
    """Compare the symptomatic dermatomes (a body region counts as its dermatome set) with the roots imaging reaches.

    Foraminal findings reach the exiting root, paracentral and lateral recess findings the traversing root, and
    central canal stenosis the traversing root and every root below it, sacral included, on both sides.
    """

    kb, idx = reasoner.kb, reasoner.index
    symptomatic: dict[str, set[str]] = defaultdict(set)
    placed: dict[str, set[str]] = defaultdict(set)  # the sides a symptom is placed in the dermatome on
    for s, derm, lat in run.symptom_dermatomes:
        symptomatic[derm] |= _sides(lat)
        own = run.details.get(s, {}).get(_IN_DERMATOME, ())
        if not own or derm in own:  # a dermatome it records, or a region's where it records none
            placed[derm] |= _sides(lat)
    # a possible compression is shown as the finding it is (its herniation type), reaching a root only possibly;
    # one without a level as the type the case records
    typed = {f: t for f, t, *_ in run.root_reach if local(t) not in (_POSSIBLE, _NO_LEVEL)}
    for f, t, *_ in run.root_reach:
        if local(t) == _NO_LEVEL and f not in typed:
            typed[f] = min(run.details.get(f, {}).get(_TYPE, ()) or {t})

    def explain(finding: str, ftype: str, level: str | None, via: str | None, root: str, side: str | None):
        possible = local(ftype) in (_POSSIBLE, _NO_LEVEL)
        how = POSSIBLY if local(ftype) == _POSSIBLE else POSSIBLY_AT_A_LEVEL if via is None else VIA[local(via)]
        return Explanation(
            field_path(run.case, finding),
            local(typed.get(finding, ftype)) if possible else local(ftype),
            idx.notation(level) if level else NO_LEVEL,
            idx.notation(root),
            how,
            local(side) if side else None,
        )

    imaged = any(_STUDY in types for types in run.fact_types.values())
    out = []
    for derm in sorted(symptomatic, key=lambda d: int(cast("Literal | None", kb.value(SK[local(d)], SK.order)) or 0)):
        roots = reasoner.dermatome_roots.get(derm, set())
        covered: set[str] = set()
        maybe: set[str] = set()  # sides only a herniation without a zone (a finding without a level) may explain
        kinds: set[str] = set()  # which of the two leaves them unknown
        explanations = []
        for finding, ftype, level, via, root, side in _rows(run):
            if root not in roots:
                continue
            sides = set(BOTH) if via and local(via) == "centralCanalReaches" else _sides(side)
            if not sides & symptomatic[derm]:
                continue
            if local(ftype) in (_POSSIBLE, _NO_LEVEL):
                maybe.update(sides & symptomatic[derm])
                kinds.add(local(ftype))
            else:
                covered.update(sides & symptomatic[derm])
            explanations.append(explain(finding, ftype, level, via, root, side))
        status = _status(symptomatic[derm], covered, maybe, _unknown(kinds)) if imaged else NOT_IMAGED
        if status == "not explained" and not placed[derm]:
            status = REGION_ONLY
        out.append(
            DermatomeConcordance(idx.notation(derm), tuple(sorted(symptomatic[derm])), status, tuple(explanations))
        )
    # roots that foraminal or recess findings reach but no symptom names: the radiologist's "pain along L3-L5?"
    reached: dict[str, list[Explanation]] = defaultdict(list)
    for finding, ftype, level, via, root, side in _rows(run):
        if via is None or local(via) == "centralCanalReaches" or local(ftype) in (_POSSIBLE, _NO_LEVEL):
            continue
        for derm, roots in reasoner.dermatome_roots.items():
            if root in roots and derm not in symptomatic:
                reached[derm].append(explain(finding, ftype, level, via, root, side))
    for derm in sorted(reached, key=lambda d: int(cast("Literal | None", kb.value(SK[local(d)], SK.order)) or 0)):
        found_sides = sorted({s for e in reached[derm] for s in _sides(str(SK[e.side]) if e.side else None)})
        out.append(DermatomeConcordance(idx.notation(derm), tuple(found_sides), IMAGING_ONLY, tuple(reached[derm])))
    return out


def _status(symptomatic: set[str], covered: set[str], maybe: set[str], unknown: str = ZONE_UNKNOWN) -> str:
    """Explained on every symptomatic side, on some, on none; where a herniation without a zone (a finding without a
    level) is all that could explain a side, unknown (the zone or the level decides), never "not explained".

    >>> _status({"right"}, set(), {"right"})
    'unknown: the zone is not recorded'
    >>> _status({"left", "right"}, {"left"}, {"right"})
    'partly explained, otherwise unknown: the zone is not recorded'
    >>> _status({"left", "right"}, set(), {"right"})
    'not explained (left side), otherwise unknown: the zone is not recorded'
    >>> _status({"right"}, set(), set())
    'not explained'
    >>> _status({"left"}, set(), {"left"}, LEVEL_UNKNOWN)
    'unknown: the level is not recorded'
    """
    if covered == symptomatic:
        return "explained"
    if covered | maybe == symptomatic:
        return f"partly explained, otherwise {unknown}" if covered else unknown
    if maybe - covered:
        rest = "/".join(sorted(symptomatic - covered - maybe))
        return f"{'partly explained' if covered else 'not explained'} ({rest} side), otherwise {unknown}"
    return "partly explained" if covered else "not explained"


def zone_not_recorded(reasoner: Reasoner, run: CaseRun) -> list[Warning]:
    """A herniation recorded without a zone that, were it foraminal or far lateral, would reach a symptomatic root
    (``sk:possible_root_compression``): the plan says what it reads the finding as and what would decide it."""
    idx = reasoner.index
    possible: dict[str, set[str]] = defaultdict(set)
    likely: dict[str, set[str]] = defaultdict(set)
    for finding, ftype, _, via, root, _ in run.root_reach:
        if local(ftype) == _POSSIBLE:
            possible[finding].add(idx.notation(root))
        elif via is not None and local(via) != "centralCanalReaches":
            likely[finding].add(idx.notation(root))
    out = []
    for finding in sorted(possible, key=lambda f: field_path(run.case, f)):
        path, maybe = field_path(run.case, finding), ", ".join(sorted(possible[finding]))
        read = f"reaches the {', '.join(sorted(likely[finding]))} root" if likely[finding] else "reaches no root"
        out.append(
            Warning(
                "zone_not_recorded",
                f"{path} ({fact_text(idx, run.details.get(finding, {}))}) records no zone: read as paracentral, it "
                f"{read}; foraminal or far lateral, it would reach the {maybe} root, in whose dermatome a symptom is "
                f"recorded (disc_level_roots.csv). The zone on the imaging report decides whether imaging explains "
                f"that symptom: until it is recorded no compression of the {maybe} root is inferred, and what needs "
                "one is undecided, not ruled out",
                (path, f"{path}.zone"),
            )
        )
    return out


def level_not_recorded(reasoner: Reasoner, run: CaseRun) -> list[Warning]:
    """A compressive finding recorded without a level that, at some level, would reach a symptomatic root
    (``sk:level_unknown_root_compression``): the plan says which roots it may reach and that the level decides."""
    idx = reasoner.index
    possible: dict[str, set[str]] = defaultdict(set)
    for finding, ftype, _, _, root, _ in run.root_reach:
        if local(ftype) == _NO_LEVEL:
            possible[finding].add(idx.notation(root))
    out = []
    for finding in sorted(possible, key=lambda f: field_path(run.case, f)):
        path, maybe = field_path(run.case, finding), ", ".join(sorted(possible[finding]))
        out.append(
            Warning(
                "level_not_recorded",
                f"{path} ({fact_text(idx, run.details.get(finding, {}))}) records no level: at some disc level it "
                f"would reach the {maybe} root, in whose dermatome a symptom is recorded (disc_level_roots.csv). The "
                "level on the imaging report decides whether imaging explains that symptom: until it is recorded no "
                f"compression of the {maybe} root is inferred, and what needs one is undecided, not ruled out",
                (path, f"{path}.level"),
            )
        )
    return out


_ROOT_SYMPTOMS = (str(SK.radicular_pain), str(SK.SensorySymptom), str(SK.weakness))


def _root_key(root: str) -> tuple[int, int, str]:
    """Roots in the spine's order, head to tail.

    >>> sorted(["S2", "L5", "S10", "S1", "C7"], key=_root_key)
    ['C7', 'L5', 'S1', 'S2', 'S10']
    """
    digits = "".join(c for c in root[1:3] if c.isdigit())
    return ("CTLS".find(root[:1]), int(digits or 0), root)


def _placed(
    reasoner: Reasoner, run: CaseRun, rows: list[DermatomeConcordance], unexplained: set[str]
) -> dict[str, list[str]]:
    """The radicular, sensory and motor symptoms the clinician placed in each of the ``unexplained`` dermatomes (a
    dermatome the symptom records), by dermatome: their field paths, none of whose dermatomes imaging explains."""
    idx = reasoner.index
    # a symptom one of whose dermatomes imaging explains is not unexplained: a weakness recorded in L3 and L4 is the
    # quadriceps', explained by the disc on the L3 root (clinician's review R9 #3)
    explained = {r.dermatome for r in rows if r.status == "explained" or r.status.startswith("partly")}
    placed: dict[str, list[str]] = defaultdict(list)
    for s, derm, _ in run.symptom_dermatomes:
        d = run.details.get(s, {})
        name = idx.notation(derm)
        own = d.get(_IN_DERMATOME, ())
        if (
            name in unexplained
            and derm in own
            and not any(idx.notation(o) in explained for o in own)
            and any(idx.is_a(t, k) for t in d.get(_TYPE, ()) for k in _ROOT_SYMPTOMS)
        ):
            path = field_path(run.case, s)
            if path not in placed[name]:
                placed[name].append(path)
    return placed


def imaging_not_concordant(reasoner: Reasoner, run: CaseRun, rows: list[DermatomeConcordance]) -> list[Warning]:
    """A dermatome the clinician placed a radicular, sensory or motor symptom in (a dermatome the symptom records, none
    of whose dermatomes imaging explains) that the imaging on file explains by no finding ("not explained"), where
    some finding reaches another root: the
    plan says so beside the steps, not only in the concordance table at its end (clinician's review R9 #5: L5 pain
    and weakness under an L5-S1 paracentral extrusion on S1, and a correlation step word for word a concordant
    patient's). What needs a concordant root compression is not given on it; re-reading the report's level, zone and
    numbering, and other causes, is spinekg's judgement: no source in its reference says what to do then."""
    unexplained = {r.dermatome: r for r in rows if r.status == "not explained"}
    reach: dict[tuple[str, str, str], set[str]] = defaultdict(set)  # a finding (type, level) → the roots it reaches
    for r in rows:
        for e in r.explained_by:
            reach[(e.finding, e.type, e.level)].add(e.root)
    if not unexplained or not reach:
        return []
    elsewhere = [
        f"{f} ({t} {level} → {', '.join(sorted(roots, key=_root_key))})"
        for (f, t, level), roots in sorted(reach.items(), key=lambda item: path_key(item[0][0]))
    ]
    placed = _placed(reasoner, run, rows, set(unexplained))
    out = []
    # in the spine's order, not the order the engine gave the rows in (the baselines give them in another)
    for name, paths in sorted(placed.items(), key=lambda item: _root_key(item[0])):
        out.append(
            Warning(
                "imaging_not_concordant",
                f"{name} ({'/'.join(unexplained[name].sides)}: {', '.join(sorted(paths))}) is explained by no "
                f"imaging finding on file; they reach other roots: {'; '.join(elsewhere)}. What "
                "needs a root compression concordant with the symptoms (an epidural for radicular symptoms with "
                "nerve compression, a decompression) is not given on it. spinekg's judgement, which no source in its "
                "reference gives: re-read the report's level and zone (and the vertebral numbering), and weigh "
                "another cause of the symptoms, before an injection or operation",
                (name, *sorted(paths)),
            )
        )
    return out


#: the steps a level and side chosen on imaging guide: an injection or procedure, an operation
GUIDED_BY_IMAGING = (str(SK.interventional_procedure), str(SK.spine_surgery))
#: what infer-root-compression reads as compressing a root on its own side: a disc herniation (a protrusion, an
#: extrusion) or a root impingement the report names at any severity, a stenosis only moderate or severe (a mild one,
#: common on either side of a degenerative spine, is no compression, and no side error to look for)
_COMPRESSING = (str(SK.disc_herniation), str(SK.nerve_root_impingement))
_FIRM = {str(SK.moderate), str(SK.severe)}
_SEVERITY, _ZONE, _AGO = str(SK.severity), str(SK.zone), str(SK.weeksAgo)
_CANAL, _CENTRAL = str(SK.centralCanalReaches), str(SK.zone_central)


def imaging_opposite_side(
    reasoner: Reasoner, run: CaseRun, rows: list[DermatomeConcordance], steps: Sequence[Step] = ()
) -> list[Warning]:
    """A dermatome the clinician placed a radicular, sensory or motor symptom in on one side only, explained by no
    imaging finding on file, where a compressive finding of this episode reaches its root on the other side (a left
    paracentral L5-S1 extrusion, the traversing S1 root, under a right S1 sciatica): the finding's side and level and
    the symptoms' side and dermatome are named, with article 000's sentence on clinical correlation
    (``sk:concordanceEvidence``). Clinician's review R18 #5: the mismatch was shown only in the concordance table,
    and imaging_not_concordant speaks only of findings that reach another root. What needs a concordant compression
    stays not given (infer-root-compression reads a finding only on its own side); that the finding may be a side
    error, to review on the images and the report, and the patient re-examined before an injection or operation, is
    spinekg's judgement.

    A symptom on both sides, or without one, is explained on the finding's side (partly explained, not "not
    explained"); a finding without a side, or a central one (its zone, or a canal stenosis, reaching both sides),
    explains either side: neither raises it. Nor does a study older than the episode (an earlier episode's disc).
    An injection or operation the plan still does or considers (``steps``: NICE's epidural for acute, severe sciatica,
    which asks for no imaged compression) is named, and the warning is shown on it: its level and side are chosen on
    that imaging (clinician's review R19 #4)."""
    idx = reasoner.index
    one_side = {r.dermatome: r.sides[0] for r in rows if r.status == "not explained" and len(r.sides) == 1}
    if not one_side:
        return []
    placed = _placed(reasoner, run, rows, set(one_side))
    other: dict[str, dict[str, tuple[str, str]]] = defaultdict(dict)  # dermatome → finding → (level, root)
    for derm in {d for _, d, _ in run.symptom_dermatomes if idx.notation(d) in placed}:
        name, roots = idx.notation(derm), reasoner.dermatome_roots.get(derm, set())
        for finding, ftype, level, via, root, side in _rows(run):
            d = run.details.get(finding, {})
            study = run.details.get(finding.rsplit("/finding/", 1)[0], {})
            ago = [float(w) for w in study.get(_AGO, ())]
            if (
                root in roots
                and level is not None
                and via not in (None, _CANAL)
                and side is not None
                and local(side) in BOTH
                and local(side) != one_side[name]
                and _CENTRAL not in d.get(_ZONE, ())
                and (any(idx.is_a(ftype, c) for c in _COMPRESSING) or not _FIRM.isdisjoint(d.get(_SEVERITY, ())))
                and not (ago and run.episode_weeks is not None and ago[0] > run.episode_weeks)
            ):
                other[name][finding] = (idx.notation(level), idx.notation(root))
    evidence = sorted(reasoner.kb.objects(SK.nerve_root_compression, SK.concordanceEvidence), key=str)
    said = "; ".join(
        f"\u201c{e.quote}\u201d (article {e.source} [{e.citation}], citation {e.citation_status})"
        for e in map(idx.evidence, evidence)
    )
    guided = [
        s
        for s in steps
        if s.stance in ("do", "consider") and any(idx.is_a(SK_IRI + s.id, c) for c in GUIDED_BY_IMAGING)
    ]
    still = (
        f" This plan still gives {steps_named(guided)}, which asks for no concordant compression: its level and side "
        "are chosen on this imaging, so the review comes first."
        if guided
        else ""
    )
    out = []
    for name in sorted(other, key=_root_key):
        side, paths = one_side[name], sorted(placed[name], key=path_key)
        opposite = "right" if side == "left" else "left"
        findings = sorted(other[name], key=lambda f: path_key(field_path(run.case, f)))
        named = "; ".join(
            f"{field_path(run.case, f)} ({fact_text(idx, run.details.get(f, {}))}) reaches the {other[name][f][1]} "
            f"root on the {opposite}"
            for f in findings
        )
        levels = ", ".join(sorted({other[name][f][0] for f in findings}))
        out.append(
            Warning(
                "imaging_opposite_side",
                f"{name} ({side}: {', '.join(paths)}) is explained by no imaging finding on file, and a finding on the "
                f"other side reaches its root: {named}. The finding is on the {opposite} at {levels}, the symptoms on "
                f"the {side} in {name}. {said + '. ' if said else ''}What needs a root compression concordant with "
                "the symptoms (an epidural for radicular symptoms with nerve compression, a decompression) is not "
                f"given on it.{still} spinekg's judgement, which no source in its reference gives: review the images "
                "and the "
                "report for a side error (left and right swapped in the report, the request or the image labels), "
                f"re-examine the patient for the side of the symptoms, and weigh another cause of the {side} "
                "symptoms, before any injection or operation guided by it",
                (name, *(field_path(run.case, f) for f in findings), *paths, *(s.id for s in guided)),
            )
        )
    return out
