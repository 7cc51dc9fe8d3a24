"""The plan as one self-contained HTML page (inline CSS and SVG, no scripts, no links out), and the graph command."""

from __future__ import annotations

import os
import re
from concurrent.futures import ThreadPoolExecutor
from html import escape
from pathlib import Path
from typing import TYPE_CHECKING

from ..api import default_reasoner
from ..kb.index import local
from ..outputs import write_output
from ..plan.words import until_excluded
from .dot import inline_svg, render, step_graph
from .text import PHASES, cite, stance_word, tempered, waits_apart

if TYPE_CHECKING:
    from ..api import Result
    from ..plan.model import Plan, Step
    from ..reasoning.engine import Reasoner

PICTURE_SUFFIXES = {".svg": "svg", ".png": "png", ".dot": "dot", ".gv": "dot"}
STATUS_CLASS = {"explained": "ok", "partly explained": "part", "not explained": "none"}

CSS = """
:root { --ink: #1d232a; --muted: #5b6570; --line: #d5dbe1; --red: #b00020; --amber: #8a5a00; }
* { box-sizing: border-box; }
body { font: 15px/1.45 "DejaVu Sans", "Helvetica Neue", Arial, sans-serif; color: var(--ink); margin: 0;
  background: #f6f7f9; }
main { max-width: 1400px; margin: 0 auto; padding: 24px 28px 48px; background: #fff; }
h1 { font-size: 26px; margin: 0 0 4px; }
h2 { font-size: 20px; margin: 32px 0 10px; padding-bottom: 4px; border-bottom: 2px solid var(--line); }
h3 { font-size: 16px; margin: 22px 0 8px; }
h3.phase { text-transform: uppercase; letter-spacing: .06em; color: var(--muted); }
code { font-family: "DejaVu Sans Mono", monospace; font-size: 13px; background: #f0f2f4; padding: 0 3px;
  border-radius: 3px; }
.meta { color: var(--muted); margin: 0 0 16px; }
nav ul.steps { columns: 2; margin: 6px 0 0; padding-left: 0; list-style: none; }
nav li.part, .step.part { margin-left: 28px; }
.red-flags { background: var(--red); color: #fff; padding: 14px 20px; border-radius: 6px; margin: 18px 0; }
.red-flags h2 { color: #fff; border-color: rgba(255,255,255,.5); margin-top: 0; }
.red-flags li { font-size: 17px; margin: 4px 0; }
.red-flags code { background: rgba(255,255,255,.18); color: #fff; }
.no-red-flags { border: 1px solid var(--line); padding: 8px 14px; border-radius: 6px; }
.warnings { background: #fff6dc; border-left: 6px solid #e0a800; padding: 10px 18px; border-radius: 4px; }
.warnings h2 { margin-top: 4px; border: 0; }
.warnings li { margin: 4px 0; }
.step { border: 1px solid var(--line); border-left: 6px solid #3a8f4c; border-radius: 6px; padding: 10px 16px 12px;
  margin: 12px 0 18px; }
.step.consider { border-left-color: #2f6db3; }
.step.avoid { border-left-color: var(--red); }
.step h4 { font-size: 17px; margin: 2px 0 6px; }
.num { display: inline-block; min-width: 34px; color: var(--muted); }
.stance { display: inline-block; font-size: 12px; font-weight: bold; color: #fff; background: #3a8f4c;
  padding: 1px 8px; border-radius: 10px; margin-right: 6px; vertical-align: 2px; }
.consider .stance { background: #2f6db3; }
.avoid .stance { background: var(--red); }
.timing { color: var(--amber); font-weight: normal; font-size: 14px; }
.safety { font-size: 12px; color: var(--red); border: 1px solid var(--red); border-radius: 10px; padding: 0 6px;
  font-weight: normal; }
dl.facts { display: grid; grid-template-columns: max-content 1fr; gap: 2px 12px; margin: 6px 0; font-size: 14px; }
dl.facts dt { color: var(--muted); }
dl.facts dd { margin: 0; }
ol.evidence { margin: 8px 0; padding-left: 22px; }
ol.evidence li { margin: 6px 0; }
blockquote { margin: 0; font-style: italic; }
.cite { color: var(--muted); font-size: 13px; }
figure { margin: 10px 0 0; border-top: 1px dashed var(--line); padding-top: 8px; overflow-x: auto; }
figure svg { max-width: none; height: auto; display: block; }
figcaption { color: var(--muted); font-size: 13px; margin-bottom: 4px; }
table { border-collapse: collapse; width: 100%; font-size: 14px; margin: 6px 0 12px; }
th, td { border: 1px solid var(--line); padding: 4px 8px; text-align: left; vertical-align: top; }
th { background: #f0f2f4; }
td.ok { color: #1f6d32; font-weight: bold; }
td.part { color: var(--amber); font-weight: bold; }
td.none { color: var(--red); font-weight: bold; }
td.imaging { color: var(--muted); }
footer { margin-top: 28px; color: var(--muted); font-size: 13px; }
@media print {
  body { background: #fff; }
  .step, figure { break-inside: avoid; }
  figure svg { width: 100% !important; }
}
"""


def _e(text: object) -> str:
    """Data as HTML text (every value from the case, the plan or the KB goes through here)."""
    return escape(str(text), quote=True)


def _section(ident: str, title: str, body: list[str], cls: str = "") -> list[str]:
    attr = f' class="{cls}"' if cls else ""
    return [f'<section id="{ident}"{attr}>', f"<h2>{_e(title)}</h2>", *body, "</section>"]


def _red_flags(plan: Plan) -> list[str]:
    if not plan.red_flags:
        return ['<section id="red-flags" class="no-red-flags"><p>No red flag in the case as recorded.</p></section>']
    items = []
    for f in plan.red_flags:
        by = (
            f"flagged by article(s) {', '.join(f.flagged_by_sources)}"
            if f.flagged_by_sources
            else "not flagged by the source articles"
        )
        items.append(
            f"<li>⚑ <strong>{_e(f.label)}</strong> <code>{_e(f.id)}</code> because: "
            f"{_e(f.reason or ', '.join(f.triggered_by))} — {_e(by)}</li>"
        )
    return _section("red-flags", "Red flags: act on these first", ["<ul>", *items, "</ul>"], "red-flags")


def _summary(plan: Plan) -> list[str]:
    """The case as recorded and its presentations, a line each: the note's opening."""
    if not plan.summary and not plan.presentations:
        return []
    items = [f"<li>{_e(line)}</li>" for line in plan.summary]
    pres = [
        f"<li><strong>{_e(p.label)}</strong> <code>{_e(p.id)}</code>"
        + (f" from {_e(', '.join(p.triggered_by))}" if p.triggered_by else "")
        + "</li>"
        for p in plan.presentations
    ]
    body = ["<ul>", *items, "</ul>"] + (["<h3>Presentations</h3>", "<ul>", *pres, "</ul>"] if pres else [])
    return _section("summary", "The case as recorded", body)


def _deferred(plan: Plan) -> list[str]:
    if not plan.deferred:
        return []
    mild = tempered(plan)
    common = plan.deferred_common()  # the title names what most deferred care waits on; a step that waits on others

    def until(s: Step) -> str:  # says which
        apart = waits_apart(plan, s, common)
        return f", {apart}" if apart else ""

    rows = [
        f'<li>{_e(stance_word(s, mild))} {_e(s.label)} <span class="timing">({_e(s.phase.replace("_", " "))}'
        f"{_e(until(s))})</span>: {_e(', '.join(local(r) for r in s.recommendations))}</li>"
        for s in plan.deferred
    ]
    holding = plan.holding_flags()
    if plan.waits_while_confirmed():  # advice against imaging, beside a red flag no work-up will exclude
        title = f"Deferred while {' and '.join(f.label for f in holding)} stand{'s' * (len(holding) == 1)} (confirmed)"
    else:
        title = f"Deferred {until_excluded([(f.label, f.held_until) for f in common])}, then resume"
    return _section("deferred", title, ["<ul>", *rows, "</ul>"])


def _warnings(plan: Plan) -> list[str]:
    if not plan.warnings:
        return []
    items = [f"<li><code>{_e(w.id)}</code> {_e(w.message)}</li>" for w in plan.warnings]
    return _section("warnings", "Warnings", ["<ul>", *items, "</ul>"], "warnings")


def _step(s: Step, svg: str, labels: dict[str, str], mild: frozenset[tuple[str, str]] = frozenset()) -> list[str]:
    n = s.number  # the plan's one numbering (Plan.step takes it back): 2, 2.1, …; the anchor is step-2.1
    part = "." in str(n)
    timing = f' <span class="timing">— {_e(s.timing)}</span>' if s.timing else ""
    safety = ' <span class="safety">safety rule</span>' if s.safety else ""
    recs = "<br>".join(f"<code>{_e(local(r))}</code> {_e(labels.get(r, ''))}" for r in s.recommendations)
    out = [
        f'<article class="step {_e(s.stance)}{" part" if part else ""}" id="step-{_e(str(n))}">',
        f'<h4><span class="num">{n}.</span><span class="stance">{_e(stance_word(s, mild))}</span>'
        f"{_e(s.label)}{timing}{safety}</h4>",
        '<dl class="facts">',
        f"<dt>intervention</dt><dd><code>{_e(s.id)}</code> · phase {_e(s.phase.replace('_', ' '))}</dd>",
        f"<dt>recommendation{'s' if len(s.recommendations) > 1 else ''}</dt><dd>{recs}</dd>",
        f"<dt>decided by</dt><dd>{_e('; '.join(t.text for t in s.triggers) or '(no case finding recorded)')}</dd>",
        *([f"<dt>comprises</dt><dd>{_e(', '.join(s.parts))}</dd>"] if s.parts else []),
        *([f"<dt>part of</dt><dd>{_e(s.part_of)}</dd>"] if s.part_of else []),
        *([f"<dt>also recommended by</dt><dd>{_e(', '.join(local(r) for r in s.covers))}</dd>"] if s.covers else []),
        *([f"<dt>sources disagree</dt><dd>{_e(', '.join(s.conflicts))}</dd>"] if s.conflicts else []),
        "</dl>",
        '<ol class="evidence">',
    ]
    for ev in s.evidence:
        section = f"; section “{_e(ev.section)}”" if ev.section else ""
        out.append(
            f'<li><blockquote>“{_e(ev.quote)}”</blockquote><div class="cite">— {_e(cite(ev))}{section}</div></li>'
        )
    out += [
        "</ol>",
        f'<figure class="provenance"><figcaption>Provenance of step {n}: case findings → step → recommendation'
        " → evidence sentence → reference</figcaption>",
        svg,
        "</figure>",
        "</article>",
    ]
    return out


def _steps(plan: Plan, svgs: list[str], labels: dict[str, str]) -> list[str]:
    body = []
    for phase, title in PHASES:
        steps = [(s, svg) for s, svg in zip(plan.steps, svgs, strict=True) if s.phase == phase]
        if not steps:
            continue
        body.append(f'<h3 class="phase" id="phase-{_e(phase)}">{_e(title.capitalize())}</h3>')
        for s, svg in steps:
            body += _step(s, svg, labels, tempered(plan))
    if not plan.steps:
        body.append("<p>No recommendation applies to the case as recorded.</p>")
    return _section("plan", "The plan, by phase", body)


def _preempted(plan: Plan) -> list[str]:
    if not plan.preempted:
        return []
    rows = [
        f"<tr><td><code>{_e(local(p.recommendation))}</code></td><td>{_e(p.label)}</td>"
        f"<td>{_e('; '.join(p.why))}</td></tr>"
        for p in plan.preempted
    ]
    head = "<table><thead><tr><th>recommendation</th><th>what it says</th><th>why not</th></tr></thead><tbody>"
    return _section(
        "preempted",
        "Deferred, covered, already tried, contraindicated or overridden: why not a step",
        [head, *rows, "</tbody></table>"],
    )


def _conflicts(plan: Plan) -> list[str]:
    if not plan.conflicts:
        return []
    body = []
    for c in plan.conflicts:
        body += [
            f"<h3>{_e(c.label)}</h3>",
            f"<p>{_e(c.description)}</p>",
            "<table><thead><tr><th>side</th><th>source</th><th>here</th><th>what it says</th></tr></thead><tbody>",
        ]
        overridden = {p.recommendation for p in plan.preempted if p.status == "overridden"}
        for side in c.sides:
            here = side.standing + (", overridden: not given" if side.member in overridden else "")
            body.append(
                f"<tr><td><code>{_e(local(side.member))}</code></td><td>{_e(side.source)}</td><td>{_e(here)}</td>"
                f"<td>{_e(side.label)}</td></tr>"
            )
        body.append("</tbody></table>")
    return _section("conflicts", "Where sources disagree", body)


def _concordance(plan: Plan) -> list[str]:
    if not plan.concordance:
        return _section("concordance", "Dermatome–imaging concordance", ["<p>No symptomatic dermatome recorded.</p>"])
    rows = []
    for d in plan.concordance:
        cls = STATUS_CLASS.get(d.status) or ("part" if "unknown" in d.status else "imaging")  # the zone decides
        how = "<br>".join(
            _e(f"{x.finding} {x.type.replace('_', ' ')} {x.level} → {x.root} root ({x.via})") for x in d.explained_by
        )
        rows.append(
            f"<tr><td><strong>{_e(d.dermatome)}</strong></td><td>{_e(', '.join(d.sides))}</td>"
            f'<td class="{cls}">{_e(d.status)}</td><td>{how or "—"}</td></tr>'
        )
    head = "<table><thead><tr><th>dermatome</th><th>sides</th><th>status</th><th>explained by</th></tr></thead><tbody>"
    return _section("concordance", "Dermatome–imaging concordance", [head, *rows, "</tbody></table>"])


def _sized(svg: str) -> str:
    """An inline SVG no wider than its natural size and no smaller than 65% of it (the figure scrolls instead).

    >>> _sized('<svg width="300pt" height="100pt" viewBox="0 0 300 100"></svg>')
    '<svg style="width: min(400px, max(100%, 260px))" width="300pt" height="100pt" viewBox="0 0 300 100"></svg>'
    """
    m = re.match(r'<svg width="([\d.]+)pt"', svg)
    if m is None:
        return svg
    px = float(m.group(1)) * 4 / 3
    return f'<svg style="width: min({px:.0f}px, max(100%, {px * 0.65:.0f}px))"' + svg[len("<svg") :]


def _svgs(result: Result, reasoner: Reasoner | None) -> list[str]:
    """Every step's provenance picture as inline SVG, the ``dot`` runs side by side."""
    prov = result.provenance(reasoner) if result.plan.steps else None
    dots = [step_graph(result, str(s.number), prov=prov, reasoner=reasoner) for s in result.plan.steps]
    with ThreadPoolExecutor(max_workers=min(8, os.cpu_count() or 1)) as pool:
        return [_sized(inline_svg(svg)) for svg in pool.map(lambda d: render(d, "svg"), dots)]


def html(result: Result, *, reasoner: Reasoner | None = None) -> str:
    """The plan of ``result`` as one self-contained HTML page: no scripts, no external URLs, SVGs inline.

    >>> from reasoner.api import reason
    >>> result = reason([{"id": "doc-report", "symptoms": [
    ...     {"type": "radicular_pain", "dermatomes": ["L5"], "laterality": "left", "duration_weeks": 3}]}])[0]
    >>> page = html(result)
    >>> page.startswith("<!DOCTYPE html>") and page.count("<svg") == len(result.plan.steps) > 0
    True
    """

    plan = result.plan
    idx = (reasoner or default_reasoner()).index
    labels = {r: idx.label(r) for s in plan.steps for r in s.recommendations}
    svgs = _svgs(result, reasoner)
    # the list's own numbers would count the parts of an umbrella step as steps: each item shows the plan's number
    toc = ['<nav><strong>Steps</strong><ul class="steps">']
    mild = tempered(plan)
    for s in plan.steps:
        n = _e(str(s.number))
        part = ' class="part"' if "." in n else ""
        toc.append(
            f'<li{part}><a href="#step-{n}"><span class="num">{n}.</span>'
            f"{_e(stance_word(s, mild))} {_e(s.label)}</a> <small>({_e(s.phase.replace('_', ' '))})</small></li>"
        )
    toc.append("</ul></nav>")
    title = f"Management plan for case {plan.case}"
    parts = [
        "<!DOCTYPE html>",
        '<html lang="en">',
        "<head>",
        '<meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f"<title>{_e(title)} (knowledge base {_e(plan.kb_version)})</title>",
        f"<style>{CSS}</style>",
        "</head>",
        "<body>",
        "<main>",
        "<header>",
        f"<h1>Management plan for case <code>{_e(plan.case)}</code></h1>",
        f'<p class="meta">knowledge base <code>{_e(plan.kb_version)}</code> · {len(plan.steps)} step(s) · '
        f"{len(plan.red_flags)} red flag(s) · made by spinekg from the case as recorded</p>",
        "</header>",
        *_red_flags(plan),  # the red-flag banner stays at the very top: red flags come first
        *_summary(plan),
        *_warnings(plan),
        *toc,
        *_steps(plan, svgs, labels),
        *_deferred(plan),
        *_preempted(plan),
        *_conflicts(plan),
        *_concordance(plan),
        f"<footer><p>{len(plan.not_applicable)} recommendation(s) did not apply; "
        "<code>spinekg why-not CASE RECOMMENDATION</code> says why.</p></footer>",
        "</main>",
        "</body>",
        "</html>",
    ]
    return "\n".join(parts) + "\n"


def write_html(result: Result, path: str | os.PathLike, *, reasoner: Reasoner | None = None) -> Path:
    """Write the page of ``result`` to ``path`` as :func:`reasoner.outputs.write_output` does (a regular file
    atomically by a rename, a device or FIFO in place, a symlink through; a failure: exit-2 error); the path.

    >>> import tempfile
    >>> from reasoner.api import reason
    >>> result = reason([{"id": "doc-write", "symptoms": [
    ...     {"type": "axial_pain", "laterality": "midline", "duration_weeks": 2}]}])[0]
    >>> with tempfile.TemporaryDirectory() as d:
    ...     out = write_html(result, Path(d) / "plan.html")
    ...     out.read_text(encoding="utf-8").startswith("<!DOCTYPE html>"), sorted(p.name for p in Path(d).iterdir())
    (True, ['plan.html'])
    """
    return write_output(Path(path), html(result, reasoner=reasoner).encode("utf-8"))
