"""Provenance pictures: one plan step's chain (findings → step → recommendations → evidence → references) in DOT."""

from __future__ import annotations

import re
import shutil
import subprocess
import textwrap
from collections.abc import Iterable
from decimal import Decimal
from html import escape
from typing import TYPE_CHECKING, TypedDict, cast

from rdflib import Graph, Literal, URIRef
from rdflib.term import Node

from ..api import default_reasoner
from ..case.paths import field_path, path_key
from ..consts import DCTERMS, OA, OWL, PROV, RDF, RDFS, SK, SKOS
from ..errors import GraphvizError, UsageError
from ..kb.index import local
from .text import TEMPERED, stance_word, tempered

if TYPE_CHECKING:
    from ..api import Result
    from ..reasoning.engine import Reasoner

FORMATS = ("svg", "png")
FONT = "DejaVu Sans"
WRAP = 46  # characters per line of a quote
STANCE = {"do": "DO", "consider": "CONSIDER", "avoid": "DO NOT"}
STEP_FILL = {"do": "#d8f0dc", "consider": "#dbe8f7", "avoid": "#f6dcdc"}


class _NodeStyle(TypedDict):
    shape: str
    style: str
    fillcolor: str


EVIDENCE: _NodeStyle = {"shape": "note", "style": "filled", "fillcolor": "#fffdf5"}
# what a case resource says about itself that the picture leaves out (bookkeeping links, not findings)
SKIP = {RDF.type, SK.inCase, SK.ofPatient, SK.fromStudy}
LEGEND = (
    "case findings trigger the step; the step, and each recommendation, prov:wasDerivedFrom the next box to the "
    "right; evidence sentences cite references (or say why the marker does not resolve)"
)
STATUS_NOTE = {
    "unresolved": "article {article} prints no reference list",
    "unresolved_listed": (
        "the reference list of article {article} has entries missing: a position does not say which entry [{marker}] is"
    ),
    "dangling": "the reference list of article {article} has no entry {marker}",
}
BR = '<BR ALIGN="LEFT"/>'  # ends a left-aligned line of an HTML-like label


def _prints_list(prov: Graph, article: object) -> bool:
    """Whether the article prints a reference list (``sk:printsReferenceList``; the KB slice of the provenance)."""
    printed = prov.value(cast("URIRef", article), SK.printsReferenceList)
    return isinstance(printed, Literal) and printed.toPython() is True


def _esc(text: object) -> str:
    """Text for a Graphviz HTML-like label (``&``, ``<``, ``>`` and quotes escaped)."""
    return escape(str(text), quote=True)


def _wrap(text: object, width: int = WRAP) -> str:
    """Escaped text as left-aligned lines of at most ``width`` characters."""
    return "".join(f"{_esc(line)}{BR}" for line in _lines(str(text), width))


def _lines(text: str, width: int) -> list[str]:
    """Lines of at most ``width`` characters, broken at spaces only (``L4-L5`` and long ids stay whole)."""
    return textwrap.wrap(text, width, break_on_hyphens=False, break_long_words=False) or [""]


def _small(lines: str, colour: str = "#555555") -> str:
    return f'<FONT POINT-SIZE="9" COLOR="{colour}">{lines}</FONT>'


class _Dot:
    """A DOT digraph under construction: nodes keyed by what they stand for, named n0, n1, … (never by IRI)."""

    def __init__(self) -> None:
        self.ids: dict[object, str] = {}
        self.lines: list[str] = []

    def node(self, key: object, label: str, *, into: list[str] | None = None, **attrs: str) -> str:
        if key not in self.ids:
            self.ids[key] = f"n{len(self.ids)}"
            extra = "".join(f', {k}="{v}"' for k, v in attrs.items())
            (self.lines if into is None else into).append(f"  {self.ids[key]} [label=<{label}>{extra}];")
        return self.ids[key]

    def edge(self, a: str, b: str, label: str = "", **attrs: str) -> None:
        pairs = ([f"label=<{_esc(label)}>"] if label else []) + [f'{k}="{v}"' for k, v in attrs.items()]
        self.lines.append(f"  {a} -> {b}" + (f" [{', '.join(pairs)}]" if pairs else "") + ";")


def _value(idx, o) -> str:
    """How a value of a case resource is shown: a notation where the label is that plus a noun ("L2 dermatome"
    → L2, "L3-L4 disc level" → L3-L4), else the label; a literal as written (numbers without a trailing .0)."""
    if isinstance(o, URIRef):
        label, notation = idx.label(o), idx.kb.value(o, SKOS.notation)
        return str(notation) if notation is not None and label.startswith(f"{notation} ") else label
    v = o.toPython()
    if isinstance(v, bool):
        return "yes" if v else "no"
    return f"{float(v):g}" if isinstance(v, (int, float, Decimal)) else str(v)


def _finding_label(idx, prov: Graph, case: str, fact: Node) -> tuple[str, bool]:
    """A finding's node label (field path, types, what the case records of it) and whether it has a red flag."""
    classes = [t for t in prov.objects(fact, RDF.type) if t not in (OWL.NamedIndividual, SK.Case)]
    flags = sorted(idx.label(t) for t in classes if str(t) in idx.red_flags)
    types = sorted(idx.label(t) for t in classes if str(t) not in idx.red_flags)
    values: dict[Node, list[str]] = {}
    for p, o in prov.predicate_objects(fact):
        if p in SKIP or (fact == URIRef(case) and p != SK.candidateFor):
            continue
        values.setdefault(p, []).append(_value(idx, o))
    parts = [
        ", ".join(sorted(vs)) if isinstance(prov.value(fact, p), URIRef) else f"{idx.label(p)} {', '.join(vs)}"
        for p, vs in sorted(values.items())
    ]
    label = f"<B>{_esc(field_path(case, str(fact)))}</B>{BR}"
    if types:
        label += _wrap(", ".join(types), 34)
    if parts:
        label += _small(_wrap(" · ".join(parts), 36))
    for flag in flags:
        label += f'<FONT COLOR="#b00020"><B>⚑ {_esc(flag)}</B></FONT>{BR}'
    return label, bool(flags)


def _quote(prov: Graph, ev: URIRef) -> str:
    """The evidence statement's sentence: its ``oa:exact`` (or, from a reference table, the cell's text)."""
    for target in prov.objects(ev, OA.hasTarget):
        for selector in prov.objects(target, OA.hasSelector):
            for exact in prov.objects(selector, OA.exact):
                return str(exact)
    return str(prov.value(ev, SK.referenceText) or "")


def _evidence(dot: _Dot, prov: Graph, ev: URIRef) -> str:
    """The evidence statement's node, with edges to what it cites (or to its citation status)."""
    quote = f"<I>{_wrap(f'“{_quote(prov, ev)}”')}</I>"
    if (ev, RDF.type, SK.ExternalEvidence) in prov:
        table = prov.value(ev, DCTERMS.source)
        name = prov.value(table, SK.tableFile) or local(table)
        where = f"{prov.value(ev, SK.referenceRow)} / {prov.value(ev, SK.referenceColumn)}"
        me = dot.node(ev, f"{_id(ev)}{BR}{_small(_wrap(f'{name}: {where}'))}{quote}", **EVIDENCE)
        label = f"<B>reference table</B>{BR}{_esc(name)}{BR}"
        if prov.value(table, DCTERMS.title) is not None:
            label += _small(_wrap(prov.value(table, DCTERMS.title), 30))
        dot.edge(me, dot.node(table, label, shape="cylinder", style="filled", fillcolor="#eeeeee"), "quoted from")
        for src in sorted(cast("Iterable[URIRef]", prov.objects(ev, PROV.hadPrimarySource))):
            dot.edge(me, _source(dot, prov, src), "primary source")
        return me
    article = prov.value(ev, DCTERMS.source)
    art_id = str(prov.value(article, DCTERMS.identifier) or local(article))
    cites = sorted(prov.objects(ev, SK.citation), key=lambda c: int(str(prov.value(c, SK.marker))))
    markers = f"[{', '.join(str(prov.value(c, SK.marker)) for c in cites)}]" if cites else "(no citation marker)"
    section = prov.value(ev, SK.section)
    sec = _small(_wrap(f"§ {section}", 40)) if section is not None else ""
    me = dot.node(ev, f"{_id(ev)} · <B>article {_esc(art_id)} {_esc(markers)}</B>{BR}{sec}{quote}", **EVIDENCE)
    cited: set = set()
    for c in cites:
        marker = str(prov.value(c, SK.marker))
        status = local(prov.value(c, SK.citationStatus))
        refs = sorted(cast("Iterable[URIRef]", prov.objects(c, SK.citesReference)))
        cited.update(refs)
        for ref in refs:
            dot.edge(me, _source(dot, prov, ref), f"cites [{marker}]")
        if not refs:  # unresolved or dangling: the marker's status is the end of the chain
            key = f"{status}_listed" if status == "unresolved" and _prints_list(prov, article) else status
            note = STATUS_NOTE.get(key, "article {article}: no reference recorded").format(
                article=art_id, marker=marker
            )
            label = f"<B>[{_esc(marker)}] {_esc(status)}</B>{BR}{_small(_wrap(note, 30))}"
            colour = "#c05600" if status == "dangling" else "#777777"
            node = dot.node(
                ("status", art_id, marker, status), label, shape="box", style="dashed,rounded", color=colour
            )
            dot.edge(me, node, f"cites [{marker}]")
    if not cites:
        dot.edge(me, dot.node("uncited", "<I>uncited: the sentence carries no marker</I>", shape="plaintext"))
    for src in sorted(cast("set[URIRef]", set(prov.objects(ev, PROV.hadPrimarySource)) - cited)):
        dot.edge(me, _source(dot, prov, src), "primary source")
    return me


def _id(iri: URIRef) -> str:
    """A KB id as a node's small bold first line."""
    return f'<FONT POINT-SIZE="9"><B>{_esc(local(iri))}</B></FONT>'


def _source(dot: _Dot, prov: Graph, src: URIRef) -> str:
    """A cited reference of an article, or an external guideline (marked external)."""
    if (src, RDF.type, SK.ExternalGuideline) in prov or prov.value(src, SK.external) == Literal(True):
        title = prov.value(src, DCTERMS.title) or local(src)
        who = ", ".join(str(x) for x in (prov.value(src, DCTERMS.publisher), prov.value(src, SK.year)) if x)
        label = f"<B>external guideline</B>{BR}{_wrap(title, 34)}" + (_small(_wrap(who, 40)) if who else "")
        return dot.node(src, label, shape="box", style="filled,dashed", fillcolor="#f0f0f0")
    text = prov.value(src, DCTERMS.bibliographicCitation) or prov.value(src, DCTERMS.title) or local(src)
    pos = prov.value(src, SK.position)
    head = f"reference {pos}" if pos is not None else "reference"
    label = f"<B>{_esc(head)}</B> · {_esc(local(src))}{BR}{_wrap(text, 34)}"
    return dot.node(src, label, shape="box", style="filled", fillcolor="#eeeeee")


def step_graph(result: Result, step_key: str, *, prov: Graph | None = None, reasoner: Reasoner | None = None) -> str:
    """The provenance of one plan step as Graphviz DOT, read from the run's PROV-O graph.

    The triggering case findings (field path, types, red flags) → the step → its recommendations → each evidence
    statement (article and marker, the quote wrapped) → the cited reference, the reference table and external
    guidelines, or the marker's status when it does not resolve. ``step_key`` is what ``Plan.step`` takes (the
    step's number as the plan shows it, 2 or 2.1, an intervention id, or a recommendation id); an unknown key raises
    KeyError. Pass the ``prov`` graph of ``result`` to draw several steps of one run without rebuilding it.

    >>> from reasoner.api import reason
    >>> result = reason([{"id": "doc-graph", "symptoms": [
    ...     {"type": "radicular_pain", "dermatomes": ["L5"], "laterality": "left", "duration_weeks": 3}]}])[0]
    >>> dot = step_graph(result, "nsaid")
    >>> dot.startswith("digraph") and "symptoms[0]" in dot and "rec_002_02" in dot
    True
    """

    plan = result.plan
    step = plan.step(step_key)
    position = next(i for i, s in enumerate(plan.steps, 1) if s is step)  # sk:stepPosition: its place in the plan
    n = step.number  # as the plan shows it
    r = reasoner or default_reasoner()
    prov = prov if prov is not None else result.provenance(r)
    case = result.run.case
    s_iri = next(s for s in prov.subjects(SK.stepPosition, Literal(position)) if (s, RDF.type, SK.PlanStep) in prov)
    sources = set(prov.objects(s_iri, PROV.wasDerivedFrom))
    recs = [URIRef(x) for x in (*step.recommendations, *step.covers) if URIRef(x) in sources]
    facts = sorted(sources - set(recs), key=lambda f: path_key(field_path(case, str(f))))

    dot = _Dot()
    phase = step.phase.replace("_", " ") + (f" — {step.timing}" if step.timing else "")
    head = f"step {n}: {stance_word(step, tempered(plan))} {step.label}"
    me = dot.node(
        s_iri,
        f'<FONT POINT-SIZE="13"><B>{_wrap(head, 30)}</B></FONT>{_small(_wrap(phase, 40))}',
        shape="box",
        style="filled,rounded,bold",
        fillcolor=STEP_FILL[step.stance],
    )
    cluster: list[str] = []
    for fact in facts:
        label, flagged = _finding_label(r.index, prov, case, fact)
        red = {"color": "#b00020", "penwidth": "2"} if flagged else {}
        node = dot.node(fact, label, into=cluster, shape="box", style="rounded,filled", fillcolor="#eef4fb", **red)
        dot.edge(node, me)
    for rec in recs:
        src = prov.value(rec, DCTERMS.source)
        origin = prov.value(src, DCTERMS.identifier) or local(src)
        kind = "safety rule from" if prov.value(rec, SK.safetyRule) == Literal(True) else "article"
        stance = local(prov.value(rec, SK.stance))
        if stance == "avoid" and r.kb.value(rec, SK.tempersExpectations):  # review R14, defect 8
            stance = TEMPERED
        when = local(prov.value(rec, SK.phase)).replace("_", " ")
        label = (
            f"{_id(rec)}{BR}"
            f"{_wrap(prov.value(rec, RDFS.label) or r.index.label(rec), 34)}"
            f"{_small(_wrap(f'{kind} {origin} · {STANCE.get(stance, stance)} · {when}', 40))}"
        )
        node = dot.node(rec, label, shape="box", style="filled", fillcolor="#fff3c4")
        dot.edge(me, node)
        for ev in sorted(cast("Iterable[URIRef]", prov.objects(rec, PROV.wasDerivedFrom))):
            dot.edge(node, _evidence(dot, prov, ev))
    title = f"Provenance of step {n}: {stance_word(step, tempered(plan))} {step.label} ({step.phase.replace('_', ' ')})"
    lines = [
        f"digraph step_{str(n).replace('.', '_')} {{",
        f'  graph [id="provenance-step-{n}", rankdir=LR, fontname="{FONT}", fontsize=14, labelloc=t, labeljust=l, '
        "nodesep=0.15, ranksep=0.35, bgcolor=white];",
        f"  label=<<B>{_esc(title)}</B>{BR}{_small(_wrap(LEGEND, 100))}>;",
        f'  node [fontname="{FONT}", fontsize=10, margin="0.12,0.06"];',
        f'  edge [fontname="{FONT}", fontsize=8, fontcolor="#666666", color="#888888"];',
    ]
    if cluster:
        lines += [
            "  subgraph cluster_findings {",
            '    label=<case findings that triggered the step>; fontsize=10; style="rounded,dashed"; color="#9bb3d1";',
            *("  " + c for c in cluster),
            "  }",
        ]
    return "\n".join(lines + dot.lines + ["}"]) + "\n"


def dot_binary() -> str:
    """The path of Graphviz's ``dot``; GraphvizError when it is not installed.

    >>> dot_binary().endswith("dot")
    True
    """
    found = shutil.which("dot")
    if found is None:
        raise GraphvizError(
            "the Graphviz `dot` program is not on the PATH: install Graphviz (Debian: apt-get install graphviz)"
        )
    return found


def render(dot: str, fmt: str = "svg") -> bytes:
    """Lay out DOT source with Graphviz's ``dot`` and return the picture as ``svg`` or ``png`` bytes.

    >>> render('digraph { a -> b }', "svg").lstrip().startswith(b"<?xml")
    True
    >>> render('digraph { a -> b }', "png")[:4]
    b'\\x89PNG'
    """
    if fmt not in FORMATS:
        raise UsageError(f"format: {fmt!r} is not a picture format spinekg draws ({', '.join(FORMATS)})")
    try:
        proc = subprocess.run(
            [dot_binary(), f"-T{fmt}"], input=dot.encode("utf-8"), capture_output=True, timeout=120, check=False
        )
    except subprocess.TimeoutExpired as exc:
        raise GraphvizError(f"dot -T{fmt} did not finish in {exc.timeout:g} s") from exc
    if proc.returncode != 0:
        err = proc.stderr.decode("utf-8", "replace").strip()
        raise GraphvizError(f"dot -T{fmt} failed (exit status {proc.returncode}): {err}")
    return proc.stdout


def inline_svg(svg: bytes) -> str:
    """An SVG document as an element to put inside HTML: the XML declaration, doctype and comments dropped.

    >>> inline_svg(b'<?xml version="1.0"?>\\n<!-- c -->\\n<svg width="1pt"><g/></svg>\\n')
    '<svg width="1pt"><g/></svg>'
    """
    text = svg.decode("utf-8")
    text = text[text.index("<svg") :]
    return re.sub(r"<!--.*?-->\n?", "", text, flags=re.S).strip()
