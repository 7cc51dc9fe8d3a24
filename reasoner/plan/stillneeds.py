"""What a listed red-flag trigger that spinekg does not raise still needs, and whether the plan gives it.

A severe motor deficit that is stable and long-standing (or residual from an earlier episode) is not an urgent red flag,
but it still needs a spine surgical opinion (``sk:notRaisedStillNeeds sk:spine_specialist_referral``, spinekg's
judgement). The warning red_flag_feature_not_acted_on says so from the plan as it stands, not in a fixed sentence:
which step gives it now, or that the plan's step waits for symptoms to persist, or that the plan gives none; and where
the case records it among the prior treatments, that it does (clinician's review R12 #7: "which the plan's other steps
give" beside a referral only if symptoms persist after 6 weeks).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

from rdflib import URIRef

from ..case.paths import path_key
from ..consts import SK
from ..reasoning.engine import CaseRun, Reasoner
from .model import Step
from .words import steps_named

_TREATMENT = str(SK.treatmentType)
#: the phases in which a step gives the intervention now, not once symptoms persist
_NOW = ("emergency", "urgent", "now")
_JUDGEMENT = "spinekg's judgement, which no source in its reference gives"


def still_needs(reasoner: Reasoner, run: CaseRun, cls: str, steps: Iterable[Step], path: Callable[[str], str]) -> str:
    """The words the warning adds for a listed trigger of class ``cls`` that spinekg does not raise, one clause per
    intervention it still needs (``sk:notRaisedStillNeeds``), each beginning "; "; "" where it needs none."""
    idx, plan = reasoner.index, list(steps)
    said = ""
    for need in sorted(str(n) for n in reasoner.kb.objects(URIRef(cls), SK.notRaisedStillNeeds)):
        label = idx.label(need)
        recorded = sorted(
            (f for f, d in run.details.items() if any(idx.is_a(t, need) for t in d.get(_TREATMENT, ()))),
            key=lambda f: path_key(path(f)),
        )
        giving = [s for s in plan if s.stance in ("do", "consider") and idx.is_a(str(SK[s.id]), need)]
        now = [s for s in giving if s.phase in _NOW]
        if recorded:
            said += f"; the case records a {label} ({', '.join(path(f) for f in recorded)})"
        elif now:
            said += f"; it still needs a {label}, which the plan's {steps_named(now)} gives on its own conditions"
        elif giving:
            said += (
                f"; no {label} is recorded for it, and the plan's {steps_named(giving)} waits for symptoms to persist: "
                f"consider a routine one now ({_JUDGEMENT})"
            )
        else:
            said += f"; no {label} is recorded for it: consider a routine one ({_JUDGEMENT})"
    return said
