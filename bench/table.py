"""The one Markdown table of a benchmark run, from its JSON result."""

from __future__ import annotations

BASELINES = {"a": "(a) rdflib + OWL-RL", "b": "(b) owlready2 + HermiT + SWRL", "c": "(c) plain Python"}
#: Baseline time per case ÷ spinekg's must be at least this (spinekg ≥ 100× ahead of (a), within 5× of (c)).
RATIO_TARGETS = {"a": 100.0, "c": 0.2}
TARGETS = {
    "p50_ms": 2.0,
    "cold_s": 0.4,
    "cohort_s": 30.0,
    "cohort_mib": 2 * 1024,
    "cohort_cases": 100_000,
    "bytes_per_case": 16_000,
    "floor_ratio": 25.0,
    "floor_cases": 10_000,
}
STAGE_NAMES = {
    "read_validate": "read + validate",
    "case_graph": "case graphs",
    "reason": "reason",
    "assemble": "assemble",
    "serialise": "serialise",
    "provenance": "provenance",
}


def seconds(value: float) -> str:
    """A duration for people.

    >>> seconds(0.0042), seconds(1.234), seconds(95.2), seconds(4000)
    ('4.2 ms', '1.23 s', '95.2 s', '66.7 min')
    """
    if value < 1:
        return f"{value * 1000:.3g} ms"
    if value < 10:
        return f"{value:.2f} s"
    if value < 1000:
        return f"{value:.1f} s"
    return f"{value / 60:.1f} min"


def ratio(value: float) -> str:
    """A ratio for people: ``×12,600``, ``×38``, ``×2.4``, ``×0.31``.

    >>> ratio(12634.2), ratio(37.6), ratio(2.43), ratio(0.314)
    ('×12,634', '×38', '×2.4', '×0.31')
    """
    if value >= 100:
        return f"×{value:,.0f}"
    if value >= 10:
        return f"×{value:.0f}"
    if value >= 1:
        return f"×{value:.1f}"
    return f"×{value:.2g}"


def memory(mib: float) -> str:
    return f"{mib / 1024:.2f} GiB" if mib >= 1024 else f"{mib:.0f} MiB"


def verdict(ok: bool | None) -> str:
    return "–" if ok is None else ("✓" if ok else "✗")


def baseline_cell(b: dict) -> str:
    """One baseline at one size: time per case, ratio to spinekg, how far it got, whether its plans are spinekg's."""
    if b["status"] == "not run":
        return f"not run ({b['reason']})"
    if not b["cases"]:
        return f"no case in {b['budget_seconds']:g} s"
    per_case = b["seconds"] / b["cases"]
    plans = b["plans"]
    if not plans["equal"]:
        return f"**VOID**: plan of {plans['case']} differs ({plans['where']})"
    text = f"{seconds(per_case)}/case, {ratio(b['ratio'])}"
    if b["status"] == "finished":
        text += f" ({seconds(b['seconds'])} in all)"
    else:
        text += f"; did not finish: {b['cases']:,} of {b['total']:,} in {b['budget_seconds']:g} s"
    return text + f"; plans equal on {plans['compared']:,}"


def markdown(result: dict) -> str:
    m = result["machine"]
    pk = m["packages"]
    dirty = " (working tree modified)" if result["dirty"] else ""
    load = ", ".join(f"{x:g}" for x in m["load_average"]) if m.get("load_average") else "?"
    lines = [
        f"### spinekg benchmark, {result['date']}, commit {result['commit']}{dirty}",
        "",
        f"Machine: {m['cpu']}, {m['cores']} cores, {m['ram_gib']} GiB RAM, load average {load} at the start; "
        f"Python {m['python']}; pyoxigraph {pk['pyoxigraph']}, rdflib {pk['rdflib']}, owlrl {pk['owlrl']}, "
        f"owlready2 {pk['owlready2']}; Java: {m['java'] or 'none'}.",
        f"Cases: `bench.generate` seed {result['settings']['seed']} ({result['cases']['red_flag_percent']:.1f} % with "
        f"a red flag). Ratio = a baseline's time per case ÷ spinekg's (plans in-process, same cases; > 1: spinekg "
        f"is faster). Budget: {result['settings']['budget_seconds']:g} s per baseline and size. "
        f"Command: `{result['command']}`.",
        "",
        "| measurement | spinekg | target | " + " | ".join(BASELINES.values()) + " |",
        "|---|---|---|" + "---|" * len(BASELINES),
    ]
    none = " | ".join("–" for _ in BASELINES)
    one = result["single_case"]
    ok = one["p50_ms"] <= TARGETS["p50_ms"]
    lines.append(
        f"| 1 case: plan + provenance ({one['provenance']}), warm, in-process (p50 / p95 of {one['cases']}; "
        f"plan alone, plan + rdflib graph: p50) | {one['p50_ms']:.3g} / {one['p95_ms']:.3g} ms "
        f"({one['plan_only_p50_ms']:.3g}, {one['with_graph_p50_ms']:.3g} ms) | "
        f"p50 ≤ {TARGETS['p50_ms']:g} ms {verdict(ok)} | {none} |"
    )
    cold = result["cold_cli"]
    ok = cold["median_s"] <= TARGETS["cold_s"]
    lines.append(
        f"| 1 case: cold CLI, `spinekg {cold['command']}` (median of {cold['runs']}) | {seconds(cold['median_s'])} | "
        f"≤ {TARGETS['cold_s']:g} s {verdict(ok)} | {none} |"
    )
    for size in result["sizes"]:
        n, c = size["cases"], size["cohort"]
        name = (
            "`spinekg cohort`"
            if c["command"] == "spinekg cohort"
            else "`bench.cohort_fallback` (no `spinekg cohort` yet)"
        )
        target = ""
        if n == TARGETS["cohort_cases"]:
            ok_s, ok_m = c["seconds"] <= TARGETS["cohort_s"], c["peak_mib"] <= TARGETS["cohort_mib"]
            target = f"≤ {TARGETS['cohort_s']:g} s {verdict(ok_s)}, ≤ 2 GiB {verdict(ok_m)}"
        lines.append(
            f"| {n:,} cases: {name} with provenance (wall, peak memory) | {seconds(c['seconds'])}, "
            f"{memory(c['peak_mib'])} | {target} | {none} |"
        )
        if "bytes_per_case" in c:
            ok = c["bytes_per_case"] <= TARGETS["bytes_per_case"]
            parts = ", ".join(f"{k} {v / 1e6:.1f} MB" for k, v in c["bytes"].items())
            lines.append(
                f"| {n:,} cases: bytes written per case ({parts}) | {c['bytes_per_case'] / 1000:.1f} kB | "
                f"≤ {TARGETS['bytes_per_case'] / 1000:g} kB {verdict(ok)} | {none} |"
            )
        for key, how in (("cohort_turtle", "provenance as Turtle"), ("cohort_gzip", "every output gzip-compressed")):
            t = size.get(key)
            if t and "bytes_per_case" in t:
                ok = t["bytes_per_case"] <= TARGETS["bytes_per_case"]
                parts = ", ".join(f"{k} {v / 1e6:.1f} MB" for k, v in t["bytes"].items())
                lines.append(
                    f"| {n:,} cases: bytes written per case, {how} ({parts}; the run: "
                    f"{seconds(t['seconds'])}) | {t['bytes_per_case'] / 1000:.1f} kB | "
                    f"≤ {TARGETS['bytes_per_case'] / 1000:g} kB {verdict(ok)} | {none} |"
                )
        if size.get("python_floor_seconds"):
            floor = c["seconds"] / size["python_floor_seconds"]
            ok = floor <= TARGETS["floor_ratio"] if n == TARGETS["floor_cases"] else None
            lines.append(
                f"| {n:,} cases: the cohort against the Python floor (read, parse and re-write the same JSON Lines: "
                f"{seconds(size['python_floor_seconds'])}) | {ratio(floor)} | ≤ {ratio(TARGETS['floor_ratio'])} "
                f"{verdict(ok)} | {none} |"
            )
        if size.get("stages"):
            st = size["stages"]
            shares = ", ".join(f"{STAGE_NAMES[k]} {st[k]:g} %" for k in STAGE_NAMES)
            lines.append(
                f"| {n:,} cases: where the batch function's time goes ({seconds(st['seconds'])} in process) | "
                f"{shares} | | {none} |"
            )
        s = size["spinekg"]
        if s is None:  # the cohort alone at this size (--in-process-up-to)
            continue
        targets = []
        for key, floor in RATIO_TARGETS.items():
            b = size["baselines"].get(key)
            met = (
                None
                if not b or b["status"] == "not run" or not b["cases"] or not b["plans"]["equal"]
                else b["ratio"] >= floor
            )
            targets.append(f"({key}) ≥ {ratio(floor)} {verdict(met)}")
        cells = [baseline_cell(size["baselines"][k]) for k in BASELINES]
        batch = result["settings"]["batch_size"]
        lines.append(
            f"| {n:,} cases: plans in-process (`reasoner.api.reason`, batches of {batch:,}) | "
            f"{seconds(s['seconds'])} ({seconds(s['seconds'] / n)}/case) | {', '.join(targets)} | "
            + " | ".join(cells)
            + " |"
        )
    if result.get("endpoint"):
        e = result["endpoint"]
        lines.append(
            f"| {e['cases']:,} cases: `spinekg cohort --endpoint` on an Oxigraph server (127.0.0.1), with provenance "
            f"(wall, peak memory of spinekg) | {seconds(e['seconds'])}, {memory(e['peak_mib'])} | | {none} |"
        )
    return "\n".join(lines) + "\n"
