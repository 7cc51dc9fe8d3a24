"""A recommendation's drug lines (``sk:drugLine``): whether its drug-neutral step ("consider drug treatment") stays
after a failed drug, and the warning that names, on the step, the line it stands on (``drug_line_left``)."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass

from rdflib import URIRef

from ..case.paths import path_key
from ..consts import SK, SK_IRI
from ..kb.index import local
from ..reasoning.engine import Reasoner
from . import parts as planparts
from .contraindications import ruled_out
from .model import Step, Warning
from .parts import unique
from .words import steps_named


@dataclass(frozen=True)
class Line:
    """One drug line of a recommendation: its IRI, label, place and drugs (intervention IRIs)."""

    iri: str
    label: str
    order: int
    drugs: tuple[str, ...]


@dataclass(frozen=True)
class LineStatus:
    """A line for one case: the facts of its drugs tried without success, those that rule every drug of it out, and
    the recommendations (not disagreeing with the line's recommendation) that advise against all its drugs."""

    line: Line
    tried: tuple[str, ...]
    ruled: tuple[str, ...]
    against: tuple[str, ...]

    @property
    def left(self) -> bool:
        """Whether the line is still open: none of its drugs tried without success, nor all ruled out."""
        return not (self.tried or self.ruled or self.against)


def drug_lines(reasoner: Reasoner, rec: str) -> list[Line]:
    """The drug lines the KB gives a recommendation, first line first (most recommendations have none)."""
    key = ("drug_lines", rec)
    if key not in reasoner.cache:
        kb, idx = reasoner.kb, reasoner.index
        lines = [
            Line(
                str(n),
                idx.label(str(n)),
                int(str(kb.value(n, SK.lineOrder) or 0)),
                tuple(sorted(str(d) for d in kb.objects(n, SK.lineDrug))),
            )
            for n in kb.objects(URIRef(rec), SK.drugLine)
        ]
        reasoner.cache[key] = sorted(lines, key=lambda ln: (ln.order, ln.iri))
    return reasoner.cache[key]


def line_status(
    reasoner: Reasoner,
    rec: str,
    failed: Mapping[str, list[str]],
    contra: Mapping[str, list[tuple[str, str]]],
    avoids: Iterable[tuple[str, str]],
) -> list[LineStatus]:
    """Each drug line of ``rec`` for one case: a line is tried when a drug of it was tried without success (the
    drug, a narrower one or its failed class: :func:`reasoner.plan.parts.tried_as`); ruled out when every drug of it
    is contraindicated, or advised against (``avoids``: the plan's (recommendation, intervention) to avoid) by a
    recommendation that does not disagree with ``rec`` (``sk:conflictsWith``: a disagreeing source's "do not" is
    shown as the disagreement, and the line stays)."""
    idx = reasoner.index
    avoids = [(r, i) for r, i in avoids if not idx.opposes(rec, r)]
    out = []
    for line in drug_lines(reasoner, rec):
        took = [t for t in failed if any(planparts.tried_as(idx, d, t, False, True) for d in line.drugs)]
        tried = sorted((f for t in took for f in failed[t]), key=str)
        ruled = [[f for f, _ in ruled_out(idx, d, contra, True)] for d in line.drugs]
        against = [[r for r, i in avoids if idx.is_a(d, i)] for d in line.drugs]
        out.append(
            LineStatus(
                line,
                tuple(unique(tried)),
                tuple(unique(f for fs in ruled for f in fs)) if all(ruled) else (),
                tuple(unique(r for rs in against for r in rs)) if all(against) else (),
            )
        )
    return out


def stays(
    reasoner: Reasoner,
    rec: str,
    failed: Mapping[str, list[str]],
    contra: Mapping[str, list[tuple[str, str]]],
    avoids: Iterable[tuple[str, str]],
) -> bool:
    """Whether a recommendation with drug lines keeps its step though a drug under it was tried without success: some
    line is left (:func:`line_status`). False for a recommendation without lines (the failed drug takes its step)."""
    return any(s.left for s in line_status(reasoner, rec, failed, contra, avoids))


def drug_line_left(
    reasoner: Reasoner,
    steps: Iterable[Step],
    failed: Mapping[str, list[str]],
    contra: Mapping[str, list[tuple[str, str]]],
    path: Callable[[str], str],
) -> list[Warning]:
    """A step (do or consider) whose recommendation gives its drugs in lines, standing on a later line because an
    earlier one was tried without success or is contraindicated: the lines, what took each, the line left, and the
    plan's "do not" steps of its drugs from sources that disagree (ACP 2017 Recommendation 3 after a failed NSAID:
    tramadol or duloxetine, which NICE NG59 advises against; /tmp/me m6). The step stands as its source gives it.

    >>> from reasoner.api import recommend
    >>> plan = recommend({"id": "doc-lines", "symptoms": [{"type": "axial_pain", "body_regions": ["lower_back"],
    ...     "duration_weeks": 40}], "prior_treatments": [{"type": "exercise_therapy", "weeks": 8, "outcome":
    ...     "unchanged"}, {"type": "nsaid", "weeks": 10, "outcome": "unchanged"}]})
    >>> [w.subjects[:3] for w in plan.warnings if w.id == "drug_line_left"]
    [('rec_ext_acp_pharmacological_chronic', 'pain_management', 'line_acp2017_r3_second')]
    """
    idx, steps = reasoner.index, list(steps)
    avoid_steps = [s for s in steps if s.stance == "avoid"]
    avoids = [(r, SK_IRI + s.id) for s in avoid_steps for r in s.recommendations]
    out = []
    for s in steps:
        if s.stance not in ("do", "consider"):
            continue
        for rec in s.recommendations:
            status = line_status(reasoner, rec, failed, contra, avoids)
            left = [x for x in status if x.left]
            gone = [x for x in status if not x.left]
            if not left or not gone:
                continue
            said = []
            for x in gone:
                why = (
                    f"tried without success ({', '.join(sorted((path(f) for f in x.tried), key=path_key))})"
                    if x.tried
                    else f"recorded as contraindicated ({', '.join(path(f) for f in x.ruled)})"
                    if x.ruled
                    else f"advised against ({', '.join(local(r) for r in x.against)})"
                )
                said.append(f"{x.line.label}: {why}")
            opposing = [
                a
                for a in avoid_steps
                if any(idx.opposes(rec, r) for r in a.recommendations)
                and any(idx.is_a(d, SK_IRI + a.id) for x in left for d in x.line.drugs)
            ]
            disagree = (
                f"; the plan's {steps_named(opposing)} {'is' if len(opposing) == 1 else 'are'} a source's "
                f"disagreement with it ({', '.join(unique(c for a in opposing for c in a.conflicts))}): the clinician "
                "weighs both"
                if opposing
                else ""
            )
            out.append(
                Warning(
                    "drug_line_left",
                    f"{steps_named([s])} stands on a later line of the drugs {local(rec)} gives in turn: "
                    + "; ".join(said)
                    + f"; left: {', '.join(x.line.label for x in left)}"
                    + disagree,
                    (local(rec), s.id, *(local(x.line.iri) for x in left), *unique(a.id for a in opposing)),
                )
            )
    return out
