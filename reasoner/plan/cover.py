"""Which recommendations a plan's steps already give: a "consider" of what a step says to do, and what a step's study
includes (``sk:includes``: an MRI without and with contrast includes one without), each covered by that step."""

from __future__ import annotations

from collections import defaultdict

from ..kb.index import KBIndex
from .model import NotApplicable
from .steps import reading_key


def urgent_steps(timed: list, stance: str, urgent: tuple[str, ...]) -> dict[str, str]:
    """Intervention → the most urgent of the ``urgent`` phases in which a red flag's own recommendation (``driven``)
    gives it with ``stance``: an intervention a red flag gives in two urgent phases is given by the more urgent step,
    and what its urgent step already says (do, or do not) another recommendation does not say again later."""
    out: dict[str, str] = {}
    for _, info, driven, phase, _, _ in timed:
        if driven and phase in urgent and info.stance == stance:
            known = out.get(info.intervention)
            if known is None or urgent.index(phase) < urgent.index(known):
                out[info.intervention] = phase
    return out


def covered_by_steps(idx: KBIndex, active: list, covered: dict) -> tuple[list, dict, dict, list[NotApplicable]]:
    """Split the plan's applying items (``(applicability, info, driven, phase, timing, due_now)``) into those that
    make steps and those a step of the same phase gives: a recommendation to *consider* what a step says to do (it,
    or something narrower), and one to do or consider what a step's intervention includes (``sk:includes``; one
    study is ordered, not two), by the first such step in reading order. A red flag's own steps are not covered this
    way. Each covered recommendation is added
    to ``covered`` under the covering step's (intervention, phase); returns the items kept, the covered
    recommendations whose sentences stay with the covering step (``backs``), the covered "do" items (which place the
    covering step in reading order: the MRI due now before the injection it would guide) and their why-nots.

    >>> from reasoner.kb.load import load_kb
    >>> from reasoner.consts import SK
    >>> from reasoner.kb.index import RecInfo
    >>> idx = KBIndex(load_kb())
    >>> def item(rec, interv):
    ...     return (None, RecInfo(rec, rec, rec, "", "do", "now", None, None, str(interv), "x", False, ()), False,
    ...             "now", None, False)
    >>> plain, both = SK.mri_lumbar_spine_without_contrast, SK.mri_lumbar_spine_with_and_without_contrast
    >>> kept, backs, given, why = covered_by_steps(idx, [item("a", plain), item("b", both)], {})
    >>> [i[1].iri for i in kept], [n.recommendation for n in why]
    (['b'], ['a'])
    """
    doing = sorted({(info.intervention, phase) for _, info, _, phase, _, _ in active if info.stance == "do"})
    # a do another do of the phase includes is given by it (not by a broader do: that is an umbrella with parts)
    coverers = [(i, p) for i, p in doing if not any(q == p and j != i and idx.includes(j, i) for j, q in doing)]
    # where two steps could give it, the first in reading order does (ACP 2017's drug treatment, "NSAIDs first line",
    # under the NSAIDs that article 003's "NSAIDs and/or acetaminophen" lists first, not under the acetaminophen)
    members = defaultdict(list)
    for _, info, _, phase, _, due_now in active:
        if info.stance == "do":
            members[(info.intervention, phase)].append((info, due_now))
    coverers.sort(key=lambda c: reading_key(idx, c[0], "do", c[1], members[c]))
    kept, backs, given, preempted = [], defaultdict(list), defaultdict(list), []
    for item in active:
        info, driven, phase = item[1], item[2], item[3]
        by, why = None, ""
        if info.stance == "consider":
            by = next(((i, p) for i, p in coverers if p == phase and idx.is_a(i, info.intervention)), None)
            if by is not None:
                why = f"covered by the step that says to do {idx.label(by[0])} in the same phase"
        if by is None and info.stance in ("do", "consider") and not driven:
            by = next(((i, p) for i, p in coverers if p == phase and idx.includes(i, info.intervention)), None)
            if by is not None:
                why = (
                    f"covered by the step that says to do {idx.label(by[0])} in the same phase, which includes "
                    f"{idx.label(info.intervention)} (one study, not two)"
                )
        if by is None:
            kept.append(item)
            continue
        # its sentences stay, under it, with the step's evidence (a caution it adds is kept)
        covered.setdefault(by, []).append(info.iri)
        backs[by].append(info)
        if info.stance == "do":
            given[by].append(item)
        preempted.append(NotApplicable(info.iri, info.label, "covered", (why,)))
    return kept, backs, given, preempted
