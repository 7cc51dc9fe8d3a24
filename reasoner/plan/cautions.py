"""Findings a plan's steps are to be given with in mind: where a source asks it (``caution_recorded``: NICE NG59 on
NSAIDs with gastrointestinal, liver and cardio-renal risk, with spinekg's note where the sentence names no drug: an
anticoagulant's bleeding), and where spinekg judges it and no source says so
(``judgement_caution``: an anticoagulant or antiplatelet drug, managed before a spinal injection or operation;
``long_term_opioid`` and ``current_drug_advised_against``: a drug the patient may still take, of a class tapered
rather than stopped, beside the plan's "do not" of it, which is about starting it).

Each is a warning beside the step, never a step removed: what rules a step out is a contraindication the clinician
records (``contraindications``).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

from rdflib import URIRef

from ..case.paths import path_key
from ..consts import SK, SK_IRI
from ..kb.index import local
from ..reasoning.engine import CaseRun, Reasoner
from .drugs import tempers_only
from .model import Step, Warning
from .parts import ANALGESIA, by_class, recorded, unique
from .words import fact_text, steps_named


def caution_recorded(
    reasoner: Reasoner, run: CaseRun, steps: Iterable[Step], path: Callable[[str], str]
) -> list[Warning]:
    """Findings a source asks an intervention to be given with in mind (``sk:cautionFor``, the sentence
    ``sk:cautionEvidence``: NICE on NSAIDs and gastrointestinal, liver and cardio-renal risk), recorded in a case whose
    plan does or considers that intervention: named, with the source's sentence, once per intervention, and after it
    any note spinekg adds in its own name (``sk:cautionJudgementNote``: an anticoagulant's bleeding risk; the heart's
    and the kidneys' harm; age, read as 65 or over). The step stays."""
    caution = by_class(reasoner, SK.cautionFor)  # finding class → the interventions to give with it in mind
    idx = reasoner.index
    given = {SK_IRI + s.id: s for s in steps if s.stance != "avoid"}
    by: dict[str, list[tuple[str, str]]] = {}  # intervention → (fact, finding class), in the case's field order
    for fact, classes in recorded(run, path, caution):
        for cls in classes:
            for interv in sorted(i for i in caution[cls] if i in given):
                by.setdefault(interv, []).append((fact, cls))
    out = []
    for interv, found in sorted(by.items()):
        evidence = sorted({e for _, c in found for e in reasoner.kb.objects(URIRef(c), SK.cautionEvidence)}, key=str)
        said = "; ".join(f"\u201c{e.quote}\u201d ({e.source}, {e.citation})" for e in map(idx.evidence, evidence))
        # spinekg's own words beside the sentence, where it does not say what the finding does (bleeding on an
        # anticoagulant): each note opens by saying it is spinekg's judgement
        noted = (str(n) for _, c in found for n in reasoner.kb.objects(URIRef(c), SK.cautionJudgementNote))
        notes = "".join(f" {n}" for n in unique(noted))
        # a class of several records (a symptom at 65 or over, for each symptom) is named once, with its fields
        paths: dict[str, list[str]] = {}
        for f, c in found:
            paths.setdefault(c, []).append(path(f))
        findings = ", ".join(f"{idx.label(c)} ({', '.join(ps)})" for c, ps in paths.items())
        out.append(
            Warning(
                "caution_recorded",
                f"{findings} with {idx.label(interv)} in this plan: {said}.{notes} The step stands as its sources "
                "give it; weigh it for this patient",
                (*unique(path(f) for f, _ in found), *unique(local(c) for _, c in found), given[interv].id),
            )
        )
    return out


def judgement_caution(
    reasoner: Reasoner, run: CaseRun, steps: Iterable[Step], deferred: Iterable[Step], path: Callable[[str], str]
) -> list[Warning]:
    """A finding spinekg judges some kinds of step are to be given with in mind where no source says so
    (``sk:judgementCautionFor``: an anticoagulant or antiplatelet drug, for spinal injections, spinal procedures, spine
    surgery and the referrals to them), recorded in a case whose plan does or considers such a step, or defers one:
    the steps are named with the KB's note (``sk:judgementCautionNote``), which says it is spinekg's judgement. The
    steps stay.

    >>> from reasoner.api import recommend
    >>> plan = recommend({"id": "doc-anticoagulated", "risk_factors": ["anticoagulant_or_antiplatelet"], "symptoms": [
    ...     {"type": "radicular_pain", "dermatomes": ["L5"], "duration_weeks": 3, "severity": "severe"}]})
    >>> [w.subjects for w in plan.warnings if w.id == "judgement_caution"]
    [('risk_factors[0]', 'anticoagulant_or_antiplatelet', 'epidural_steroid_injection')]
    """
    kinds_of = by_class(reasoner, SK.judgementCautionFor)  # finding class → the kinds of step to give with it in mind
    idx, out = reasoner.index, []
    given = [s for s in (*steps, *deferred) if s.stance != "avoid"]
    for fact, classes in recorded(run, path, kinds_of):
        for cls in classes:
            of_kind = [s for s in given if any(idx.is_a(SK_IRI + s.id, k) for k in kinds_of[cls])]
            if not of_kind:
                continue
            named = ", ".join(
                f"step {s.number} ({s.stance} {s.label})" if s.number else f"{s.stance} {s.label} (deferred)"
                for s in of_kind
            )
            note = str(next(iter(reasoner.kb.objects(URIRef(cls), SK.judgementCautionNote)), ""))
            out.append(
                Warning(
                    "judgement_caution",
                    f"{idx.label(cls)} ({path(fact)}) with {named} in this plan: {note} The steps stand as their "
                    "sources give them; the clinician decides",
                    (path(fact), local(cls), *unique(s.id for s in of_kind)),
                )
            )
    return out


def may_be_unsuitable(
    reasoner: Reasoner, run: CaseRun, steps: Iterable[Step], path: Callable[[str], str]
) -> list[Warning]:
    """A finding with which spinekg judges an intervention may be unsuitable where its sources only ask it to be taken
    into account (``sk:mayBeUnsuitableFor``, its words ``sk:mayBeUnsuitableNote``: an anticoagulant with a further
    NSAID risk, heart disease with kidney disease, a corticosteroid with a further risk, for NSAIDs), recorded in a
    case whose plan does or considers that intervention: its steps are named with the note, in any presentation and
    phase, with the plan's other pain relief beside them. The last subject is the steps' id: the text, HTML and DOT
    plans show a "do" step so named as one to consider (its stance stays as its sources give it). Clinician's review
    R18, finding 3: "DO NSAIDs" stacked from four sources for a 76-year-old on apixaban with kidney and heart disease,
    chronic back pain and an acute sciatica, while the same risks tempered the NSAID only where NICE's weak opioid for
    acute low back pain opened (``sk:stepReading``). No step is added or removed: NICE's weak opioid stays in the
    population its sentence addresses, and the NSAID stays an option with its caution.

    >>> from reasoner.api import recommend
    >>> plan = recommend({"id": "doc-unsuitable", "age": 70, "risk_factors": ["anticoagulant_or_antiplatelet"],
    ...     "symptoms": [{"type": "radicular_pain", "dermatomes": ["L5"], "duration_weeks": 3, "severity": "severe"}]})
    >>> [w.subjects for w in plan.warnings if w.id == "may_be_unsuitable"]
    [('risk_factors[0]', 'anticoagulant_and_gastrointestinal_risk', 'nsaid')]
    """
    unsuitable = by_class(reasoner, SK.mayBeUnsuitableFor)  # finding class → the interventions it may make unsuitable
    idx, steps = reasoner.index, list(steps)
    given = [s for s in steps if s.stance in ("do", "consider")]
    by: dict[str, list[tuple[str, str]]] = {}  # intervention → (fact, finding class), in the case's field order
    for fact, classes in recorded(run, path, unsuitable):
        for cls in classes:
            for interv in unsuitable[cls]:
                by.setdefault(interv, []).append((fact, cls))
    ruling = by_class(reasoner, SK.contraindicates, inverse=True)  # intervention → the finding that rules it out
    caution_for = by_class(reasoner, SK.judgementCautionFor)  # finding class → what spinekg cautions it against
    out = []
    for interv, found in sorted(by.items()):
        of_it = [s for s in given if idx.is_a(SK_IRI + s.id, interv)]
        if not of_it:
            continue
        noted = (str(n) for _, c in found for n in reasoner.kb.objects(URIRef(c), SK.mayBeUnsuitableNote))
        notes = " ".join(unique(noted))
        paths: dict[str, list[str]] = {}
        for f, c in found:
            paths.setdefault(c, []).append(path(f))
        findings = ", ".join(f"{idx.label(c)} ({', '.join(ps)})" for c, ps in paths.items())
        # the pain relief the plan gives beside it, for the clinician who judges it unsuitable (not a broader class it
        # is part of: the drug-treatment umbrella above the NSAID is no alternative to it)
        # nor one the same finding cautions against (in pregnancy, a muscle relaxant: review R19 #4)
        cautioned = {i for _, c in found for i in caution_for.get(c, ())}
        others = [
            s
            for s in given
            if idx.is_a(SK_IRI + s.id, ANALGESIA)
            and not any(idx.is_a(SK_IRI + o.id, SK_IRI + s.id) for o in of_it)
            and not any(idx.is_a(SK_IRI + s.id, i) for i in cautioned)
        ]
        beside = (
            f"against the plan's other pain relief: {steps_named(others)}"
            if others
            else "with the plan's other care: it gives no other pain relief"
        )
        # a "do" is shown to consider (reasoner.present.text.TEMPERING), its stance staying as its sources give it
        shown = (
            " (shown as one to consider, where its sources say to do it)"
            if any(s.stance == "do" for s in of_it)
            else ""
        )
        record = next((local(r) for r in sorted(ruling.get(interv, ()))), None)  # nsaid_contraindication
        rule_out = f"; where it must not be given, record {record}" if record else ""
        out.append(
            Warning(
                "may_be_unsuitable",
                f"{findings} with {steps_named(of_it)} in this plan: {notes} It is not a contraindication: the step "
                f"stays as an option, with its caution{shown}, and the clinician weighs it {beside}"
                f"{rule_out}",
                (*unique(path(f) for f, _ in found), *unique(local(c) for _, c in found), of_it[0].id),
            )
        )
    return out


def named_as_shown(steps: Iterable[Step], warnings: list[Warning]) -> list[Warning]:
    """The warnings with a step :func:`may_be_unsuitable` names ("do", shown to consider) named as the plan shows it:
    "step 5 (consider NSAIDs)", not "step 5 (do NSAIDs)" beside "5. CONSIDER NSAIDs" (clinician's review R19 #6: a
    reader takes the warning's "do" as the instruction). Only the words change; the step's stance stays as its
    sources give it, as the JSON and FHIR plans give it."""
    tempered = {w.subjects[-1] for w in warnings if w.id == "may_be_unsuitable" and w.subjects}
    if not tempered:
        return warnings
    swaps = [
        (f"step {s.number} (do {s.label})", f"step {s.number} (consider {s.label})")
        for s in steps
        if s.id in tempered and s.stance == "do" and s.number
    ]
    out = []
    for w in warnings:
        message = w.message
        for said, shown in swaps:
            message = message.replace(said, shown)
        out.append(w if message == w.message else Warning(w.id, message, w.subjects))
    return out


#: a course of opioids this long or longer is long-term (NICE NG59's and ACP's "short-term" are days to weeks; the
#: 12 weeks, the chronic phase's threshold, are spinekg's)
LONG_TERM_WEEKS = 12
#: a course of a drug that is tapered rather than stopped (:data:`TAPERED`) this long or longer, or of unrecorded
#: length, is one the patient may depend on: spinekg's number (dependence on a daily opioid, a gabapentinoid or an
#: antidepressant comes within weeks, not at the chronic phase's 12; clinician's review R11, defect 2)
TAPER_WEEKS = 2
#: the drug classes spinekg judges are tapered, not stopped abruptly, after weeks of use (withdrawal or
#: discontinuation effects, a flare of pain): opioids, anticonvulsants (the gabapentinoids among them), antidepressants
#: and benzodiazepines (review R12: diazepam for 6 weeks beside "DO NOT benzodiazepines"); spinekg's judgement, which
#: no source in its reference gives
TAPERED = tuple(str(SK[c]) for c in ("opioid", "anticonvulsant", "antidepressant", "benzodiazepine"))
_OPIOID, _TYPE, _WEEKS, _AGO = str(SK.opioid), str(SK.treatmentType), str(SK.weeks), str(SK.treatmentWeeksAgo)
_OUTCOME, _NOT_TOLERATED = str(SK.outcome), str(SK.not_tolerated)


def taken_and_advised_against(
    reasoner: Reasoner, run: CaseRun, steps: Iterable[Step], path: Callable[[str], str]
) -> list[Warning]:
    """A course of a drug spinekg judges is tapered, not stopped abruptly (:data:`TAPERED`), that may not have ended
    (no ``weeks_ago``, or 0) and was not stopped for its side effects (not ``not_tolerated``), in a plan that does not
    do or consider that drug: the plan's "do not" of it (NICE NG59: do not offer opioids for chronic low back pain,
    gabapentinoids for sciatica, antidepressants for low back pain) is about starting or escalating it, and a patient
    taking it is not to be stopped abruptly (withdrawal, a pain crisis). spinekg's judgement, which no source in its
    reference gives. The steps stay.

    - ``long_term_opioid``: opioids for :data:`LONG_TERM_WEEKS` or more, whether or not the plan has a "do not" of
      them (clinician's review R4, r4-13: oxycodone for 3 years, "DO NOT opioids" and nothing else);
    - ``current_drug_advised_against``: any other such course, of :data:`TAPER_WEEKS` or more (or of unrecorded
      length), beside a "do not" step of it (review R11, defects 1, 2 and 8: pregabalin for 14 weeks beside "DO NOT
      gabapentinoids", amitriptyline beside "DO NOT antidepressants", tramadol for 10 weeks beside "DO NOT opioids").

    >>> from reasoner.api import recommend
    >>> plan = recommend({"id": "doc-opioid", "symptoms": [{"type": "axial_pain", "body_regions": ["lower_back"],
    ...     "duration_weeks": 200}], "prior_treatments": [{"type": "opioid", "weeks": 156, "outcome": "unchanged"}]})
    >>> [w.subjects for w in plan.warnings if w.id == "long_term_opioid"]
    [('prior_treatments[0]', 'opioid', 'opioid')]
    """
    idx, steps = reasoner.index, list(steps)
    given = [SK_IRI + s.id for s in steps if s.stance in ("do", "consider")]
    out = []
    for fact, d in run.details.items():
        ago = [float(a) for a in d.get(_AGO, ())]
        if (ago and min(ago) > 0) or _NOT_TOLERATED in d.get(_OUTCOME, ()):
            continue
        weeks = [float(w) for w in d.get(_WEEKS, ())]
        for cls in TAPERED:
            kinds = [t for t in d.get(_TYPE, ()) if idx.is_a(t, cls)]
            if not kinds or any(idx.is_a(g, cls) for g in given):
                continue
            against = [
                s
                for s in steps
                if s.stance == "avoid"
                and any(idx.is_a(k, SK_IRI + s.id) or idx.is_a(SK_IRI + s.id, k) for k in kinds)
                and not tempers_only(reasoner, s)
            ]
            if cls == _OPIOID and weeks and max(weeks) >= LONG_TERM_WEEKS:
                said = f"the plan's {steps_named(against)} is" if against else "the plan offers no opioid, which is"
                out.append(
                    Warning(
                        "long_term_opioid",
                        f"{fact_text(idx, d)} ({path(fact)}) may still be taken: {said} about starting or escalating "
                        "opioids, not about stopping them. spinekg's judgement, which no source in its reference "
                        "gives: long-term opioids are not stopped abruptly (withdrawal, a pain crisis); review them "
                        "with the patient and agree a gradual taper, with the prescriber",
                        (path(fact), *unique(local(k) for k in kinds), *unique(s.id for s in against)),
                    )
                )
            elif against and (not weeks or max(weeks) >= TAPER_WEEKS):
                out.append(
                    Warning(
                        "current_drug_advised_against",
                        f"{fact_text(idx, d)} ({path(fact)}) may still be taken: the plan's {steps_named(against)} "
                        "is about starting or escalating it, not about stopping a course the patient is on. "
                        "spinekg's judgement, which no source in its reference gives: after weeks of use, "
                        f"{idx.label(cls)} are not stopped abruptly (withdrawal or discontinuation effects, a flare "
                        "of pain); review the course with the patient and, if it is to stop, agree a gradual taper "
                        "with the prescriber",
                        (path(fact), *unique(local(k) for k in kinds), *unique(s.id for s in against)),
                    )
                )
    return sorted(out, key=lambda w: path_key(w.subjects[0]))
