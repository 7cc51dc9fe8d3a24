"""Plans as people read them: the staged text plan, and the explain / why-not chains."""

from __future__ import annotations

from .kbindex import local
from .plan import EvidenceOut, Plan, Step

PHASES = [
    ("emergency", "EMERGENCY"),
    ("urgent", "URGENT"),
    ("now", "NOW"),
    ("if_persistent", "IF PERSISTENT"),
    ("follow_up", "FOLLOW-UP"),
]
STANCE = {"do": "DO", "consider": "CONSIDER", "avoid": "DO NOT"}


def cite(e: EvidenceOut) -> str:
    """How a quote is attributed: article and marker(s) with status, or the reference-table cell."""
    if e.citation_status == "reference-table":
        return f"{e.article} ({e.citation}); rests on {e.reference}"
    marker = f" [{e.citation}]" if e.citation else " (no citation marker)"
    status = "" if e.citation_status in ("resolved", "uncited") else f", citation {e.citation_status}"
    ref = f" → {e.reference}" if e.reference else ""
    return f"article {e.article}{marker}{status}{ref}"


def step_lines(n: int, s: Step) -> list[str]:
    extra = f" — {s.timing}" if s.timing else ""
    recs = ", ".join(local(r) for r in s.recommendations)
    lines = [f"  {n}. {STANCE[s.stance]} {s.label}{extra}", f"       recommendation: {recs}"]
    if s.triggered_by:
        shown = ", ".join(s.triggered_by[:6]) + (
            f" and {len(s.triggered_by) - 6} more" if len(s.triggered_by) > 6 else ""
        )
        lines.append(f"       triggered by: {shown}")
    for e in s.evidence:
        lines.append(f"       “{e.quote}” — {cite(e)}")
    return lines


def text(plan: Plan) -> str:
    """The plan as text: red flags, warnings, the steps by phase with quote and citation, and the rest."""
    out = [f"Management plan for case {plan.case} (knowledge base {plan.kb_version})", ""]
    if plan.presentations:
        out.append("PRESENTATIONS")
        for p in plan.presentations:
            out.append(f"  {p.label} [{p.id}]" + (f" from {', '.join(p.triggered_by)}" if p.triggered_by else ""))
        out.append("")
    if plan.red_flags:
        out.append("RED FLAGS")
        for f in plan.red_flags:
            by = (
                f"flagged by article(s) {', '.join(f.flagged_by_sources)}"
                if f.flagged_by_sources
                else ("not flagged by the source articles")
            )
            out.append(f"  ! {f.label} [{f.id}] from {', '.join(f.triggered_by)} — {by}")
        out.append("")
    if plan.warnings:
        out.append("WARNINGS")
        out += [f"  - [{w.id}] {w.message}" for w in plan.warnings]
        out.append("")
    n = 0
    for phase, title in PHASES:
        steps = [s for s in plan.steps if s.phase == phase]
        if not steps:
            continue
        out.append(title)
        for s in steps:
            n += 1
            out += step_lines(n, s)
        out.append("")
    if plan.preempted:
        out.append("PRE-EMPTED BY RED FLAGS")
        out += [f"  - {local(p.recommendation)}: {p.label}" for p in plan.preempted]
        out.append("")
    if plan.conflicts:
        out.append("WHERE SOURCES DISAGREE")
        for c in plan.conflicts:
            out.append(f"  * {c.label}: {c.description}")
            for side in c.sides:
                applies = "applies here" if side.applies else "does not apply here"
                out.append(f"      - {local(side.member)} ({side.source}, {applies}): {side.label}")
        out.append("")
    if plan.concordance:
        out.append("DERMATOME–IMAGING CONCORDANCE")
        for d in plan.concordance:
            how = "; ".join(f"{e.finding} {e.type} {e.level} → {e.root} root ({e.via})" for e in d.explained_by)
            out.append(f"  {d.dermatome:<5} {'/'.join(d.sides):<11} {d.status}{': ' + how if how else ''}")
        out.append("")
    out.append(
        f"{len(plan.not_applicable)} recommendation(s) did not apply: `spinekg why-not CASE RECOMMENDATION` says why."
    )
    return "\n".join(out)


def explain(plan: Plan, key: str) -> str:
    """The chain of one step: step ← recommendation ← evidence (article, marker, sentence) ← reference, ← findings."""
    s = plan.step(key)
    n = plan.steps.index(s) + 1
    out = [f"step {n}: {STANCE[s.stance]} {s.label} ({s.phase}{', ' + s.timing if s.timing else ''})"]
    out.append(f"  ← triggered by case findings: {', '.join(s.triggered_by) or '(none recorded)'}")
    for rec in s.recommendations:
        out.append(f"  ← recommendation {local(rec)} <{rec}>")
    for e in s.evidence:
        out.append(f"      ← evidence: “{e.quote}”")
        out.append(f"          {cite(e)}" + (f"; section “{e.section}”" if e.section else ""))
    return "\n".join(out)


def why_not(plan: Plan, key: str) -> str:
    """Why a recommendation is not in the plan: failed conditions, missing facts, or the red flag that pre-empted it."""
    for n in plan.not_applicable + plan.preempted:
        if key in (n.recommendation, local(n.recommendation)):
            return "\n".join(
                [f"{local(n.recommendation)} ({n.label}) is not in the plan: {n.status}"] + [f"  - {w}" for w in n.why]
            )
    for i, s in enumerate(plan.steps, 1):
        if any(key in (r, local(r)) for r in s.recommendations):
            return f"{key} applies: it gives step {i} ({STANCE[s.stance]} {s.label}, {s.phase})"
    raise KeyError(key)
