"""Warnings for what a plan leaves to the clinician: a red flag's imaging already on file, no pain relief left, an age
threshold the sources disagree on, a red-flag trigger spinekg does not act on alone, a presentation a finding suggests
that the case does not establish, a finding (pregnancy) none of the sources address for the plan's drugs or imaging, a
finding a source, or spinekg's judgement, asks a step to be given with in mind (``cautions``: renal impairment, for
NSAIDs; an anticoagulant, for a spinal injection), a step the case records a contraindication to that no source
replaces (``contraindicated``), manual therapy without the exercise NICE gives it with (``packages``); and, from
``records``, what the case's own records leave open (a leg weakness with no side, one symptom charted in two phases).

Each is a warning, never a step: spinekg recommends nothing its sources do not.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping

from rdflib import BNode, Literal, URIRef

from ..case.paths import path_key
from ..consts import OWL, RDFS, SK, SK_IRI, XSD
from ..kb.index import local
from ..reasoning.engine import CaseRun, Reasoner
from .cautions import caution_recorded, judgement_caution, may_be_unsuitable, taken_and_advised_against
from .cleared import fracture_age_cleared_by_imaging, red_flag_imaging_on_file
from .contraindications import contraindicated_step
from .drugs import sedatives_combined, step_reading, tempers_expectations, tried_and_advised_against
from .history import previous_care
from .lines import drug_line_left
from .model import Step, Warning
from .packages import outside_its_package
from .parts import ANALGESIA, by_class, confirmed_flags, recorded, unique
from .records import records
from .stillneeds import still_needs
from .studied import ces_safety_net, red_flag_study_on_file
from .words import fact_text, steps_named

_PAIN = str(SK.PainSymptom)
_URGENT = ("emergency", "urgent")
_DRUG = str(SK.PharmacologicalIntervention)
_AGE = str(SK.age)
_FRACTURE, _MALIGNANCY = str(SK.fracture_suspected), str(SK.malignancy_suspected)
_OLDER = str(SK.back_pain_in_older_patient)
_BACK = str(SK.low_back_pain_presentation)
_IMAGING, _RED_FLAG = str(SK.ImagingIntervention), str(SK.redFlag)

#: The lowest age any source gives for back pain that is itself a red flag: Choosing Wisely (NASS) lists "age > 50"
#: among its red flags, red_flags.csv "age >50 with new pain" among the triggers of suspected malignancy. Above it,
#: the sources disagree on what the age means, and the plan says so.
SOURCE_AGE = 50


def caveats(
    reasoner: Reasoner,
    run: CaseRun,
    steps: list[Step],
    failed: dict[str, list[str]],
    path: Callable[[str], str],
    contra: Mapping[str, list[tuple[str, str]]],
    deferred: Iterable[Step] = (),
) -> list[Warning]:
    """Every warning of this module for one plan, in this order (``deferred``: the steps waiting on its red flags)."""
    return (
        red_flag_confirmed(reasoner, run, path)
        + red_flag_imaging_on_file(reasoner, run, path)
        + red_flag_study_on_file(reasoner, run, path)
        + ces_safety_net(reasoner, run, path, steps)
        + fracture_age_cleared_by_imaging(reasoner, run, path)
        + no_pain_relief_left(reasoner, run, steps, failed, path, contra, deferred)
        + age_threshold_differs(reasoner, run)
        + red_flag_feature_not_acted_on(reasoner, run, steps, path)
        + presentation_not_established(reasoner, run, path)
        + specific_cause_recorded(reasoner, run, path)
        + sources_silent_for_finding(reasoner, run, steps, path)
        + caution_recorded(reasoner, run, steps, path)
        + may_be_unsuitable(reasoner, run, steps, path)
        + judgement_caution(reasoner, run, steps, deferred, path)
        + (taken := taken_and_advised_against(reasoner, run, steps, path))
        + tried_and_advised_against(reasoner, run, steps, path, taken)
        + sedatives_combined(reasoner, steps)
        + step_reading(reasoner, steps)
        + drug_line_left(reasoner, steps, failed, contra, path)
        + tempers_expectations(reasoner, steps)
        + contraindicated_step(reasoner, run, steps, path)
        + outside_its_package(reasoner, run, steps, failed, path)
        + records(reasoner, run, steps, path)  # a weakness with no side, durations in different phases
    )


def red_flag_confirmed(reasoner: Reasoner, run: CaseRun, path: Callable[[str], str]) -> list[Warning]:
    """A raised red flag a presentation of the case confirms (``sk:confirmedBy``: new vertebral height loss on
    imaging confirms a suspected vertebral fracture): not a suspicion the work-up will exclude, so the care it would
    hold back is not deferred, and its own steps stand (a "do not" of imaging still waits while it stands)."""
    idx = reasoner.index
    out = []
    for flag, presentations in sorted(confirmed_flags(reasoner, run).items()):
        facts = sorted({f for p in presentations for f in run.presentations[p]}, key=lambda f: path_key(path(f)))
        label, name = idx.label(flag), local(flag)
        seen = "; ".join(f"{fact_text(idx, run.details.get(f, {}))} ({path(f)})" for f in facts)
        out.append(
            Warning(
                "red_flag_confirmed",
                f"{label} [{name}] is confirmed: {', '.join(idx.label(p) for p in presentations)} from {seen}. "
                "It is not a suspicion a work-up will exclude, so the care it holds back while suspected is not "
                "deferred: the steps say what is unsafe with it (and its own steps stand); advice against imaging, "
                "for a presentation without a specific cause, still waits while it stands",
                (name, *(local(p) for p in presentations), *(path(f) for f in facts)),
            )
        )
    return out


def pain_symptoms(reasoner: Reasoner, run: CaseRun, relief: bool = False) -> list[str]:
    """The case's present pain symptoms (an absence recorded with ``present: false`` is not one); with ``relief``, also
    the symptoms of a class the KB says is a pain for pain relief (``sk:painForRelief``: neurogenic claudication, leg
    pain on walking), which is not a ``sk:PainSymptom`` so that no other recommendation or warning reads it as one."""
    idx = reasoner.index
    pains = [_PAIN]
    if relief:
        key = ("pain_for_relief",)
        if key not in reasoner.cache:
            reasoner.cache[key] = sorted(str(c) for c in reasoner.kb.subjects(SK.painForRelief, Literal(True)))
        pains += reasoner.cache[key]
    return [f for f, types in run.fact_types.items() if any(idx.is_a(t, p) for t in types for p in pains)]


def _age(run: CaseRun) -> float | None:
    ages = [float(a) for a in run.details.get(run.case + "/patient", {}).get(_AGE, ())]
    return min(ages) if ages else None


def _tempers(reasoner: Reasoner, rec: str) -> bool:
    """Whether a recommendation of stance avoid only tempers the expectations of its intervention
    (``sk:tempersExpectations``)."""
    return bool(reasoner.kb.value(URIRef(rec), SK.tempersExpectations))


def no_pain_relief_left(
    reasoner: Reasoner,
    run: CaseRun,
    steps: Iterable[Step],
    failed: dict[str, list[str]],
    path: Callable[[str], str],
    contra: Mapping[str, list[tuple[str, str]]] | None = None,
    deferred: Iterable[Step] = (),
) -> list[Warning]:
    """A patient in pain whose plan has no step to do or consider pain relief (``sk:pain_management`` or narrower).

    Pain relief is never deferred by a red flag, so a plan's steps are where it would be; what the sources advise
    against, what was tried without success and what the clinician recorded as contraindicated (``contra``:
    intervention → the recorded facts) are named, for the clinician to review. The sources' "do not" of a
    pain-relief drug that waits on a red flag (``deferred``: it is for pain without a specific cause) is not advice
    against it now: it is named as deferred."""
    idx = reasoner.index
    steps = list(steps)
    if any(s.stance != "avoid" and idx.is_a(SK_IRI + s.id, ANALGESIA) for s in steps):
        return []  # looked at first: most plans have pain relief, and finding the pain reads every fact's classes
    pain = pain_symptoms(reasoner, run, relief=True)
    if not pain:
        return []
    tried = sorted(
        ((t, f) for t, facts in failed.items() if idx.is_a(t, ANALGESIA) for f in facts),
        key=lambda tf: path_key(path(tf[1])),
    )
    previous = previous_care(reasoner, run)  # what helped in a previous episode is its warning's (history)
    helped = sorted(
        (
            (t, f)
            for f, d in run.details.items()
            if d.get(str(SK.outcome), set()) & _HELPED and f not in previous
            for t in d.get(str(SK.treatmentType), ())
            if idx.is_a(t, ANALGESIA)
        ),
        key=lambda tf: path_key(path(tf[1])),
    )
    against = [s for s in steps if s.stance == "avoid" and idx.is_a(SK_IRI + s.id, ANALGESIA)]
    # a "do not" whose every recommendation only tempers expectations (sk:tempersExpectations: article 002's "do not
    # assume efficacy of neuropathic pain medications") is not advice against the drug: named apart
    tempered = [s for s in against if all(_tempers(reasoner, r) for r in s.recommendations)]
    against = [s for s in against if s not in tempered]
    other_drugs = [
        s for s in steps if s.stance == "avoid" and idx.is_a(SK_IRI + s.id, _DRUG) and s not in against + tempered
    ]
    waiting = [s for s in deferred if s.stance == "avoid" and idx.is_a(SK_IRI + s.id, ANALGESIA)]
    ruled = [(i, f) for i, found in (contra or {}).items() if idx.is_a(i, ANALGESIA) for f, _ in found]
    said = []
    if helped:  # what helped is not "left": it is what to go on with (review K2: only the failed one was named)
        said.append("recorded as helping: " + ", ".join(f"{idx.label(t)} ({path(f)})" for t, f in helped))
    if tried:
        said.append("already tried without success: " + ", ".join(f"{idx.label(t)} ({path(f)})" for t, f in tried))
    if ruled:
        said.append("recorded as contraindicated: " + ", ".join(f"{idx.label(i)} ({path(f)})" for i, f in ruled))
    if against:  # as each step says it ("opioids (routinely)")
        said.append("the sources advise against: " + ", ".join(unique(s.label for s in against)))
    if tempered:  # reviews R7 (r7-04) and R8: a caveat on expectations, not a "do not"
        said.append(
            "the sources temper the expectations of: " + ", ".join(unique(idx.label(SK_IRI + s.id) for s in tempered))
        )
    if waiting:  # "deferred until suspected spinal infection is excluded", as each such step's timing says
        said.append(
            "the sources' advice against "
            + ", ".join(unique(idx.label(SK_IRI + s.id) for s in waiting))
            + f" (for pain without a specific cause) is {waiting[0].timing}"
        )
    if other_drugs:
        said.append(
            ("and, of other drugs, against: " if against else "of other drugs, the sources advise against: ")
            + ", ".join(unique(idx.label(SK_IRI + s.id) for s in other_drugs))
        )
    pain_paths = sorted({path(f) for f in pain}, key=path_key)
    message = (
        f"pain is recorded ({', '.join(pain_paths)}) but this plan has no pain-relief drug to do or consider: "
        + (
            "; ".join(said) + f"; no {'new ' if helped else ''}analgesic option is left from its sources"
            if said
            else "its sources give none"
        )
        + " for this case. Pain relief is not to be withheld: review analgesia with the patient (the clinician's "
        "decision; spinekg adds no recommendation its sources do not make)"
    )
    subjects = (
        *pain_paths,
        *unique(path(f) for _, f in helped + tried + ruled),
        *unique(s.id for s in against + tempered + other_drugs + waiting),
    )
    return [Warning("no_pain_relief_left", message, subjects)]


_HELPED = {str(SK.improved), str(SK.partial_improvement)}


def _min_age(reasoner: Reasoner, cls: URIRef) -> float | None:
    """The lowest age (``xsd:minInclusive``) in a class's definition (``owl:equivalentClass``): the threshold the
    reasoner uses, read from the KB so the warning says what the KB does."""
    kb, found = reasoner.kb, []
    todo = list(kb.objects(cls, OWL.equivalentClass))
    seen = set(todo)
    while todo:
        for p, o in kb.predicate_objects(todo.pop()):
            if p == XSD.minInclusive and isinstance(o, Literal):
                found.append(float(o))
            elif isinstance(o, BNode) and o not in seen:
                seen.add(o)
                todo.append(o)
    return min(found) if found else None


def age_threshold_differs(reasoner: Reasoner, run: CaseRun) -> list[Warning]:
    """A patient over 50 with low back pain or sciatica (the presentation the sources' age thresholds are about: a
    groin or hip pain alone is not), in pain: the sources disagree on the age from which back pain is itself a red
    flag."""
    age = _age(run)
    back = age is not None and age > SOURCE_AGE and _BACK in run.presentations
    pain = set(pain_symptoms(reasoner, run)) if back else set()
    if age is None or not pain:
        return []
    key = ("age_thresholds",)
    if key not in reasoner.cache:
        reasoner.cache[key] = (
            _min_age(reasoner, SK.back_pain_in_older_patient),
            _min_age(reasoner, SK.new_height_loss_in_older_patient),
        )
    alone, with_height_loss = reasoner.cache[key]
    ours = (
        f"spinekg raises suspected fracture on age alone at {alone:g} or over"
        if alone is not None
        else "spinekg does not raise suspected fracture on age alone"
    )
    if with_height_loss:
        ours += f" (at {with_height_loss:g} or over with new vertebral height loss)"
    ours += " and does not raise suspected malignancy on age alone"
    # the fracture red flag raised by the pain itself (a pain symptom is a suspected fracture only by age)
    by_age = not pain.isdisjoint(run.red_flags.get(_FRACTURE, ()))
    cleared = [f for f in pain if _OLDER in run.fact_types.get(f, ())]
    if by_age:
        here = "so at this age the fracture red flag is raised on age"
    elif cleared:  # back pain at 70 or over that a lumbar MRI or CT of this episode cleared
        here = (
            "but here a lumbar MRI or CT of this episode records no vertebral height loss, so age does not raise it "
            "(warning fracture_age_cleared_by_imaging)"
        )
    elif alone is not None and age >= alone and _FRACTURE not in run.red_flags:
        # old enough, but the pain is not back pain: leg pain alone (ACR variant 6 is low back pain +/- radiculopathy)
        here = (
            "but the fracture red flag is not raised here: it is raised on age with back (axial) pain, "
            "which this case does not record"
        )
    else:
        here = "so at this age neither red flag is raised on age alone"
    if _MALIGNANCY in run.red_flags:
        here += " (suspected malignancy is raised here by other findings)"
    message = (
        f"age {age:g} with pain: the sources disagree on the age from which back pain is itself a red flag. "
        "ACR Appropriateness Criteria (low back pain, variant 6) names an 'elderly individual' without an age; "
        "Choosing Wisely (NASS) lists age > 50 among its red flags; ACP/APS 2007 (Chou) 'age > 70' is known here "
        "only as quoted in a JGIM 2015 table (unverified); red_flags.csv lists 'age >50 with new pain' among the "
        f"triggers of suspected malignancy (thresholds recalled: unverified). {ours}, {here}: a judgement, for the "
        "clinician to weigh with the rest of the history"
    )
    return [Warning("age_threshold_differs", message, ("age",))]


def red_flag_feature_not_acted_on(
    reasoner: Reasoner, run: CaseRun, steps: Iterable[Step], path: Callable[[str], str]
) -> list[Warning]:
    """A finding the reference facts list among a red flag's triggers (``sk:listedTriggerOf``) that spinekg does not
    raise that red flag on alone, recorded without the red flag: named, for the clinician to weigh, with when spinekg
    does raise it (``sk:listedTriggerNote``) and the row's other triggers the case records (``sk:listedTriggerOf``,
    ``sk:accompanyingTriggerOf``: back pain over age 50, care that has not helped); where there are any, a step that
    avoids imaging on the premise of no red flag (a ``NoRedFlag`` condition) is named as resting on it."""
    listed = by_class(reasoner, SK.listedTriggerOf)  # finding class → the red flags it is a listed trigger of
    also = by_class(reasoner, SK.accompanyingTriggerOf)  # … an accompanying trigger of
    found = recorded(run, path, listed)
    if not found:
        return []
    idx = reasoner.index
    order = sorted(run.fact_types, key=lambda f: path_key(path(f)))
    triggers: dict[str, list[tuple[str, str]]] = {}  # red flag → the (fact, class) of its triggers in the case
    for fact in order:
        for cls in sorted(run.fact_types[fact]):
            for flag in (*listed.get(cls, ()), *also.get(cls, ())):
                triggers.setdefault(flag, []).append((fact, cls))
    out = []
    for fact, classes in found:
        for cls in classes:
            # not where the finding is itself of the red flag: an exclusion covers it, and red_flag_excluded names it
            for flag in sorted(f for f in listed[cls] if f not in run.red_flags and f not in run.fact_types[fact]):
                note = next(iter(reasoner.kb.objects(URIRef(cls), SK.listedTriggerNote)), None)
                # the row's other triggers: on other records, and not this one again (the other weaknesses of a
                # multi-root deficit are the same trigger)
                others = [(f, c) for f, c in triggers.get(flag, ()) if f != fact and c != cls]
                # the narrower kind of the finding that raises the red flag (new urinary retention), if the KB has one
                # and says no more of when the red flag is raised (sk:listedTriggerNote)
                raising = (
                    []
                    if note
                    else sorted(
                        str(n)
                        for n in reasoner.kb.subjects(RDFS.subClassOf, URIRef(cls))
                        if (n, RDFS.subClassOf, URIRef(flag)) in reasoner.kb
                    )
                )
                only = (
                    f"spinekg raises that red flag only on {' or '.join(idx.label(n) for n in raising)} "
                    f"[{', '.join(local(n) for n in raising)}], which this finding is not"
                    if raising
                    else "spinekg does not raise that red flag on it alone"
                )
                head = (
                    f"{idx.label(cls)} ({path(fact)}): red_flags.csv lists it among the triggers of "
                    f"{idx.label(flag)} [{local(flag)}], but {only}"
                )
                # when spinekg does raise it; what it still needs, and whether the plan gives it (review R12 #7)
                when = (f"; {note}" if note else "") + still_needs(reasoner, run, cls, steps, path)
                subjects: tuple[str, ...] = (path(fact), local(cls), local(flag))
                if flag in run.excluded_flags:
                    tail = (
                        " and the case records that red flag as worked up and excluded (red_flags_excluded): the "
                        "clinician weighs whether this finding is explained by that work-up"
                    )
                elif others:
                    named = "; ".join(f"{idx.label(c)} ({path(f)})" for f, c in others)
                    avoid = _no_red_flag_imaging_avoided(reasoner, run, steps)
                    tail = (
                        f"{when}. The case also records other triggers the same row lists: {named}. spinekg does not "
                        "raise the red flag on these together: the clinician weighs them with the rest of the history"
                        + (
                            "; the plan's "
                            + steps_named(avoid)
                            + " rests on no red flag being present, which these features leave for the clinician "
                            "to judge"
                            if avoid
                            else ""
                        )
                    )
                    subjects += (*unique(path(f) for f, _ in others), *(local(s.recommendation) for s in avoid))
                else:
                    tail = " and nothing else in this case raises it: the clinician weighs it with the rest of the "
                    tail += f"history{when}"
                comma = "," if raising and tail.startswith(" and") else ""  # "…, which this finding is not, and"
                out.append(Warning("red_flag_feature_not_acted_on", head + comma + tail, subjects))
    return out


def _no_red_flag_imaging_avoided(reasoner: Reasoner, run: CaseRun, steps: Iterable[Step]) -> list[Step]:
    """The plan's steps that avoid imaging on the premise of no red flag: one of their recommendations applies with a
    ``NoRedFlag`` condition."""
    idx = reasoner.index
    premised = {
        a.recommendation
        for a in run.applicability
        if a.status == "applies" and any(c.kind == "NoRedFlag" for c in a.conditions)
    }
    return [
        s
        for s in steps
        if s.stance == "avoid" and idx.is_a(SK_IRI + s.id, _IMAGING) and not premised.isdisjoint(s.recommendations)
    ]


def presentation_not_established(reasoner: Reasoner, run: CaseRun, path: Callable[[str], str]) -> list[Warning]:
    """A finding the reference facts give among a clinical presentation's features (``sk:suggestedBy``), recorded in a
    case that is not in the presentation (its definition needs more, an imaging finding): named, with what the
    reference facts say of establishing it (``sk:suggestedNote``), for the clinician to weigh."""
    suggested = by_class(reasoner, SK.suggestedBy, inverse=True)  # finding class → the presentations it suggests
    by: dict[str, list[tuple[str, str]]] = {}  # presentation → (fact, feature class), in the case's field order
    for fact, classes in recorded(run, path, suggested):
        for cls in classes:
            for p in suggested[cls]:
                if p not in run.presentations:
                    by.setdefault(p, []).append((fact, cls))
    idx, out = reasoner.index, []
    for p in sorted(by):
        found = "; ".join(f"{idx.label(c)} ({path(f)})" for f, c in by[p])
        note = next(iter(reasoner.kb.objects(URIRef(p), SK.suggestedNote)), "")
        out.append(
            Warning(
                "presentation_not_established",
                f"{found}: {'features' if len(by[p]) > 1 else 'a feature'} of {idx.label(p)} [{local(p)}], which "
                f"this case does not establish: {note}",
                (*unique(path(f) for f, _ in by[p]), local(p)),
            )
        )
    return out


def specific_cause_recorded(reasoner: Reasoner, run: CaseRun, path: Callable[[str], str]) -> list[Warning]:
    """A clinical presentation the case is in, recorded with a finding that is a specific cause of its symptoms
    (``sk:specificCauseOf``: sciatica after significant trauma): named, with the source's sentence
    (``sk:specificCauseEvidence``) and the KB's note (``sk:specificCauseNote``). The steps stay."""
    causes = by_class(reasoner, SK.specificCauseOf)  # finding class → the presentations it is a specific cause of
    idx, kb, out = reasoner.index, reasoner.kb, []
    for fact, classes in recorded(run, path, causes):
        for cls in classes:
            for p in sorted(p for p in causes[cls] if p in run.presentations):
                said = "; ".join(
                    f"\u201c{e.quote}\u201d ({e.source}, {e.citation})"
                    for e in map(idx.evidence, sorted(kb.objects(URIRef(cls), SK.specificCauseEvidence), key=str))
                )
                note = next(iter(kb.objects(URIRef(cls), SK.specificCauseNote)), "")
                symptoms = ", ".join(sorted({path(f) for f in run.presentations[p]}, key=path_key))
                out.append(
                    Warning(
                        "specific_cause_recorded",
                        f"{idx.label(p)} [{local(p)}] ({symptoms}) with {idx.label(cls)} ({path(fact)}): "
                        f"{said + '. ' if said else ''}{note}",
                        (path(fact), local(cls), local(p)),
                    )
                )
    return out


def sources_silent_for_finding(
    reasoner: Reasoner, run: CaseRun, steps: Iterable[Step], path: Callable[[str], str]
) -> list[Warning]:
    """A finding none of the sources address for some kinds of step (``sk:sourcesSilentFor``: pregnancy, for drugs
    and imaging), recorded in a case whose plan does or considers steps of those kinds: they are named, for the
    clinician to review before they are given, and so are the plan's steps against them (the sources' "do not
    acetaminophen (alone)" is as silent on pregnancy as their NSAIDs are). The steps stay as the sources give them."""
    silent = by_class(reasoner, SK.sourcesSilentFor)  # finding class → the kinds of step its sources do not address
    idx, steps, out = reasoner.index, list(steps), []
    for fact, classes in recorded(run, path, silent):
        for cls in classes:
            kinds = sorted(silent[cls], key=idx.label)
            # a red flag's emergency or urgent step is not held for a review (review R5, r5-04: the emergency MRI
            # of suspected cauda equina syndrome at 30 weeks of pregnancy): it is named apart, not to be delayed
            of_kind = [s for s in steps if any(idx.is_a(SK_IRI + s.id, k) for k in kinds)]
            urgent = [s for s in of_kind if s.safety and s.phase in _URGENT]
            of_kind = [s for s in of_kind if s not in urgent]
            if not any(s.stance != "avoid" for s in of_kind):
                continue
            apart = (
                f"; the red flag's {steps_named(urgent)} {'is' if len(urgent) == 1 else 'are'} not to be delayed for it"
                if urgent
                else ""
            )
            out.append(
                Warning(
                    "sources_silent_for_finding",
                    f"{idx.label(cls)} ({path(fact)}): none of spinekg's sources address it for "
                    f"{' or '.join(idx.label(k) for k in kinds)}, so this plan's steps of those kinds, for and "
                    f"against, are as the sources give them for any patient: {steps_named(of_kind)}. Review each for "
                    f"{idx.label(cls)} before it is given or withheld (the clinician's decision; spinekg adds no "
                    f"recommendation its sources do not make){apart}",
                    (path(fact), local(cls), *unique(s.id for s in of_kind)),
                )
            )
    return out
