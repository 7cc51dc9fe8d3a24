"""Clinical acceptance suite: new patients, described as a spine clinician would, and what their plans must hold.

Each vignette is one YAML file in tests/acceptance/ (see its README.md): ``description``, ``covers``, the ``case``
(the case input contract; its id is the file stem) and ``expect``: the presentations, red flags, steps that must
appear or must not, warnings, recommendations whose why-not must say *unknown*, *overridden* (a conflict resolved for
the patient) or *deferred* (waiting until a red flag is excluded), the conflicts the plan must show, a symptomatic
dermatome's imaging concordance, or that the case must be rejected.
All valid vignettes are reasoned together once per module (``reasoner.api.reason``); each has one test, and a
failing test says every expectation it missed and what the plan had.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pytest
import yaml

from reasoner.api import default_reasoner, reason
from reasoner.case.model import vocabulary
from reasoner.case.validate import parse_case
from reasoner.errors import CaseError

from constants import ACCEPTANCE

FILES = sorted(ACCEPTANCE.glob("*.yaml"))

TOP_KEYS = {"description", "covers", "case", "expect"}
EXPECT_KEYS = {
    "presentations",
    "absent_presentations",
    "red_flags",
    "steps",
    "absent_steps",
    "warnings",
    "absent_warnings",
    "warning_says",
    "absent_warning_says",
    "unknown",
    "overridden",
    "deferred",
    "conflicts",
    "absent_conflicts",
    "order",
    "concordance",
    "rejected",
    "problems",
}
STEP_KEYS = {"intervention", "stance", "phase", "conflicts", "evidence", "quotes", "timing"}
STANCES = {"do", "consider", "avoid"}
PHASES = {"emergency", "urgent", "now", "if_persistent", "follow_up"}


@dataclass(frozen=True)
class Rejected:
    """The case reader rejected the vignette's case: its problems as (path, value as given, message line)."""

    problems: tuple[tuple[str, object, str], ...]


@dataclass(frozen=True)
class Failed:
    """Reasoning the batch raised: no plan for any valid vignette."""

    error: str


def local(iri: str) -> str:
    return iri.rsplit("/", 1)[-1].rsplit("#", 1)[-1]


def as_list(value) -> list:
    return list(value) if isinstance(value, (list, tuple)) else [value]


def load(path: Path) -> dict:
    with open(path, encoding="utf-8") as f:
        return yaml.safe_load(f)


def case_of(path: Path, doc: dict) -> dict:
    case = dict(doc.get("case") or {})
    case.setdefault("id", path.stem)
    return case


@pytest.fixture(scope="module")
def outcomes() -> dict[str, object]:
    """Each vignette's outcome: its plan as a dict (the ``--format json`` object), Rejected, or Failed."""
    out: dict[str, object] = {}
    valid = {}
    for path in FILES:
        try:
            valid[path.stem] = parse_case(case_of(path, load(path)), source=str(path))
        except CaseError as exc:
            out[path.stem] = Rejected(tuple((p.path, p.value, str(p)) for p in exc.problems))
        except Exception as exc:  # noqa: BLE001 (a broken vignette fails its own test, not the others')
            out[path.stem] = Failed(f"{type(exc).__name__}: {exc}")
    if valid:
        try:
            results = reason(list(valid.values()))
        except Exception as exc:  # noqa: BLE001 (the engine is being changed: say so in every test)
            failed = Failed(f"reasoning the batch raised {type(exc).__name__}: {exc}")
            out.update(dict.fromkeys(valid, failed))
        else:
            for stem, result in zip(valid, results, strict=True):
                out[stem] = result.plan.to_dict()
    return out


def spec_problems(
    doc: object,
    known_interventions: set[str],
    known_conflicts: set[str] | None = None,
    known_recommendations: set[str] | None = None,
) -> list[str]:
    """What is wrong with a vignette file itself (unknown keys, stances, phases, intervention, conflict or
    recommendation ids: a conflict of the KB, or a stance clash ``stance_…`` the plan finds)."""
    if not isinstance(doc, dict):
        return ["the vignette is not a mapping"]
    bad = [f"unknown top-level key {k!r}" for k in doc if k not in TOP_KEYS]
    bad += [f"missing {k!r}" for k in ("description", "covers", "case", "expect") if k not in doc]
    expect = doc.get("expect") or {}
    bad += [f"unknown expect key {k!r}" for k in expect if k not in EXPECT_KEYS]
    for n, pair in enumerate(expect.get("order") or []):
        if not (isinstance(pair, list) and len(pair) == 2 and all(i in known_interventions for i in pair)):
            bad.append(f"expect.order[{n}]: {pair!r} is not a pair of intervention ids")
    for key in ("steps", "absent_steps"):
        for n, s in enumerate(expect.get(key) or []):
            where = f"expect.{key}[{n}]"
            if not isinstance(s, dict) or "intervention" not in s:
                bad.append(f"{where}: needs an intervention")
                continue
            bad += [f"{where}: unknown key {k!r}" for k in s if k not in STEP_KEYS]
            bad += [
                f"{where}: {i!r} is no intervention id"
                for i in as_list(s["intervention"])
                if i not in known_interventions
            ]
            bad += [f"{where}: {x!r} is no stance" for x in as_list(s.get("stance", [])) if x not in STANCES]
            bad += [f"{where}: {x!r} is no phase" for x in as_list(s.get("phase", [])) if x not in PHASES]
    if known_conflicts:
        named = [*(expect.get("conflicts") or []), *(expect.get("absent_conflicts") or [])]
        named += [c for key in ("steps", "absent_steps") for s in expect.get(key) or [] for c in s.get("conflicts", [])]
        bad += [f"expect: {c!r} is no conflict id" for c in named if c not in known_conflicts and "stance_" not in c]
    if known_recommendations:
        named = [r for key in ("steps", "absent_steps") for s in expect.get(key) or [] for r in s.get("evidence", [])]
        bad += [f"expect: {r!r} is no recommendation id" for r in named if r not in known_recommendations]
    return bad


def step_matches(step: dict, want: dict) -> bool:
    if step["id"] not in as_list(want["intervention"]):
        return False
    if "stance" in want and step["stance"] not in as_list(want["stance"]):
        return False
    if "phase" in want and step["phase"] not in as_list(want["phase"]):
        return False
    # the step quotes the sentences of each of these recommendations (its evidence[] names them)
    quoted = {e.get("recommendation") for e in step.get("evidence", [])}
    if not all(r in quoted for r in as_list(want.get("evidence", []))):
        return False
    # … and a sentence containing each of these words (case-insensitive)
    said = [e.get("quote", "").casefold() for e in step.get("evidence", [])]
    if not all(any(q.casefold() in x for x in said) for q in as_list(want.get("quotes", []))):
        return False
    # its timing ("in 6 weeks", "if symptoms persist after 12 weeks") contains each of these words (case-insensitive)
    timing = (step.get("timing") or "").casefold()
    if not all(t.casefold() in timing for t in as_list(want.get("timing", []))):
        return False
    # the step is shown as a side of each of these conflicts ("sources disagree: …")
    return all(c in step.get("conflicts", []) for c in as_list(want.get("conflicts", [])))


def shown(want: dict) -> str:
    parts = ["|".join(as_list(want["intervention"]))]
    for key in ("stance", "phase", "conflicts", "evidence", "quotes", "timing"):
        if key in want:
            parts.append(f"{key} {'|'.join(as_list(want[key]))}")
    return ", ".join(parts)


def check_plan(plan: dict, expect: dict) -> list[str]:
    """Every expectation the plan misses, one line each."""
    missed = []
    if expect.get("rejected"):
        return ["expected the case to be rejected, but a plan was made"]
    have_flags = [f["id"] for f in plan.get("red_flags", [])]
    if "red_flags" in expect:
        want = expect["red_flags"] or []
        if not want and have_flags:
            missed.append(f"expected no red flag, plan raised {have_flags}")
        missed += [f"missing red flag {f}" for f in want if f not in have_flags]
    if "presentations" in expect or "absent_presentations" in expect:
        if "presentations" not in plan:
            missed.append("plan has no presentations[] (the contract adds it)")
        have = [p["id"] if isinstance(p, dict) else p for p in plan.get("presentations", [])]
        missed += [f"missing presentation {p}" for p in expect.get("presentations") or [] if p not in have]
        missed += [f"unexpected presentation {p}" for p in expect.get("absent_presentations") or [] if p in have]
    steps = plan.get("steps", [])
    for want in expect.get("steps") or []:
        if not any(step_matches(s, want) for s in steps):
            missed.append(f"missing step {shown(want)}")
    for avoid in expect.get("absent_steps") or []:
        for s in steps:
            if step_matches(s, avoid):
                missed.append(f"unexpected step {s['id']}/{s['stance']}/{s['phase']} (must not: {shown(avoid)})")
    have_warnings = [w["id"] for w in plan.get("warnings", [])]
    missed += [f"missing warning {w}" for w in expect.get("warnings") or [] if w not in have_warnings]
    missed += [f"unexpected warning {w}" for w in expect.get("absent_warnings") or [] if w in have_warnings]
    # what a warning must say, not only that it is there
    for wid, phrases in (expect.get("warning_says") or {}).items():
        said = [w.get("message", "") for w in plan.get("warnings", []) if w["id"] == wid]
        missed += [f"no {wid} warning says {p!r}" for p in as_list(phrases) if not any(p in m for m in said)]
    for wid, phrases in (expect.get("absent_warning_says") or {}).items():
        said = [w.get("message", "") for w in plan.get("warnings", []) if w["id"] == wid]
        missed += [f"a {wid} warning says {p!r}" for p in as_list(phrases) if any(p in m for m in said)]
    why_not = {local(n["recommendation"]): n for n in plan.get("not_applicable", [])}
    applying = {local(r) for s in steps for r in s.get("recommendations", [s.get("recommendation", "")])}
    for rec in expect.get("unknown") or []:
        if rec in applying:
            missed.append(
                f"{rec} applies, but the case records nothing it could apply on (its why-not must say unknown)"
            )
        elif rec not in why_not:
            missed.append(f"{rec} has no why-not (expected status unknown)")
        elif why_not[rec]["status"] != "unknown":
            missed.append(
                f"{rec} why-not is {why_not[rec]['status']!r}: {list(why_not[rec]['why'])} (expected unknown)"
            )
    preempted = {local(n["recommendation"]): n for n in plan.get("preempted", [])}
    held = (
        ("overridden", "a conflict resolved for the patient must override it"),
        ("deferred", "a red flag must defer it"),
    )
    for status, by in held:  # not a step: its why-not says why (a conflict resolved, a red flag to exclude first)
        for rec in expect.get(status) or []:
            if rec in applying:
                missed.append(f"{rec} applies (gives a step), but {by} (why-not status {status})")
            elif preempted.get(rec, {}).get("status") != status:
                said = preempted.get(rec) or why_not.get(rec)
                missed.append(f"{rec} is not {status}: {said['status'] if said else 'no why-not'}")
    have_conflicts = [c["id"] for c in plan.get("conflicts", [])]
    for c in expect.get("conflicts") or []:
        if c not in have_conflicts:
            missed.append(f"missing conflict {c} (the plan shows {have_conflicts})")
    missed += [f"unexpected conflict {c}" for c in expect.get("absent_conflicts") or [] if c in have_conflicts]
    ids = [s["id"] for s in steps]
    for first, then in expect.get("order") or []:
        if first not in ids or then not in ids:
            missed.append(f"order {first} before {then}: the plan lacks {first if first not in ids else then}")
        elif ids.index(first) > max(n for n, i in enumerate(ids) if i == then):
            missed.append(f"order {first} before {then}: {then} comes first")
    statuses = {row["dermatome"]: row["status"] for row in plan.get("concordance", [])}
    for derm, status in (expect.get("concordance") or {}).items():
        if statuses.get(derm) not in as_list(status):
            missed.append(f"dermatome {derm}'s concordance is {statuses.get(derm)!r} (expected {status!r})")
    return missed


def names(problem: tuple, want: str | dict) -> bool:
    """Whether a reader problem is the one a vignette expects: a field path, or {path, value} (the value as given)."""
    path, value, _ = problem
    if isinstance(want, dict):
        return path == want.get("path") and ("value" not in want or str(value) == str(want["value"]))
    return path == want


def plan_summary(plan: dict) -> str:
    lines = [
        f"  red_flags: {[f['id'] for f in plan.get('red_flags', [])]}",
        f"  presentations: {[p['id'] if isinstance(p, dict) else p for p in plan.get('presentations', [])]}"
        if "presentations" in plan
        else "  presentations: (no presentations[] in the plan)",
        f"  warnings: {[w['id'] for w in plan.get('warnings', [])]}",
        f"  conflicts: {[c['id'] for c in plan.get('conflicts', [])]}",
        "  steps (intervention/stance/phase):",
    ]
    lines += [
        f"    {s['id']}/{s['stance']}/{s['phase']}"
        + (f" (sources disagree: {', '.join(s['conflicts'])})" if s.get("conflicts") else "")
        for s in plan.get("steps", [])
    ] or ["    (none)"]
    return "\n".join(lines)


@pytest.mark.parametrize("path", FILES, ids=lambda p: p.stem)
def test_vignette(path: Path, outcomes: dict[str, object]) -> None:
    try:
        doc = load(path)
    except yaml.YAMLError as exc:
        pytest.fail(f"{path.name}: not valid YAML: {exc}", pytrace=False)
    index = default_reasoner().index
    conflicts = {local(c) for c in index.conflicts}
    problems = spec_problems(doc, set(vocabulary().interventions), conflicts, {local(r) for r in index.recommendations})
    if problems:
        pytest.fail(f"{path.name}: the vignette itself is malformed:\n  " + "\n  ".join(problems), pytrace=False)
    expect = doc["expect"] or {}
    outcome = outcomes[path.stem]
    head = f"{path.name}: {doc['description'].strip()}"
    if isinstance(outcome, Failed):
        pytest.fail(f"{head}\n  no plan: {outcome.error}", pytrace=False)
    if isinstance(outcome, Rejected):
        if not expect.get("rejected"):
            lines = "\n    ".join(line for *_, line in outcome.problems)
            pytest.fail(f"{head}\n  rejected, but a plan was expected; the reader said:\n    {lines}", pytrace=False)
        missing = [want for want in expect.get("problems") or [] if not any(names(p, want) for p in outcome.problems)]
        if missing:
            said = "\n    ".join(line for *_, line in outcome.problems)
            pytest.fail(
                f"{head}\n  rejected, but no problem names {missing}; the reader said:\n    {said}", pytrace=False
            )
        return
    missed = check_plan(outcome, expect)
    if missed:
        pytest.fail(
            f"{head}\n  unmet expectations:\n    "
            + "\n    ".join(missed)
            + "\n  the plan had:\n"
            + plan_summary(outcome),
            pytrace=False,
        )
