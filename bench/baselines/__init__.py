"""What the baselines share: the reasoner's condition names, the status fold, and the plan each one hands back.

Every baseline decides the same things as spinekg (classes of the case and of its records, clinical presentations
and the records that established them, conditions, red flags, dermatomes, root reach, elapsed and episode weeks)
by its own means into a ``reasoner.reasoning.engine.CaseRun``, then calls the same
``reasoner.plan.assemble.assemble`` — so its plan can be compared with spinekg's by ``Plan.to_dict()`` equality.
``Derivations`` is spinekg's derivation rules (reasoner/rules/derive/) in plain Python, for the baselines whose
own technology cannot say them (an aggregate, and closed-world joins).
"""

from __future__ import annotations

import time
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass

from rdflib import BNode, Graph, Literal, URIRef
from rdflib.collection import Collection
from rdflib.namespace import OWL, RDFS

from reasoner.case.episode import (
    HIP_GENERATORS,
    before_episode,
    episode_length,
    episode_rank,
    is_sciatica,
    sciatica_length,
)
from reasoner.consts import SK
from reasoner.plan.model import Plan
from reasoner.reasoning import conditions as apply
from reasoner.reasoning.conditions import DEFAULT, DEFAULT_RULE, Applicability
from reasoner.reasoning.engine import Reasoner

#: The fold of apply.py (the status when no row speaks for a condition, which wins when several do) is its own.
#: Outcomes that count as a failed treatment.
FAILED_OUTCOMES = ("unchanged", "worse", "failed", "not_tolerated")

# how the reasoner names the KB's blank nodes (engine.py skolemises the KB it loads into every store)
_AUTHORITY, _BASEPATH = "https://w3id.org", "/spinekg/.well-known/genid/"


def grouped(pairs) -> defaultdict[str, list[str]]:
    """``key → [values]`` from (key, value) pairs of KB terms, as strings, in the order given (a missing key: [])."""
    out: defaultdict[str, list[str]] = defaultdict(list)
    for key, value in pairs:
        out[str(key)].append(str(value))
    return out


def condition_name(node) -> str:
    """The name the reasoner gives a KB node: a blank node's skolem IRI, an IRI as itself.

    >>> condition_name(BNode("b1"))
    'https://w3id.org/spinekg/.well-known/genid/b1'
    """
    return str(node.skolemize(authority=_AUTHORITY, basepath=_BASEPATH)) if isinstance(node, BNode) else str(node)


def check_condition_names(reasoner: Reasoner, names: Iterable[str]) -> None:
    """Fail loudly when the reasoner names the KB's conditions differently (the plans would differ silently)."""
    unknown = sorted(set(names) - set(reasoner.condition_params))
    if unknown:
        raise RuntimeError(f"bench: {len(unknown)} condition names unknown to the reasoner, e.g. {unknown[0]}")


def severity_graded(kb: Graph) -> dict[str, str]:
    """Finding type → the class it grades: a type defined as a named class at a severity and nothing else
    (``severe_pain`` ≡ ``PainSymptom`` with severity severe), as the rule ``finding-present-severity-unknown`` reads
    the KB."""
    out = {}
    for t, e in kb.subject_objects(OWL.equivalentClass):
        for members in kb.objects(e, OWL.intersectionOf):
            parts = list(Collection(kb, members))
            named = [x for x in parts if isinstance(x, URIRef)]
            graded = [x for x in parts if (x, OWL.onProperty, SK.severity) in kb and (x, OWL.hasValue, None) in kb]
            if len(parts) == 2 and len(named) == 1 and len(graded) == 1 and isinstance(t, URIRef):
                out[str(t)] = str(named[0])
    return out


def left_open(kb: Graph) -> dict[str, tuple[str, list[str]]]:
    """Finding type → (where a case records it either way, the finding types whose record leaves it open): the
    ``sk:leavesOpen`` and ``sk:assessedIn`` annotations (``segmental_instability`` → its ``sk:assessedIn``,
    [``spondylolisthesis``]), as the rules ``finding-present-unassessed-unknown`` and
    ``finding-absent-unassessed-unknown`` read the KB."""
    out: dict[str, tuple[str, list[str]]] = {}
    for opener, t in kb.subject_objects(SK.leavesOpen):
        for missing in kb.objects(t, SK.assessedIn):
            out.setdefault(str(t), (str(missing), []))[1].append(str(opener))
    return out


def skolem_kb(reasoner: Reasoner) -> Graph:
    """The KB exactly as the reasoner loads it into its store, blank nodes named (skolemised) as the reasoner
    names them: those names are the condition names its plans sort by."""
    nt = getattr(reasoner, "kb_nt", None)
    if nt is None:
        return reasoner.kb.skolemize(authority=_AUTHORITY, basepath=_BASEPATH)
    return Graph().parse(data=nt.decode() if isinstance(nt, bytes) else nt, format="nt")


# --- the derivation rules, in plain Python ----------------------------------------------------------------------

_S = str(SK)
LATERALITY, DURATION, SEVERITY, EPISODE = _S + "laterality", _S + "durationWeeks", _S + "severity", _S + "episodeWeeks"
SCIATICA = _S + "sciaticaWeeks"  # the sciatica's own length, where the case reader records one apart
COMPRESSION, IMPINGEMENT = _S + "nerve_root_compression", _S + "nerve_root_impingement"
POSSIBLE_COMPRESSION = _S + "possible_root_compression"  # a herniation without a zone: the exiting root unknown
NO_LEVEL_COMPRESSION = _S + "level_unknown_root_compression"  # a compressive finding without a level: its root unknown
# derive-new-urinary-incontinence, derive-new-urinary-retention, derive-new-sexual-dysfunction: (recorded, of new onset)
NEW_ONSET = tuple(
    (_S + kind, _S + "new_" + kind) for kind in ("urinary_incontinence", "urinary_retention", "sexual_dysfunction")
)
CORD_COMPRESSION, UNLEVELLED_CORD = _S + "cord_compression", _S + "cord_compression_level_unrecorded"
GRADED_MYELOPATHY, EXAM_GRADED = _S + "graded_myelopathy", _S + "examination_graded_myelopathy"
MJOA_SCORE = _S + "mjoa_score"
FRACTURE_SUSPECTED, FRACTURE_NOT_EXCLUDED = _S + "fracture_suspected", _S + "fracture_feature_not_excluded"
# derive-excluded-red-flag-feature: the record of an excluded red flag its exclusion covers (the class, the red flag),
# the studies that can date a suspicion's work-up (a radiograph only for a fracture)
EXCLUDED_FEATURE, EXCLUDED_AS = _S + "excluded_red_flag_feature", _S + "excludedAs"
WORK_UP_MODALITIES, RADIOGRAPHY = frozenset(_S + m for m in ("CT", "MRI", "radiography")), _S + "radiography"
# derive-cauda-equina-at-risk: a severe central or paracentral herniation, or a severe central canal stenosis, on a
# study of this episode; or a feature of suspected cauda equina syndrome (raised or excluded)
CES_SUSPECTED, CES_AT_RISK = _S + "cauda_equina_syndrome_suspected", _S + "cauda_equina_at_risk"
CENTRAL_ZONES = frozenset(_S + z for z in ("zone_central", "zone_paracentral"))
# derive-older-back-pain-not-cleared: back pain at 70 or over, unless a lumbar MRI or CT since it began records no
# vertebral height loss (the studies that can clear it, and what they record absent)
OLDER_BACK_PAIN, OLDER_NOT_CLEARED = _S + "back_pain_in_older_patient", _S + "back_pain_in_older_patient_not_cleared"
CLEARING_MODALITIES, HEIGHT_LOSS = frozenset(_S + m for m in ("CT", "MRI")), _S + "vertebral_height_loss"
AXIAL_PAIN, LOW_BACK_AXIAL_PAIN = _S + "axial_pain", _S + "low_back_axial_pain"
LUMBOSACRAL_PAIN, RADICULAR_PAIN = _S + "lumbosacral_radicular_pain", _S + "radicular_pain"
WEAKNESS, MULTI_ROOT_WEAKNESS = _S + "weakness", _S + "multi_root_weakness"
SEVERE_DEFICIT, NEW_SEVERE_DEFICIT = _S + "severe_motor_deficit", _S + "new_severe_motor_deficit"
LONG_STANDING_DEFICIT = _S + "long_standing_severe_motor_deficit"
THIS_EPISODE_WEAKNESS, BOTH_SIDES_WEAKNESS = _S + "weakness_of_this_episode", _S + "leg_weakness_on_both_sides"
BACK_PAINS = frozenset(_S + t for t in ("axial_pain", "lumbosacral_radicular_pain", "buttock_pain"))
NOT_IMPROVING, AFTER_50 = _S + "pain_not_improving_on_care", _S + "back_pain_after_50"
NIGHT_PAIN, NIGHT_PAIN_FLAG = _S + "night_pain", _S + "night_pain_after_50_not_improving"
# derive-anticoagulant-and-gastrointestinal-risk: an anticoagulant or antiplatelet drug and a peptic ulcer or
# gastrointestinal bleeding risk, cardiovascular disease or a symptom at 65 or over; the drug typed where the case
# records one of them, the ulcer or cardiovascular record where it records the drug (a symptom never)
ANTICOAGULANT, GI_RISK = _S + "anticoagulant_or_antiplatelet", _S + "gastrointestinal_risk"
AT_65 = _S + "symptom_at_65_or_over"
ANTICOAGULANT_GI = _S + "anticoagulant_and_gastrointestinal_risk"
# derive-corticosteroid-and-gastrointestinal-risk: prolonged corticosteroid use and a symptom at 65 or over, a peptic
# ulcer or gastrointestinal bleeding risk or an anticoagulant or antiplatelet drug; the corticosteroid typed where the
# case records one of them, the ulcer or anticoagulant record where it records the corticosteroid (a symptom never)
CORTICOSTEROID = _S + "prolonged_corticosteroid_use"
CORTICOSTEROID_GI = _S + "corticosteroid_and_gastrointestinal_risk"
# derive-cardiovascular-and-renal-risk: cardiovascular disease and renal impairment, each typed where the case records
# both
CARDIO, RENAL = _S + "cardiovascular_disease", _S + "renal_impairment"
CARDIO_RENAL = _S + "cardiovascular_and_renal_risk"
UNHELPED, IMPROVED = frozenset(_S + o for o in ("unchanged", "worse", "failed")), _S + "improved"
# derive-new-or-progressing-after-lumbar-surgery: an operation, the outcomes that leave the symptoms as they were, the
# red flags of a new deficit, and the class derived
SURGERY, SAME_AFTER = _S + "spine_surgery", frozenset(_S + o for o in ("unchanged", "failed"))
HELPED = frozenset(_S + o for o in ("improved", "partial_improvement"))
NEW_DEFICIT_FLAGS = (_S + "cauda_equina_syndrome_suspected", _S + "progressive_neurological_deficit")
AFTER_SURGERY = _S + "new_or_progressing_after_lumbar_surgery"
# derive-candidate-pain-progressing-on-care: the candidacies, the care it reads, the outcome, and the class derived
SURGERY_CANDIDATE, INJECTION_CANDIDATE = _S + "surgery_candidate", _S + "injection_candidate"
CONSERVATIVE, WORSE = _S + "conservative_care", _S + "worse"
PROGRESSING_ON_CARE = _S + "candidate_pain_progressing_on_care"
# derive-back-pain-after-recent-spinal-procedure, derive-spinal-procedure-before-back-pain: the kinds of spinal
# procedure, the window in weeks (spinekg's judgement), and the classes derived (of the pain, of the procedure)
PROCEDURES = frozenset(_S + k for k in ("spine_surgery", "spinal_injection", "vertebral_augmentation"))
PROCEDURE_WINDOW = 12
INJECTION, INJECTION_WINDOW = _S + "spinal_injection", 4  # an injection's window (an epidural abscess)
PAIN_AFTER_PROCEDURE, PROCEDURE_BEFORE_PAIN = (
    _S + "back_pain_after_recent_spinal_procedure",
    _S + "spinal_procedure_before_back_pain",
)
# derive-recent-or-undated-spine-operation: an operation of the same window (a fusion's longer), or undated, on which
# manipulation is not offered
RECENT_OPERATION, FUSION = _S + "recent_or_undated_spine_operation", _S + "spinal_fusion"
FUSION_WINDOW = 52
# derive-prior-spinal-fusion: a fusion at any time, or undated, beside which manipulation is cautioned
PRIOR_FUSION = _S + "prior_spinal_fusion"
# a course that ended before this episode began (the case reader's), and care of a previous episode (rule
# derive-care-of-a-previous-episode: such a course, an operation apart)
BEFORE_EPISODE, PREVIOUS_CARE = _S + "CourseBeforeEpisode", _S + "PreviousEpisodeCare"
# a one-sided record with its other side in the same case: (the class it must be in, the class derived)
BY_SIDE = ((LUMBOSACRAL_PAIN, _S + "bilateral_sciatica_by_side"), (WEAKNESS, BOTH_SIDES_WEAKNESS))
BILATERAL_WEAKNESS_BY_SIDE = _S + "bilateral_leg_weakness_by_side"
# the derivation rules' own terms (reasoner/reasoning/derive.py says them in SPARQL): what can compress a root, which
# of those only when moderate or severe, and the symptoms a compression can be concordant with
HERNIATIONS = frozenset(_S + t for t in ("disc_protrusion", "disc_extrusion", "disc_herniation"))
STENOSES = frozenset(_S + t for t in ("foraminal_stenosis", "lateral_recess_stenosis", "canal_stenosis"))
COMPRESSIVE = HERNIATIONS | STENOSES
COMPRESSING_SEVERITIES = frozenset(_S + s for s in ("moderate", "severe"))
CENTRAL_CANAL = _S + "centralCanalReaches"  # a central canal stenosis reaches every root below it
ROOT_SYMPTOMS = frozenset(_S + t for t in ("radicular_pain", "SensorySymptom", "weakness"))
SIDED = frozenset(_S + s for s in ("left", "right"))
# derive-multilevel-degenerative-finding: the degenerative findings, those of one disc, and the class derived
DEGENERATIVE = frozenset(_S + t for t in ("spondylosis", "degenerative_disc_disease"))
ONE_DISC = frozenset(_S + t for t in ("disc_bulge", "disc_space_narrowing"))
MULTILEVEL = _S + "multilevel_degenerative_finding"


class Node:
    """One resource of a case: its IRI, its classes and its property values (IRIs as strings, numbers as floats)."""

    __slots__ = ("iri", "types", "props")

    def __init__(self, iri: str, *types: str):
        self.iri = iri
        self.types: set[str] = set(types)
        self.props: dict[str, list] = defaultdict(list)

    def first(self, prop: str):
        values = self.props.get(prop)
        return values[0] if values else None


def _sides_agree(finding_sides: list[str], symptom_sides: list[str]) -> bool:
    """Whether an imaging finding and a symptom may be on the same side: unless both say left or right, differently.

    >>> left, right, bilateral = ([_S + side] for side in ("left", "right", "bilateral"))
    >>> _sides_agree(left, right), _sides_agree(left, []), _sides_agree(left, bilateral)
    (False, True, True)
    """
    return any(
        not (a in SIDED and b in SIDED and a != b) for a in finding_sides or (None,) for b in symptom_sides or (None,)
    )


class Derivations:
    """spinekg's derivation rules (reasoner/rules/derive/) in plain Python, with the episode length of a case the
    case reader records (``case.episode``: the longest duration of its present findings of the nearest rank, pain
    first): lumbosacral radicular pain (radicular pain in no dermatome above L1 and not in the hands), bilateral
    sciatica and bilateral leg weakness recorded one side at a time, a weakness of two or more lumbosacral roots, new
    urinary incontinence, a feature of suspected fracture the case does not exclude, a cauda equina at risk (a
    severe central compression on imaging of this episode, or a feature of suspected cauda equina syndrome), a
    myelopathy graded on examination in a case with no mJOA score, a low back pain after a spinal procedure of the
    last 12 weeks and that procedure (``after_procedure``), and nerve root compression (a herniation, or a moderate or
    severe stenosis, whose zone, else its type, reaches a root in whose dermatome a radicular, sensory or motor symptom
    is recorded on the same side), and possible root compression (a herniation without a zone whose exiting root has
    such a symptom; a compressive finding without a level that would, at some level, reach a root with such a
    symptom).

    The KB is read once: the named superclasses (``supers``), the body regions' dermatomes, the root reach of the
    finding types and zones, the disc levels' roots, the dermatomes' roots and order.
    """

    def __init__(self, kb: Graph, supers: Callable[[str], frozenset[str]]):
        self.supers = supers
        # the kinds of symptom spinekg knows (a symptom of none is an unmapped code's bare sk:Symptom): the
        # concordance reads only those (collect rule symptom-dermatomes)
        self.symptom_kinds = frozenset(
            str(s) for s in kb.subjects(RDFS.subClassOf, SK.Symptom) if s != SK.symptom_at_65_or_over
        )
        self.spans: dict[str, list[str]] = defaultdict(list)
        for region, derm in kb.subject_objects(SK.spansDermatome):
            self.spans[str(region)].append(str(derm))
        self.reach: dict[str, list[str]] = defaultdict(list)  # finding class or zone → root-reach properties
        for cls, via in kb.subject_objects(SK.rootReach):
            self.reach[str(cls)].append(str(via))
        self.roots: dict[tuple[str, str], list[str]] = defaultdict(list)  # (level, property) → roots
        for via in {v for vs in self.reach.values() for v in vs}:
            for level, root in kb.subject_objects(URIRef(via)):
                self.roots[(str(level), via)].append(str(root))
        # the exiting and traversing roots of one disc level, adjacent either way (derive-multi-root-weakness)
        exiting = {str(lv): str(r) for lv, r in kb.subject_objects(SK.exitingRoot)}
        self.adjacent_roots = frozenset(
            pair
            for lv, r in kb.subject_objects(SK.traversingRoot)
            if str(lv) in exiting
            for pair in ((exiting[str(lv)], str(r)), (str(r), exiting[str(lv)]))
        )
        self.dermatomes_of_root: dict[str, list[str]] = defaultdict(list)
        for derm, root in kb.subject_objects(SK.dermatomeOfRoot):
            self.dermatomes_of_root[str(root)].append(str(derm))
        self.order = {str(d): float(o.toPython()) for d, o in kb.subject_objects(SK.order) if isinstance(o, Literal)}
        # the legs: the dermatomes the both-legs region spans, and the regions of the leg (with both legs itself)
        self.leg_dermatomes = set(self.spans.get(_S + "both_legs", ()))
        self.leg_regions = {str(r) for r in kb.subjects(SK.partOfRegion, SK.both_legs)} | {_S + "both_legs"}
        self.root_of = {str(d): str(r) for d, r in kb.subject_objects(SK.dermatomeOfRoot)}
        self.lumbar_levels = {str(level) for level in kb.subjects(SK.inSpineRegion, SK.lumbar_spine)}
        # the red flags a spine surgeon's assessment clears (sk:careHeldUntil): no study dates their exclusion
        self.confirmed = {
            str(flag) for flag in kb.subjects(SK.careHeldUntil, None)
        }  # cleared by a surgeon's assessment

    def zone_reach(self, f: Node) -> list[str]:
        """The root-reach properties of a finding's zone (which override its type's), if it has one."""
        return [via for z in f.props.get(_S + "zone", ()) for via in self.reach.get(z, ())]

    @staticmethod
    def vias(default: str, zone_vias: list[str]) -> Iterable[str]:
        """How a finding reaches roots: by its zone, else its type's default; a central canal stenosis by its type,
        whatever its zone (it reaches every root below it)."""
        return zone_vias if zone_vias and default != CENTRAL_CANAL else (default,)

    @staticmethod
    def fills_canal(f: Node) -> bool:
        """A severe disc herniation in the central zone: at a lumbar level it reaches what a central canal stenosis
        reaches (root-reach, infer-root-compression, infer-level-unknown-root-compression)."""
        return (
            _S + "disc_herniation" in f.types
            and _S + "severe" in f.props.get(SEVERITY, ())
            and _S + "zone_central" in f.props.get(_S + "zone", ())
        )

    def level_vias(self, f: Node, t: str, default: str, zone_vias: list[str], level: str) -> Iterable[str]:
        """How a finding of type ``t`` reaches roots at ``level``: as :meth:`vias`, but a herniation that fills the
        canal, at a lumbar level, as a central canal stenosis (every root below it, sacral roots included)."""
        if t == _S + "disc_herniation" and level in self.lumbar_levels and self.fills_canal(f):
            return (CENTRAL_CANAL,)
        return self.vias(default, zone_vias)

    def fixpoint(self, c: Node, facts: list[Node]) -> None:
        """The rules run until they add nothing."""
        while self.run(c, facts):
            pass

    def run(self, c: Node, facts: list[Node]) -> bool:
        """One pass of the rules over a case and its records (their ``types`` closed under the subclass hierarchy);
        whether it added anything."""
        changed = False
        # the case reader's episode length: the longest duration of the case's (present) findings of the nearest
        # rank: the low back pain or sciatica (a PainSymptom, closed types); else another back or leg symptom;
        # else cord-compression signs, neck or arm; else bladder, bowel or sexual
        where = (_S + "inDermatome", _S + "inBodyRegion")
        hip = any(f.types & HIP_GENERATORS for f in facts)  # a hip-origin pain generator on imaging (present)
        length = episode_length(
            (d, episode_rank(f.types, [x for p in where for x in f.props.get(p, ())], hip))
            for f in facts
            if _S + "Finding" in f.types
            for d in f.props.get(DURATION, ())
        )
        episode = [length] if length is not None else []
        if c.props.get(EPISODE, []) != episode:
            c.props[EPISODE] = episode
            changed = True
        # and the sciatica's own length, where it is not the episode's (case.episode.sciatica_length)
        sciatica = sciatica_length(
            (
                d
                for f in facts
                if _S + "Finding" in f.types and is_sciatica(f.types, [x for p in where for x in f.props.get(p, ())])
                for d in f.props.get(DURATION, ())
            ),
            length,
        )
        apart = [sciatica] if sciatica is not None else []
        if c.props.get(SCIATICA, []) != apart:
            c.props[SCIATICA] = apart
            changed = True
        # a course that ended before the episode began (case.episode.before_episode), and, an operation apart, care of
        # a previous episode (derive-care-of-a-previous-episode)
        for t in facts:
            if _S + "PriorTreatment" not in t.types:
                continue
            ago, weeks = t.props.get(_S + "treatmentWeeksAgo", ()), t.props.get(_S + "weeks", ())
            if not before_episode(max(ago, default=None), max(weeks, default=None), length):
                continue
            made = {BEFORE_EPISODE} | self.supers(BEFORE_EPISODE)
            tt = t.first(_S + "treatmentType")
            if tt is None or not (tt == SURGERY or SURGERY in self.supers(tt)):
                made |= {PREVIOUS_CARE} | self.supers(PREVIOUS_CARE)
            if not made <= t.types:
                t.types |= made
                changed = True
        # derive-lumbosacral-radicular-pain: radicular pain in no dermatome above L1 and not in the hands
        l1, hands = self.order.get(_S + "dermatome_L1"), _S + "hands"
        for s in facts:
            if RADICULAR_PAIN not in s.types or LUMBOSACRAL_PAIN in s.types:
                continue
            above = [d for d in s.props.get(_S + "inDermatome", ()) if d in self.order and self.order[d] < l1]
            if not above and hands not in s.props.get(_S + "inBodyRegion", ()):
                s.types |= {LUMBOSACRAL_PAIN} | self.supers(LUMBOSACRAL_PAIN)
                changed = True
        # derive-low-back-axial-pain: axial pain recorded at no place, or at a body region or a dermatome from L1 down
        for s in facts:
            if AXIAL_PAIN not in s.types or LOW_BACK_AXIAL_PAIN in s.types:
                continue
            derms, regions = s.props.get(_S + "inDermatome", ()), s.props.get(_S + "inBodyRegion", ())
            if regions or not derms or any(d in self.order and self.order[d] >= l1 for d in derms):
                s.types |= {LOW_BACK_AXIAL_PAIN} | self.supers(LOW_BACK_AXIAL_PAIN)
                changed = True
        # derive-new-urinary-incontinence (-retention, -sexual-dysfunction): the symptom, unless recorded not
        # progressive, longer than every pain of the case and of 12 weeks or more; derive-weakness-of-this-episode: a
        # weakness, unless longer than the episode and not worse
        pains = [d for f in facts if _S + "PainSymptom" in f.types for d in f.props.get(DURATION, ())]
        longest = max(pains, default=None)
        for recorded, new in NEW_ONSET:
            for s in facts:
                if recorded not in s.types or new in s.types:
                    continue
                stable = any(w is False or w == "false" for w in s.props.get(_S + "progressive", []))
                older = longest is not None and any(d > longest and d >= 12 for d in s.props.get(DURATION, ()))
                if not (stable and older):
                    s.types |= {new} | self.supers(new)
                    changed = True
        limit = episode[0] if episode else None
        for s in facts:
            if WEAKNESS not in s.types or THIS_EPISODE_WEAKNESS in s.types:
                continue
            worse = s.props.get(_S + "progressive", [])
            older = limit is not None and any(d > limit for d in s.props.get(DURATION, ()))
            if not (older and not any(w is True or w == "true" for w in worse)):
                s.types |= {THIS_EPISODE_WEAKNESS} | self.supers(THIS_EPISODE_WEAKNESS)
                changed = True
        # derive-new-severe-motor-deficit: MRC 3 or less, and a weakness of this episode, unless recorded not
        # progressive and of 12 weeks or more
        for s in facts:
            if SEVERE_DEFICIT in s.types and THIS_EPISODE_WEAKNESS in s.types and NEW_SEVERE_DEFICIT not in s.types:
                stable = any(w is False or w == "false" for w in s.props.get(_S + "progressive", []))
                if stable and any(d >= 12 for d in s.props.get(DURATION, ())):
                    continue
                s.types |= {NEW_SEVERE_DEFICIT} | self.supers(NEW_SEVERE_DEFICIT)
                changed = True
        # derive-long-standing-severe-motor-deficit: MRC 3 or less, a weakness of this episode, recorded not
        # progressive and of 12 weeks or more
        for s in facts:
            if SEVERE_DEFICIT in s.types and THIS_EPISODE_WEAKNESS in s.types and LONG_STANDING_DEFICIT not in s.types:
                stable = any(w is False or w == "false" for w in s.props.get(_S + "progressive", []))
                if stable and any(d >= 12 for d in s.props.get(DURATION, ())):
                    s.types |= {LONG_STANDING_DEFICIT} | self.supers(LONG_STANDING_DEFICIT)
                    changed = True
        changed |= self.malignancy_combined(facts)
        # derive-anticoagulant-and-gastrointestinal-risk: the drug, where an ulcer, cardiovascular or 65-or-over
        # record is in the case; an ulcer or cardiovascular record, where the drug is
        changed |= self.paired_risk(facts, ANTICOAGULANT, {GI_RISK, CARDIO, AT_65}, {GI_RISK, CARDIO}, ANTICOAGULANT_GI)
        # derive-corticosteroid-and-gastrointestinal-risk: the corticosteroid, where a 65-or-over, ulcer or
        # anticoagulant record is in the case; an ulcer or anticoagulant record, where the corticosteroid is
        changed |= self.paired_risk(
            facts, CORTICOSTEROID, {GI_RISK, ANTICOAGULANT, AT_65}, {GI_RISK, ANTICOAGULANT}, CORTICOSTEROID_GI
        )
        # derive-cardiovascular-and-renal-risk: each of the two records, where both are in the case
        if any(CARDIO in f.types for f in facts) and any(RENAL in f.types for f in facts):
            for f in facts:
                if f.types & {CARDIO, RENAL} and CARDIO_RENAL not in f.types:
                    f.types |= {CARDIO_RENAL} | self.supers(CARDIO_RENAL)
                    changed = True
        changed |= self.after_surgery(c, facts)
        changed |= self.progressing_on_care(c, facts)
        changed |= self.after_procedure(facts)
        changed |= self.multilevel(facts)
        changed |= self.excluded_as(c, facts, episode)
        # derive-fracture-feature-not-excluded: a feature of suspected fracture, unless its exclusion covers it
        for f in facts:
            if FRACTURE_SUSPECTED in f.types and FRACTURE_NOT_EXCLUDED not in f.types:
                if FRACTURE_SUSPECTED not in f.props.get(EXCLUDED_AS, ()):
                    f.types |= {FRACTURE_NOT_EXCLUDED} | self.supers(FRACTURE_NOT_EXCLUDED)
                    changed = True
        changed |= self.cauda_equina_at_risk(facts, episode)
        # derive-older-back-pain-not-cleared: back pain at 70 or over no lumbar MRI or CT since it began has cleared
        for f in facts:
            if OLDER_BACK_PAIN in f.types and OLDER_NOT_CLEARED not in f.types and not self.cleared(f, facts, episode):
                f.types |= {OLDER_NOT_CLEARED} | self.supers(OLDER_NOT_CLEARED)
                changed = True
        # derive-cord-compression-level-unrecorded: a cord compression recorded at no level (cervical or not: open)
        for f in facts:
            if CORD_COMPRESSION in f.types and UNLEVELLED_CORD not in f.types:
                if not f.props.get(_S + "atDiscLevel") and not f.props.get(_S + "atSpinalLevel"):
                    f.types |= {UNLEVELLED_CORD} | self.supers(UNLEVELLED_CORD)
                    changed = True
        # derive-examination-graded-myelopathy: a myelopathy graded on examination, in a case with no mJOA score
        if not any(MJOA_SCORE in f.types for f in facts):
            for f in facts:
                if GRADED_MYELOPATHY in f.types and EXAM_GRADED not in f.types:
                    f.types |= {EXAM_GRADED} | self.supers(EXAM_GRADED)
                    changed = True
        changed |= self.paired(facts)
        # infer-root-compression: a herniation, or a moderate or severe stenosis, whose zone (else its type)
        # reaches a root in whose dermatome a radicular, sensory or motor symptom is recorded on the same side
        symptoms = []
        for s in facts:
            if s.types & ROOT_SYMPTOMS:
                derms = set(s.props.get(_S + "inDermatome", ()))
                derms.update(d for r in s.props.get(_S + "inBodyRegion", ()) for d in self.spans.get(r, ()))
                symptoms.append((s, derms, s.props.get(LATERALITY, [])))
        ago = {s.iri: s.props.get(_S + "weeksAgo", []) for s in facts if _S + "ImagingStudy" in s.types}
        for f in facts:
            levels = f.props.get(_S + "atDiscLevel")
            kinds = f.types & COMPRESSIVE
            if not kinds:
                continue
            # a study older than the episode is an earlier episode's
            if episode and any(w > episode[0] for st in f.props.get(_S + "fromStudy", ()) for w in ago.get(st, ())):
                continue
            if not levels:
                if not f.props.get(_S + "atSpinalLevel"):
                    changed |= self.level_unknown(f, kinds, symptoms)
                continue
            severe = any(x in COMPRESSING_SEVERITIES for x in f.props.get(SEVERITY, ()))
            zone_vias = self.zone_reach(f)
            fsides = f.props.get(LATERALITY, [])
            for t in kinds:
                if t not in HERNIATIONS and not severe:
                    continue
                for default in self.reach.get(t, ()):
                    for level in levels:
                        for via in self.level_vias(f, t, default, zone_vias, level):
                            for root in self.roots.get((level, via), ()):
                                derms = self.dermatomes_of_root.get(root, ())
                                for s, sderms, ssides in symptoms:
                                    if not sderms.intersection(derms):
                                        continue
                                    if _sides_agree(fsides, ssides):
                                        changed |= self.compress(f, root, s)
            # infer-possible-root-compression: a herniation without a zone, whose exiting root (the reach of a
            # possible root compression) has a symptom on the same side: possibly, not inferred, compressed
            if _S + "disc_herniation" in f.types and not f.props.get(_S + "zone"):
                for via in self.reach.get(POSSIBLE_COMPRESSION, ()):
                    for level in levels:
                        for root in self.roots.get((level, via), ()):
                            derms = self.dermatomes_of_root.get(root, ())
                            for s, sderms, ssides in symptoms:
                                if sderms.intersection(derms) and _sides_agree(fsides, ssides):
                                    changed |= self.compress(f, root, s, POSSIBLE_COMPRESSION, "possibly")
        return changed

    def cauda_equina_at_risk(self, facts: list[Node], episode: list[float]) -> bool:
        """derive-cauda-equina-at-risk: a severe disc herniation in the central or paracentral zone, or a severe
        central canal stenosis, of a study no older than the episode (or undated); or a feature of suspected cauda
        equina syndrome, raised or excluded. Whether it added anything."""
        ago = {s.iri: s.props.get(_S + "weeksAgo", []) for s in facts if _S + "ImagingStudy" in s.types}
        changed = False
        for f in facts:
            if CES_AT_RISK in f.types:
                continue
            at_risk = CES_SUSPECTED in f.types
            if not at_risk and _S + "severe" in f.props.get(SEVERITY, ()):
                compressive = _S + "canal_stenosis" in f.types or (
                    _S + "disc_herniation" in f.types and not CENTRAL_ZONES.isdisjoint(f.props.get(_S + "zone", ()))
                )
                older = episode and any(
                    w > episode[0] for st in f.props.get(_S + "fromStudy", ()) for w in ago.get(st, ())
                )
                at_risk = compressive and not older
            if at_risk:
                f.types |= {CES_AT_RISK} | self.supers(CES_AT_RISK)
                changed = True
        return changed

    def cleared(self, pain: Node, facts: list[Node], episode: list[float]) -> bool:
        """Whether a back pain at 70 or over is cleared by imaging: recorded in no dermatome above L1, with an MRI or
        CT of the case no older than the pain (else than the episode), of the lumbar spine (a finding at a lumbar
        level, or none at any level), on which vertebral height loss is recorded absent at no level."""
        l1 = self.order.get(_S + "dermatome_L1")
        if any(d in self.order and self.order[d] < l1 for d in pain.props.get(_S + "inDermatome", ())):
            return False
        durations = pain.props.get(DURATION, ())
        studies = {f.iri: f for f in facts if _S + "ImagingStudy" in f.types}
        for none in facts:
            if HEIGHT_LOSS not in none.props.get(_S + "absentType", ()):
                continue
            if none.props.get(_S + "atDiscLevel") or none.props.get(_S + "atSpinalLevel"):
                continue
            for study in (studies[s] for s in none.props.get(_S + "fromStudy", ()) if s in studies):
                if not CLEARING_MODALITIES & set(study.props.get(_S + "modality", ())):
                    continue
                ago = study.props.get(_S + "weeksAgo", ())
                since = (
                    [w for w in ago if any(w <= d for d in durations)]
                    if durations
                    else [w for w in ago if not episode or w <= episode[0]]
                )
                levels = [
                    level
                    for f in facts
                    if study.iri in f.props.get(_S + "fromStudy", ())
                    for level in (*f.props.get(_S + "atDiscLevel", ()), *f.props.get(_S + "atSpinalLevel", ()))
                ]
                if since and (not levels or any(level in self.lumbar_levels for level in levels)):
                    return True
        return False

    def excluded_as(self, c: Node, facts: list[Node], episode: list[float]) -> bool:
        """derive-excluded-red-flag-feature: a record of a red flag the case excludes, unless the red flag is a
        suspicion and the record began (its duration shorter than the weeks since) or is progressive (from today)
        after the latest lumbar MRI or CT (for a fracture also a radiograph) of this episode. Whether it added
        anything."""
        excluded = c.props.get(_S + "excludesRedFlag", ())
        if not excluded:
            return False
        studies = [f for f in facts if _S + "ImagingStudy" in f.types]
        changed = False
        for flag in excluded:
            latest = None
            if flag not in self.confirmed:
                agos = [
                    w
                    for st in studies
                    if WORK_UP_MODALITIES & (m := set(st.props.get(_S + "modality", ())))
                    and (m - {RADIOGRAPHY} or flag == FRACTURE_SUSPECTED)
                    and self.lumbar(st, facts)
                    for w in st.props.get(_S + "weeksAgo", ())
                    if not episode or w <= episode[0]
                ]
                latest = min(agos, default=None)
            for f in facts:
                if flag not in f.types or flag in f.props.get(EXCLUDED_AS, ()):
                    continue
                began = [*f.props.get(DURATION, ())]
                if any(w is True or w == "true" for w in f.props.get(_S + "progressive", ())):
                    began.append(0.0)
                if latest is not None and any(b < latest for b in began):
                    continue
                f.types |= {EXCLUDED_FEATURE} | self.supers(EXCLUDED_FEATURE)
                f.props[EXCLUDED_AS].append(flag)
                changed = True
        return changed

    def lumbar(self, study: Node, facts: list[Node]) -> bool:
        """Whether a study is of the lumbar spine: a finding of it at a lumbar level, or none at any level."""
        levels = [
            level
            for f in facts
            if study.iri in f.props.get(_S + "fromStudy", ())
            for level in (*f.props.get(_S + "atDiscLevel", ()), *f.props.get(_S + "atSpinalLevel", ()))
        ]
        return not levels or any(level in self.lumbar_levels for level in levels)

    def paired_risk(self, facts: list, drug: str, partners: set, sides: set, derived: str) -> bool:
        """A drug record that, beside a partner record in the case, makes a risk (``derived``): the drug record,
        where a record of ``partners`` is in the case, and each record of ``sides``, where the drug is; whether
        anything was new."""
        partnered = any(f.types & partners for f in facts)
        taken = any(drug in f.types for f in facts)
        changed = False
        for f in facts:
            if derived in f.types:
                continue
            if (drug in f.types and partnered) or (f.types & sides and taken):
                f.types |= {derived} | self.supers(derived)
                changed = True
        return changed

    def malignancy_combined(self, facts: list[Node]) -> bool:
        """derive-pain-not-improving-on-care: a back pain, sciatica or buttock pain of 4 weeks or more, in a case with
        a treatment of this episode unchanged, worse or failed and none improved; derive-night-pain-after-50-not-
        improving: night pain in a case with back pain after 50 and such a pain. Whether they added anything."""
        changed = False
        outcomes = {
            o
            for f in facts
            if _S + "PriorTreatment" in f.types and BEFORE_EPISODE not in f.types  # of this episode
            for o in f.props.get(_S + "outcome", ())
        }
        if outcomes & UNHELPED and IMPROVED not in outcomes:
            for s in facts:
                if (
                    s.types & BACK_PAINS
                    and NOT_IMPROVING not in s.types
                    and any(d >= 4 for d in s.props.get(DURATION, ()))
                ):
                    s.types |= {NOT_IMPROVING} | self.supers(NOT_IMPROVING)
                    changed = True
        if any(AFTER_50 in f.types for f in facts) and any(NOT_IMPROVING in f.types for f in facts):
            for s in facts:
                if NIGHT_PAIN in s.types and NIGHT_PAIN_FLAG not in s.types:
                    s.types |= {NIGHT_PAIN_FLAG} | self.supers(NIGHT_PAIN_FLAG)
                    changed = True
        return changed

    def multilevel(self, facts: list[Node]) -> bool:
        """derive-multilevel-degenerative-finding: a spondylosis or degenerative disc disease at a level, in a case
        with such a finding at another level; or one at no level that is not a disc bulge or narrowing. Whether it
        added anything."""
        where = (_S + "atDiscLevel", _S + "atSpinalLevel")
        levels = {f.iri: {x for p in where for x in f.props.get(p, ())} for f in facts if f.types & DEGENERATIVE}
        every = set().union(*levels.values()) if levels else set()
        changed = False
        for f in facts:
            if f.iri not in levels or MULTILEVEL in f.types:
                continue
            own = levels[f.iri]
            if (own and len(every) > 1) or (not own and not f.types & ONE_DISC):
                f.types |= {MULTILEVEL} | self.supers(MULTILEVEL)
                changed = True
        return changed

    def after_surgery(self, c: Node, facts: list[Node]) -> bool:
        """derive-new-or-progressing-after-lumbar-surgery: a symptom of a case with a lumbar operation, where an
        operation is recorded as neither having helped nor unchanged or failed, or as having helped with the symptom
        after it (when it was done or the symptom's duration not recorded, or the duration shorter than the weeks
        since), or the symptom is progressive, or a cauda equina or progressive neurological deficit red flag whose
        exclusion does not cover it. Whether it added anything."""
        ops = [
            f
            for f in facts
            if _S + "PriorTreatment" in f.types
            and (tt := f.first(_S + "treatmentType")) is not None
            and (tt == SURGERY or SURGERY in self.supers(tt))
        ]
        if not ops:
            return False
        opened = any(not (SAME_AFTER | HELPED).intersection(f.props.get(_S + "outcome", ())) for f in ops)
        # the operations that helped, each by the weeks since it was done ([] not recorded)
        helped = [
            f.props.get(_S + "treatmentWeeksAgo", [])
            for f in ops
            if HELPED.intersection(f.props.get(_S + "outcome", ()))
        ]
        changed = False
        for s in facts:
            if _S + "Symptom" not in s.types or AFTER_SURGERY in s.types:
                continue
            worse = any(w is True or w == "true" for w in s.props.get(_S + "progressive", ()))
            durations = s.props.get(DURATION, [])
            after = any(not ago or not durations or any(d < a for d in durations for a in ago) for ago in helped)
            # a red flag of a new deficit its exclusion does not cover (derive-excluded-red-flag-feature)
            flags = [r for r in NEW_DEFICIT_FLAGS if r in s.types and r not in s.props.get(EXCLUDED_AS, ())]
            if opened or after or worse or flags:
                s.types |= {AFTER_SURGERY} | self.supers(AFTER_SURGERY)
                changed = True
        return changed

    def progressing_on_care(self, c: Node, facts: list[Node]) -> bool:
        """derive-candidate-pain-progressing-on-care: a back pain, sciatica or buttock pain of a candidate for an
        operation (or for an injection, with a sciatica recorded), in a case with conservative care of this episode,
        none of it improved or partly improved, where a course of it is recorded worse or the pain progressive.
        Whether it added anything."""
        candidacy = set(c.props.get(_S + "candidateFor", ()))
        sciatica = any(LUMBOSACRAL_PAIN in f.types for f in facts)
        if SURGERY_CANDIDATE not in candidacy and not (INJECTION_CANDIDATE in candidacy and sciatica):
            return False
        care = [
            f
            for f in facts
            if _S + "PriorTreatment" in f.types
            and BEFORE_EPISODE not in f.types
            and (tt := f.first(_S + "treatmentType")) is not None
            and (tt == CONSERVATIVE or CONSERVATIVE in self.supers(tt))
        ]
        if not care or any(HELPED.intersection(f.props.get(_S + "outcome", ())) for f in care):
            return False
        worse = any(WORSE in f.props.get(_S + "outcome", ()) for f in care)
        changed = False
        for s in facts:
            if not s.types & BACK_PAINS or PROGRESSING_ON_CARE in s.types:
                continue
            if worse or any(w is True or w == "true" for w in s.props.get(_S + "progressive", ())):
                s.types |= {PROGRESSING_ON_CARE} | self.supers(PROGRESSING_ON_CARE)
                changed = True
        return changed

    def after_procedure(self, facts: list[Node]) -> bool:
        """derive-back-pain-after-recent-spinal-procedure: a low back axial pain of a case with a spinal procedure
        (spine surgery, spinal injection or vertebral augmentation, or narrower) done at most 12 weeks ago (a spinal
        injection at most 4), the pain
        begun since (a duration shorter than the weeks since, or none recorded) or progressive;
        derive-spinal-procedure-before-back-pain: such a procedure, with such a pain after it;
        derive-recent-or-undated-spine-operation: an operation (spine surgery or narrower) done at most 12 weeks ago, a
        fusion at most 52, or with no weeks ago recorded, pain or none; derive-prior-spinal-fusion: a fusion (or
        narrower) at any time, or undated. Whether it added anything."""
        recent = [
            (f, ago)
            for f in facts
            if _S + "PriorTreatment" in f.types
            and (tt := f.first(_S + "treatmentType")) is not None
            and (tt in PROCEDURES or not PROCEDURES.isdisjoint(self.supers(tt)))
            for ago in f.props.get(_S + "treatmentWeeksAgo", ())
            if ago <= PROCEDURE_WINDOW
            and (ago <= INJECTION_WINDOW or not (tt == INJECTION or INJECTION in self.supers(tt)))
        ]
        changed = False
        for f in facts:
            tt = f.first(_S + "treatmentType")
            if _S + "PriorTreatment" not in f.types or tt is None:
                continue
            kinds = {tt} | self.supers(tt)
            if FUSION in kinds and PRIOR_FUSION not in f.types:
                f.types |= {PRIOR_FUSION} | self.supers(PRIOR_FUSION)
                changed = True
            ago = f.props.get(_S + "treatmentWeeksAgo", ())
            window = FUSION_WINDOW if FUSION in kinds else PROCEDURE_WINDOW
            if RECENT_OPERATION in f.types:
                continue
            if SURGERY in kinds and (not ago or any(w <= window for w in ago)):
                f.types |= {RECENT_OPERATION} | self.supers(RECENT_OPERATION)
                changed = True
        for s in facts:
            if LOW_BACK_AXIAL_PAIN not in s.types:
                continue
            worse = any(w is True or w == "true" for w in s.props.get(_S + "progressive", ()))
            durations = s.props.get(DURATION, [])
            for f, ago in recent:
                if not (worse or not durations or any(d < ago for d in durations)):
                    continue
                for node, cls in ((s, PAIN_AFTER_PROCEDURE), (f, PROCEDURE_BEFORE_PAIN)):
                    if cls not in node.types:
                        node.types |= {cls} | self.supers(cls)
                        changed = True
        return changed

    def in_a_leg(self, s: Node) -> bool:
        """Whether a symptom is felt in a leg (a dermatome of the legs, or a region of the leg), or not placed."""
        derms, regions = s.props.get(_S + "inDermatome", ()), s.props.get(_S + "inBodyRegion", ())
        if not derms and not regions:
            return True
        return not self.leg_dermatomes.isdisjoint(derms) or not self.leg_regions.isdisjoint(regions)

    def paired(self, facts: list[Node]) -> bool:
        """The rules that join two records of a case; whether they added anything.

        derive-bilateral-sciatica-by-side and derive-leg-weakness-on-both-sides: a left and a right lumbosacral
        radicular pain (weakness), each in a leg or not placed, are each bilateral sciatica (a leg weakness recorded on
        both sides); derive-bilateral-leg-weakness-by-side: such a weakness of this episode, with one of this episode
        on the other side, is bilateral leg weakness; derive-multi-root-weakness: weaknesses recorded in the dermatomes
        of two or more lumbosacral roots."""
        changed = False
        for base, cls in BY_SIDE:
            sided = [
                (s, side)
                for s in facts
                if base in s.types and self.in_a_leg(s)
                for side in s.props.get(LATERALITY, ())
                if side in SIDED
            ]
            for s, side in sided:
                if cls not in s.types and any(other != side for _, other in sided):
                    s.types |= {cls} | self.supers(cls)
                    changed = True
        new = [(s, side) for s in facts if {BOTH_SIDES_WEAKNESS, THIS_EPISODE_WEAKNESS} <= s.types
               for side in s.props.get(LATERALITY, ()) if side in SIDED]  # fmt: skip
        for s, side in new:
            if BILATERAL_WEAKNESS_BY_SIDE not in s.types and any(other != side for _, other in new):
                s.types |= {BILATERAL_WEAKNESS_BY_SIDE} | self.supers(BILATERAL_WEAKNESS_BY_SIDE)
                changed = True
        l1 = self.order.get(_S + "dermatome_L1", 0.0)
        # derive-multi-root-weakness: another record's root, or the same record's at a root not next to it
        held = [(s.iri, self.root_of[d]) for s in facts if WEAKNESS in s.types
                for d in s.props.get(_S + "inDermatome", ())
                if d in self.root_of and self.order.get(d, -1.0) >= l1]  # fmt: skip
        for s in facts:
            mine = [r for i, r in held if i == s.iri]
            if MULTI_ROOT_WEAKNESS not in s.types and any(
                r2 != r and (i2 != s.iri or (r, r2) not in self.adjacent_roots) for r in mine for i2, r2 in held
            ):
                s.types |= {MULTI_ROOT_WEAKNESS} | self.supers(MULTI_ROOT_WEAKNESS)
                changed = True
        return changed

    def level_unknown(self, f: Node, kinds: set[str], symptoms: list[tuple[Node, set[str], list]]) -> bool:
        """infer-level-unknown-root-compression: a herniation, or a moderate or severe stenosis, recorded without a
        level, that at some disc level would reach (by its zone, else its type; a herniation without a zone also by
        the exiting root) a root with a symptom on the same side: possibly, not inferred, compressed."""
        severe = any(x in COMPRESSING_SEVERITIES for x in f.props.get(SEVERITY, ()))
        zone_vias = self.zone_reach(f)
        vias = {
            via
            for t in kinds
            if t in HERNIATIONS or severe
            for default in self.reach.get(t, ())
            for via in self.vias(default, zone_vias)
        }
        if _S + "disc_herniation" in f.types and not f.props.get(_S + "zone"):
            vias.update(self.reach.get(POSSIBLE_COMPRESSION, ()))
        if self.fills_canal(f):  # at a lumbar level, what a central canal stenosis reaches
            vias.add(CENTRAL_CANAL)
        changed = False
        fsides = f.props.get(LATERALITY, [])
        for (_, via), roots in sorted(self.roots.items()):
            if via not in vias:
                continue
            for root in roots:
                derms = self.dermatomes_of_root.get(root, ())
                for s, sderms, ssides in symptoms:
                    if sderms.intersection(derms) and _sides_agree(fsides, ssides):
                        changed |= self.compress(f, root, s, NO_LEVEL_COMPRESSION, "possibly")
        return changed

    def compress(self, f: Node, root: str, s: Node, cls: str = COMPRESSION, how: str = "") -> bool:
        """Type ``f`` a nerve root compression of ``root``, concordant with ``s`` (or, with ``cls`` the possible
        one and ``how`` "possibly", possibly so); whether that was new."""
        compresses, concordant = (_S + "compressesRoot", _S + "concordantWith") if not how else (
            _S + "possiblyCompressesRoot", _S + "possiblyConcordantWith")  # fmt: skip
        new = cls not in f.types or root not in f.props.get(compresses, ())
        new = new or s.iri not in f.props.get(concordant, ())
        if new:
            f.types |= {cls} | self.supers(cls)
            for prop, value in ((compresses, root), (concordant, s.iri)):
                if value not in f.props.get(prop, ()):
                    f.props[prop].append(value)
        return new


Speaks = apply.Speaks  # (case, rec) → condition → status → (facts, missing)


def speak(
    speaks: Speaks, case: str, rec: str, cond: str, status: str, facts=(), missing=(), rule: str = DEFAULT_RULE
) -> None:
    """Record that a row of ``status`` speaks for condition ``cond`` of ``rec`` in ``case``, with its facts and
    missing fields, and the id of the rule (``reasoner/rules/conditions/``) that made it speak, where one did."""
    f, m, ids = speaks.setdefault((case, rec), {}).setdefault(cond, {}).setdefault(status, (set(), set(), set()))
    f.update(facts)
    m.update(missing)
    ids.add(rule)


def fold(catalogue: dict[str, tuple[tuple[str, str], ...]], speaks: Speaks) -> list[Applicability]:
    """The applicability of every (case, recommendation) pair some row speaks to, folded by apply.py itself.

    ``catalogue`` maps each recommendation to its (condition, kind) pairs. A pair no row speaks to is left out:
    every condition is at its default, and the plan assembly fills such pairs in itself (``CaseRun``).
    """
    return apply.fold(speaks, catalogue)


@dataclass(frozen=True)
class Conditions:
    """The recommendations' conditions as data, read from the KB: per recommendation, its (condition name, kind,
    parameters) in the order plans list them (kind, then name); parameter values are IRIs as strings or numbers."""

    by_rec: dict[str, tuple[tuple[str, str, dict[str, tuple]], ...]]

    @classmethod
    def read(cls, reasoner: Reasoner) -> Conditions:
        from reasoner.consts import RDF, SK

        kb = skolem_kb(reasoner)
        by_rec: dict[str, list] = defaultdict(list)
        for rec in kb.subjects(RDF.type, SK.Recommendation):
            for cond in kb.objects(rec, SK.hasCondition):
                kinds = [str(k).removeprefix(str(SK)) for k in kb.objects(cond, RDF.type)]
                for kind in (k for k in kinds if k in DEFAULT):
                    params: dict[str, list] = defaultdict(list)
                    for p, o in kb.predicate_objects(cond):
                        if p != RDF.type and str(p).startswith(str(SK)):
                            value = str(o) if isinstance(o, URIRef) else float(o.toPython())
                            params[str(p).removeprefix(str(SK))].append(value)
                    by_rec[str(rec)].append((condition_name(cond), kind, {k: tuple(v) for k, v in params.items()}))
        check_condition_names(reasoner, (c[0] for conds in by_rec.values() for c in conds))
        return cls({rec: tuple(sorted(conds, key=lambda c: (c[1], c[0]))) for rec, conds in sorted(by_rec.items())})

    @property
    def catalogue(self) -> dict[str, tuple[tuple[str, str], ...]]:
        """Recommendation → its (condition name, kind) pairs, for ``fold``."""
        return {rec: tuple((c, k) for c, k, _ in conds) for rec, conds in self.by_rec.items()}


@dataclass
class Timed:
    """Plans a baseline produced, in case order, and how long producing them took."""

    plans: list[Plan]
    seconds: float
    finished: bool


def timed(batches: Iterator[list[Plan]], total: int, budget: float | None) -> Timed:
    """Draw batches of plans until all ``total`` are made or ``budget`` seconds have passed (checked between
    batches; a baseline yields a batch as soon as it has one, so no finished work is thrown away)."""
    out: list[Plan] = []
    start = time.perf_counter()
    for batch in batches:
        out.extend(batch)
        if budget is not None and time.perf_counter() - start > budget and len(out) < total:
            break
    return Timed(out, time.perf_counter() - start, len(out) == total)
