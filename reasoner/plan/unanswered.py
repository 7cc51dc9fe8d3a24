"""A candidacy the plan leaves unanswered: the case records the patient as a candidate for surgery (or an injection),
and no step of the plan, active or deferred, gives it, refers for it or advises against it, because none of the
recommendations that would is met (clinician's review R3, r3-14: a surgical candidate with disc degeneration and
axial pain heard nothing about the surgery she asked for).

A warning, never a step: spinekg recommends nothing its sources do not, so it says which of their recommendations
were weighed and which are undecided for want of a field, and leaves the decision to the clinician.
"""

from __future__ import annotations

from collections.abc import Iterable

from ..consts import SK, SK_IRI
from ..kb.index import local
from ..reasoning.conditions import HOLDS
from ..reasoning.engine import CaseRun, Reasoner
from .model import NotApplicable, Step, Warning
from .parts import candidacy

_REFERRAL, _CANDIDACY = str(SK.Referral), str(SK.candidacy)
#: candidacy → (words, the interventions that answer it in a step of any stance; a referral to do or consider, to
#: the specialist who decides it, answers either)
_ANSWERS = {
    str(SK.surgery_candidate): ("surgery", (str(SK.Surgery),)),
    str(SK.injection_candidate): ("an injection", (str(SK.interventional_procedure),)),
}
#: at most this many undecided recommendations are named (the rest are counted)
NAMED = 4


def candidacy_unanswered(
    reasoner: Reasoner,
    run: CaseRun,
    steps: Iterable[Step],
    deferred: Iterable[Step],
    not_applicable: Iterable[NotApplicable],
) -> list[Warning]:
    """For each candidacy the case records that no step answers (one of it, a referral, or one a recommendation gives
    because of the candidacy: ACR variant 3's MRI for a candidate): the recommendations to do or consider what it is a
    candidacy for, every one of them not met (fails or unknown), the undecided ones named with their missing fields."""
    recorded = [c for c in candidacy(reasoner, run) if c in _ANSWERS]
    if not recorded:
        return []
    idx = reasoner.index
    shown = [*steps, *deferred]
    unmet = {n.recommendation: n for n in not_applicable if n.status in ("fails", "unknown")}
    out = []
    for cand in recorded:
        acting_on = {  # the recommendations a holding CandidateFor condition of this candidacy makes apply
            a.recommendation
            for a in run.applicability
            for r in a.conditions
            if r.kind == "CandidateFor" and r.status == HOLDS
            and cand in reasoner.condition_params.get(r.condition, {}).get(_CANDIDACY, ())
        }  # fmt: skip
        words, kinds = _ANSWERS[cand]
        answered = any(
            any(idx.is_a(SK_IRI + s.id, k) for k in kinds)
            or (s.stance in ("do", "consider") and idx.is_a(SK_IRI + s.id, _REFERRAL))
            or not acting_on.isdisjoint(s.recommendations)
            for s in shown
        )
        if answered:  # a step of it, a referral for it, or a step the candidacy itself gives (ACR's MRI before it)
            continue
        weighed = [
            info
            for info in idx.recommendations.values()
            if info.stance in ("do", "consider") and any(idx.is_a(info.intervention, k) for k in kinds)
        ]
        if not weighed or any(info.iri not in unmet for info in weighed):
            continue  # a recommendation of it the plan shows otherwise (tried, done, contraindicated, covered)
        undecided = sorted((unmet[info.iri] for info in weighed if unmet[info.iri].status == "unknown"),
                           key=lambda n: n.recommendation)  # fmt: skip
        named = "; ".join(
            f"{local(n.recommendation)} needs {', '.join(n.missing) or 'a fact the case does not record'}"
            for n in undecided[:NAMED]
        )
        more = f" and {len(undecided) - NAMED} more" if len(undecided) > NAMED else ""
        said = (
            f"{len(undecided)} of them undecided for want of a fact ({named}{more})"
            if undecided
            else "none of them undecided: each fails on what the case records"
        )
        out.append(
            Warning(
                "candidacy_unanswered",
                f"the case records the patient as a candidate for {words} (candidate_for: {local(cand)}), and the "
                f"plan neither gives {words} or a referral nor advises against it: of the {len(weighed)} "
                f"recommendations of the sources that give {words}, none applies to this case, {said}. spinekg "
                "adds no step its sources do not give; `spinekg why-not` says why for each, and the decision is the "
                "clinician's",
                ("candidate_for", local(cand), *(local(n.recommendation) for n in undecided)),
            )
        )
    return out
