"""A plan as a cohort writes it: the case's own decisions, joined by id to the knowledge base's part, written once.

A full plan (``Plan.to_dict``) repeats, for every case, text that belongs to the knowledge base: each step's
evidence sentences, every label, and the condition wording of the ~100 recommendations that do not apply. A
compact line keeps only what this case decided: steps (intervention, stance, phase, recommendation ids, the
paths of the facts that triggered them, the words for each fact once), red flags, warnings, the conflicts that
bear on it, and the status of each condition that is not at its default (holds, fails with the facts recorded,
unknown with the fields missing): every recommendation's why-not follows from its conditions' statuses, so the
~100 why-nots of a case are not written one by one. The knowledge base's part (:func:`kb_part`: labels, evidence,
condition wording and defaults, conflicts) is written once per run;
:func:`expand` joins the two back into exactly ``Plan.to_dict()`` (a test proves it on every example, vignette and
generated case). Where a value cannot be referenced (a conflict spinekg made for this plan, a why-not of its own
wording), the line keeps it whole.
"""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

from ..consts import RDFS, SK_IRI
from ..kb.index import local
from ..reasoning.conditions import DEFAULT
from ..reasoning.engine import Reasoner
from .model import NotApplicable, Plan, Step, step_numbers
from .steps import evidence_of

FORMAT = "spinekg-cohort-line 5"
#: a condition's status in a line: holds, fails, unknown
_LETTER = {"holds": "h", "fails": "f", "unknown": "u"}
KB_FORMAT = "spinekg-cohort-kb 4"
#: Step fields left out of a compact step where they have their default value.
_STEP_DEFAULTS: dict[str, Any] = {
    "after_weeks": None,
    "timing": None,
    "safety": False,
    "parts": [],
    "part_of": None,
    "covers": [],
    "conflicts": [],
}


def _short(iri: str) -> str:
    return iri.removeprefix(SK_IRI)


def _long(ident: str) -> str:
    return ident if "://" in ident else SK_IRI + ident


def kb_part(reasoner: Reasoner) -> dict:
    """What every compact line of a run refers to: labels by id; per recommendation its label, evidence (as the
    plan shows it) and conditions (id → wording); the conflicts between sources. Made once per reasoner."""
    if "kb_part" in reasoner.cache:
        return reasoner.cache["kb_part"]
    idx = reasoner.index
    recs = {}
    # every condition once, numbered: its default status (the one a case none of whose facts speak to it gets);
    # a recommendation names its conditions c1, c2, … in the order plans give them, each with its number here
    numbers = {cond: n for n, cond in enumerate(sorted({c for cs in reasoner.conditions.values() for c, _ in cs}))}
    defaults = [""] * len(numbers)
    for conds in reasoner.conditions.values():
        for cond, kind in conds:
            defaults[numbers[cond]] = _LETTER[DEFAULT[kind]]
    for iri, info in sorted(idx.recommendations.items()):
        conditions = {
            f"c{n}": reasoner.describe_condition(cond, kind)
            for n, (cond, kind) in enumerate(reasoner.conditions.get(iri, ()), 1)
        }
        recs[_short(iri)] = {
            "label": info.label,
            "evidence": [asdict(e) for e in evidence_of(reasoner, info)],
            "conditions": conditions,
            "keys": [numbers[cond] for cond, _ in reasoner.conditions.get(iri, ())],
        }
    conflicts = {
        local(iri): {"label": label, "description": description, "members": [_short(m) for m in members]}
        for iri, (label, description, members) in sorted(idx.conflicts.items())
    }
    # sorted: the graph's own order depends on how it was loaded (parsed, or read from the cache), so two processes
    # wrote the labels in different orders (the cohort test comparing a process with main() failed now and then)
    labels = dict(
        sorted(
            (_short(str(s)), str(o)) for s, o in reasoner.kb.subject_objects(RDFS.label) if str(s).startswith(SK_IRI)
        )
    )
    part: dict = {
        "format": KB_FORMAT,
        "kb_version": reasoner.kb_version,
        "labels": labels,
        "recommendations": recs,
        "conflicts": conflicts,
        "sources": {_short(m): idx.recommendations[m].source for m in sorted(idx.recommendations)},
        "condition_defaults": defaults,
        # until when a red flag holds care back, where it is not "is excluded" (a confirmed finding's)
        "held_until": {local(f): until for f in idx.red_flags if (until := idx.held_until(f)) != "is excluded"},
    }
    reasoner.cache["kb_part"] = part
    return part


def _step(step: Step, kb: dict, facts: dict[str, str]) -> dict:
    out: dict[str, Any] = {
        "id": step.id,
        "phase": step.phase,
        "stance": step.stance,
        "recommendations": [_short(r) for r in step.recommendations],
        "triggered_by": list(step.triggered_by),
    }
    for t in step.triggers:
        facts.setdefault(t.path, t.text)
    # the trigger words are the line's, by path, unless this step's differ (then they are kept whole)
    if [t.path for t in step.triggers] != out["triggered_by"] or any(facts[t.path] != t.text for t in step.triggers):
        out["triggers"] = [[t.path, t.text] for t in step.triggers]
    for key, default in _STEP_DEFAULTS.items():
        value = getattr(step, key)
        if isinstance(value, tuple):
            value = [_short(v) for v in value] if key == "covers" else list(value)
        if value != default:
            out[key] = value
    if step.label != _label(step.id, kb):  # a qualified heading ("… (do not assume efficacy)")
        out["label"] = step.label
    if backed := [_short(r) for r in step.backed]:  # the covered recommendations whose sentences the step keeps
        out["backed"] = backed
    return out


def _why(why: tuple[str, ...], conditions: dict[str, str]) -> list | None:
    """The why-not of a recommendation as [condition id, "f" or "u", facts or missing fields] rows, or None if a
    line of it is not one a failed or unknown condition gives (it is then kept whole)."""
    by_text = sorted(conditions.items(), key=lambda kv: -len(kv[1]))
    rows = []
    for line in why:
        for cid, text in by_text:
            if not line.startswith(text):
                continue
            rest = line[len(text) :]
            if rest == " does not hold":
                rows.append([cid, "f", []])
            elif rest.startswith(" does not hold: recorded "):
                rows.append([cid, "f", rest.removeprefix(" does not hold: recorded ").split(", ")])
            elif rest.startswith(" is unknown: the case does not record "):
                rows.append([cid, "u", rest.removeprefix(" is unknown: the case does not record ").split(", ")])
            else:
                continue
            break
        else:
            return None
    return rows


def compact(plan: Plan, kb: dict) -> dict:
    """The plan as a cohort line: this case's decisions, referring to ``kb`` (:func:`kb_part`) by id.

    >>> import json
    >>> from reasoner.api import default_reasoner, reason
    >>> r = default_reasoner()
    >>> plan = reason(["examples/002-lumbosacral-radiculopathy.yaml"], r)[0].plan
    >>> line = compact(plan, kb_part(r))
    >>> expand(line, kb_part(r)) == json.loads(plan.to_json()), len(json.dumps(line)) < len(plan.to_json()) / 4
    (True, True)
    """
    out: dict = {"format": FORMAT, "case": plan.case, "kb_version": plan.kb_version}
    out["red_flags"] = [
        [f.id, list(f.triggered_by), list(f.flagged_by_sources), f.reason, list(f.defers)] for f in plan.red_flags
    ]
    facts: dict[str, str] = {}
    out["steps"] = [_step(s, kb, facts) for s in plan.steps]
    out["deferred"] = [_step(s, kb, facts) for s in plan.deferred]
    out["facts"] = facts
    out["warnings"] = [[w.id, w.message, list(w.subjects)] for w in plan.warnings]
    conflicts: list[object] = []
    for c in plan.conflicts:
        known = kb["conflicts"].get(c.id)
        if known is not None and [_short(s.member) for s in c.sides] == known["members"]:
            conflicts.append([c.id, [s.applies for s in c.sides]])
        else:
            conflicts.append(_plain(asdict(c)))
    out["conflicts"] = conflicts
    out.update(_not_applicable_part(plan, kb))
    out["preempted"] = [_entry(e) for e in plan.preempted]
    out["presentations"] = [[p.id, list(p.triggered_by)] for p in plan.presentations]
    out["concordance"] = [_plain(asdict(row)) for row in plan.concordance]
    out["summary"] = list(plan.summary)
    return out


def _plain(value: object) -> object:
    """Tuples as lists, all the way down (what the value is after a round trip through JSON)."""
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    return value


def _entry(e: NotApplicable) -> dict:
    return {
        "recommendation": _short(e.recommendation),
        "status": e.status,
        "why": list(e.why),
        "missing": list(e.missing),
    }


#: Compact why-not entries already made, by (part, entry): the same entries recur across a cohort's cases.
_MADE: dict[tuple[int, NotApplicable], tuple[list | dict, tuple[tuple[int, list], ...] | None]] = {}
_PARTS: dict[int, dict] = {}  # the parts ``_MADE`` is keyed by, kept alive so that an id is never reused


def _not_applicable(e: NotApplicable, kb: dict) -> list | dict:
    return _made(e, kb)[0]


def _made(e: NotApplicable, kb: dict) -> tuple[list | dict, tuple[tuple[int, list], ...] | None]:
    """The compact entry of a why-not, and what it says of each condition of its recommendation (condition number,
    status; None for an entry kept whole or one whose status its rows do not give)."""
    key = (id(kb), e)
    made = _MADE.get(key)
    if made is None:
        if len(_MADE) > 100_000:
            _MADE.clear()
        _PARTS[id(kb)] = kb
        entry = _not_applicable_of(e, kb)
        says = None
        if isinstance(entry, list):
            rec, status, rows = entry
            speaks = {cid: [kind, values] for cid, kind, values in rows}
            if status == _status(rows):
                keys = kb["recommendations"][rec]["keys"]
                says = tuple((k, speaks.get(f"c{n}", _HOLDS)) for n, k in enumerate(keys, 1))
        made = _MADE[key] = (entry, says)
    return made


def _not_applicable_of(e: NotApplicable, kb: dict) -> list | dict:
    rec = _short(e.recommendation)
    rows = _why(e.why, kb["recommendations"].get(rec, {}).get("conditions", {}))
    if rows is not None and sorted({m for _, s, v in rows if s == "u" for m in v}) == list(e.missing):
        return [rec, e.status, rows]
    return _entry(e)


def _full_step(step: dict, kb: dict, facts: dict[str, str], number: str | None = None) -> dict:
    recs = [_long(r) for r in step["recommendations"]]
    evidence = [
        e for r in step["recommendations"] + step.get("backed", []) for e in kb["recommendations"][r]["evidence"]
    ]
    full = {
        "id": step["id"],
        "label": step.get("label") or _label(step["id"], kb),
        "phase": step["phase"],
        "stance": step["stance"],
        "recommendation": recs[0],
        "recommendations": recs,
        "triggered_by": step["triggered_by"],
        "evidence": evidence,
    }
    for key, default in _STEP_DEFAULTS.items():
        value = step.get(key, default)
        full[key] = [_long(v) for v in value] if key == "covers" else value
    triggers = step["triggers"] if "triggers" in step else [[p, facts[p]] for p in step["triggered_by"]]
    full["triggers"] = [{"path": p, "text": t} for p, t in triggers]
    full["number"] = number  # not in the line: the plan's numbering gives it back from the steps' order and parts
    return full


def _full_why(rec: str, status: str, rows: list, kb: dict) -> dict:
    conditions = kb["recommendations"][rec]["conditions"]
    why, missing = [], []
    for cid, kind, values in rows:
        text = conditions[cid]
        if kind == "f":
            why.append(f"{text} does not hold" + (f": recorded {', '.join(values)}" if values else ""))
        else:
            why.append(f"{text} is unknown: the case does not record {', '.join(values)}")
            missing += values
    return {
        "recommendation": _long(rec),
        "label": _label(rec, kb),
        "status": status,
        "why": why,
        "missing": sorted(set(missing)),
    }


def _full_entry(entry: dict, kb: dict) -> dict:
    rec = entry["recommendation"]
    return {
        "recommendation": _long(rec),
        "label": _label(rec, kb),
        "status": entry["status"],
        "why": entry["why"],
        "missing": entry["missing"],
    }


def _label(ident: str, kb: dict) -> str:
    """A label as the plan gives it (``KBIndex.label``: the rdfs:label, else the local name)."""
    if ident in kb["recommendations"]:
        return kb["recommendations"][ident]["label"]
    return kb["labels"].get(ident) or local(_long(ident))


def expand(line: dict, kb: dict) -> dict:
    """A compact line joined with the knowledge base's part: the full plan, ``Plan.to_dict()`` to the letter."""
    if line.get("format") != FORMAT or kb.get("format") != KB_FORMAT:
        raise ValueError(f"not a {FORMAT} line with a {KB_FORMAT} part")
    if line["kb_version"] != kb["kb_version"]:
        raise ValueError(f"the line's KB version {line['kb_version']} is not the part's {kb['kb_version']}")
    conflicts = []
    for c in line["conflicts"]:
        if isinstance(c, dict):
            conflicts.append(c)
            continue
        cid, applies_all = c
        known = kb["conflicts"][cid]
        sides = [
            {
                "member": _long(m),
                "label": _label(m, kb),
                "source": kb["sources"].get(m, "external"),
                "applies": applies,
            }
            for m, applies in zip(known["members"], applies_all, strict=True)
        ]
        conflicts.append({"id": cid, "label": known["label"], "description": known["description"], "sides": sides})
    entries = _derived(line["conditions"], kb) if "conditions" in line else {}
    entries.update((e[0] if isinstance(e, list) else e["recommendation"], e) for e in line["not_applicable"])
    not_applicable = [
        _full_why(e[0], e[1], e[2], kb) if isinstance(e, list) else _full_entry(e, kb)
        for _, e in sorted(entries.items(), key=lambda kv: _long(kv[0]))
    ]
    return {
        "case": line["case"],
        "kb_version": line["kb_version"],
        "red_flags": [
            {
                "id": i,
                "label": _label(i, kb),
                "triggered_by": t,
                "flagged_by_sources": s,
                "reason": r,
                "held_until": kb["held_until"].get(i, "is excluded"),
                "defers": d,
            }
            for i, t, s, r, d in line["red_flags"]
        ],
        "steps": [
            _full_step(s, kb, line["facts"], n)
            for s, n in zip(
                line["steps"], step_numbers((s["id"], s.get("part_of")) for s in line["steps"]), strict=True
            )
        ],
        "warnings": [{"id": i, "message": m, "subjects": s} for i, m, s in line["warnings"]],
        "conflicts": conflicts,
        "not_applicable": not_applicable,
        "preempted": [_full_entry(e, kb) for e in line["preempted"]],
        "concordance": line["concordance"],
        "presentations": [{"id": p, "label": _label(p, kb), "triggered_by": t} for p, t in line["presentations"]],
        "deferred": [_full_step(s, kb, line["facts"]) for s in line["deferred"]],
        "summary": line["summary"],
    }


def _not_applicable_part(plan: Plan, kb: dict) -> dict:
    """The why-nots of a plan as the statuses of the conditions that are not at their default (numbered as in the
    part; a recommendation's why-not is then a function of its conditions' statuses, :func:`_derived`), plus the
    entries that are not (kept whole). Where the entries do not agree on a condition (then no statuses give them
    back), each is listed instead."""
    decided: dict[int, list] = {}
    listed, whole, named = [], [], set()
    agree = True
    for e in plan.not_applicable:
        entry, says = _made(e, kb)
        listed.append(entry)
        if isinstance(entry, dict):
            whole.append(entry)
            named.add(entry["recommendation"])
            continue
        named.add(entry[0])
        if says is None:
            agree = False
            continue
        for key, status in says:
            known = decided.setdefault(key, status)
            if known is not status and known != status:
                agree = False
    for rec, info in kb["recommendations"].items():  # a recommendation not listed applies: its conditions hold
        if rec not in named:
            for key in info["keys"]:
                known = decided.setdefault(key, _HOLDS)
                if known is not _HOLDS and known != _HOLDS:
                    agree = False
    if not agree:
        return {"not_applicable": listed}
    defaults = kb["condition_defaults"]
    # copies: the statuses are shared between the entries made once for many cases
    conditions = {str(k): [v[0], [*v[1]]] for k, v in sorted(decided.items()) if v != [defaults[k], []]}
    return {"conditions": conditions, "not_applicable": whole}


_HOLDS = ["h", []]


#: Per part (kept alive in ``_PARTS``): each recommendation's why-not row with every condition at its default, and
#: condition number → the recommendations that have it.
_TABLE: dict[int, tuple[dict[str, list], dict[int, frozenset[str]]]] = {}


def _tables(kb: dict) -> tuple[dict[str, list], dict[int, frozenset[str]]]:
    made = _TABLE.get(id(kb))
    if made is None:
        _PARTS[id(kb)] = kb
        recs_of: dict[int, set[str]] = {}
        for rec, info in kb["recommendations"].items():
            for key in info["keys"]:
                recs_of.setdefault(key, set()).add(rec)
        at_default = {}
        for rec, info in kb["recommendations"].items():
            row = _row(rec, info["keys"], {}, kb["condition_defaults"])
            if row is not None:
                at_default[rec] = row
        made = _TABLE[id(kb)] = (at_default, {k: frozenset(v) for k, v in recs_of.items()})
    return made


def _row(rec: str, keys: list[int], conditions: dict[str, list], defaults: list[str]) -> list | None:
    rows: list[list] = []
    for n, key in enumerate(keys, 1):
        kind, values = conditions.get(str(key), (defaults[key], []))
        if kind != "h":
            rows.append([f"c{n}", kind, values])
    return [rec, _status(rows), rows] if rows else None


def _status(rows: list) -> str:
    """A why-not's status from its rows: it fails if a condition fails, else it is unknown."""
    return "fails" if any(kind == "f" for _, kind, _ in rows) else "unknown"


def _derived(conditions: dict[str, list], kb: dict) -> dict[str, list | dict]:
    """Recommendation → its why-not row (:func:`_why`'s form), from the line's condition statuses and the defaults:
    every recommendation with a condition that fails or is unknown."""
    at_default, recs_of_key = _tables(kb)
    out: dict[str, list | dict] = dict(at_default)
    recs = kb["recommendations"]
    for rec in {r for k in conditions for r in recs_of_key.get(int(k), ())}:
        row = _row(rec, recs[rec]["keys"], conditions, kb["condition_defaults"])
        if row is None:
            out.pop(rec, None)
        else:
            out[rec] = row
    return out
