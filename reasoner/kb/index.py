"""Read-only lookups into the knowledge base a plan needs: recommendations, evidence, labels, conflicts."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property
from typing import cast

from rdflib import Graph, Literal, URIRef
from rdflib.term import Node

from ..consts import DCTERMS, OA, PROV, RDF, RDFS, SK, SK_IRI, SKOS
from .cache import cached


@dataclass(frozen=True)
class Evidence:
    """One evidence statement behind a recommendation: the verbatim sentence and its citations."""

    id: str
    source: str  # article id ("000") or reference table file ("red_flags.csv")
    quote: str
    citation: str  # markers as printed, e.g. "2, 3"; "" when uncited
    citation_status: str  # resolved | unresolved | dangling | uncited | reference-table (comma-joined if mixed)
    references: tuple[str, ...]  # bibliographic text of resolved references / primary sources
    section: str | None = None


@dataclass(frozen=True)
class RecInfo:
    """A recommendation as data, with what the plan shows of it."""

    iri: str
    id: str
    label: str
    definition: str
    stance: str
    phase: str
    after_weeks: float | None
    interval_weeks: tuple[float, float] | None
    intervention: str
    source: str
    safety: bool
    evidence: tuple[Evidence, ...]
    order: int = 0  # place among a phase's safety rules (assessment, imaging, bloods, then referrals)
    qualifier: str | None = None  # the sentence's own qualifiers the step heading keeps ("routine, first 6 weeks")
    timed_by: tuple[str, ...] = ()  # the symptom classes whose duration times it (``sk:timedBy``)


_SK_LEN = len(SK_IRI)


def local(iri) -> str:
    """The local name of a spinekg IRI (``sk:nsaid`` → ``nsaid``); other IRIs unchanged.

    >>> local("https://w3id.org/spinekg/nsaid")
    'nsaid'
    """
    text = str(iri)
    return text[_SK_LEN:] if text.startswith(SK_IRI) else text


_LABEL, _NOTATION = RDFS.label, SKOS.notation  # looked up once: an rdflib namespace attribute is slow to read


class KBIndex:
    """Lookups over one loaded knowledge base; built once per KB."""

    def __init__(self, kb: Graph):
        self.kb = kb
        self._labels: dict[str, str] = {}
        self._notations: dict[str, str] = {}
        # answers of the pure class lookups below, by their arguments: a plan asks the same few hundred pairs
        # thousands of times (1,000 generated cases: 260,000 ``includes``, 66,000 ``care_stage``)
        self._includes: dict[tuple[str, str], bool] = {}
        self._same_course_is_a: dict[tuple[str, str], bool] = {}
        self._stages: dict[str, int] = {}

    def use_cache(self, kb_version: str) -> None:
        """Take the recommendations from the per-user cache (:func:`reasoner.kb.cache.cached`, keyed by
        ``kb_version``) instead of reading them out of the graph, about 20 ms of every cold command; built and stored
        there on a miss. Only for the KB of that version: the shared one (``Reasoner()`` without a graph).
        """
        self.__dict__["recommendations"] = cached("recommendations", kb_version, lambda: self.recommendations)

    def label(self, iri) -> str:
        return self._text(self._labels, iri, _LABEL)

    def notation(self, iri) -> str:
        return self._text(self._notations, iri, _NOTATION)

    def held_until(self, flag) -> str:
        """Until when a red flag holds its care back, in words after its label (``sk:careHeldUntil``): a
        suspicion's care waits until it "is excluded"; a confirmed finding's until a surgeon has assessed it."""
        value = self.kb.value(URIRef(str(flag)), SK.careHeldUntil)
        return str(value) if value is not None else "is excluded"

    def confirmed_by(self, flag) -> tuple[str, ...]:
        """The presentations that confirm what a red flag suspects (``sk:confirmedBy``): in a case in one, the red
        flag names a finding seen, and defers no care until an exclusion that never comes."""
        return tuple(sorted(str(p) for p in self.kb.objects(URIRef(str(flag)), SK.confirmedBy)))

    def _text(self, made: dict[str, str], iri, prop: URIRef) -> str:
        """A term's ``prop`` (its local name where it has none), looked up in the graph once per term (an IRI and
        its string are one key)."""
        text = made.get(iri)
        if text is None:
            key = str(iri)
            value = self.kb.value(URIRef(key), prop)
            text = made[key] = str(value) if value is not None else local(iri)
        return text

    @cached_property
    def ancestors(self) -> dict[str, frozenset[str]]:
        """Every named class with the set of its named superclasses (itself included)."""
        parents: dict[str, set[str]] = {}
        for s, o in self.kb.subject_objects(RDFS.subClassOf):
            if isinstance(s, URIRef) and isinstance(o, URIRef):
                parents.setdefault(str(s), set()).add(str(o))
        out: dict[str, frozenset[str]] = {}

        def up(c: str, seen: frozenset[str] = frozenset()) -> frozenset[str]:
            if c in out:
                return out[c]
            acc = {c}
            for p in parents.get(c, ()):
                if p not in seen:
                    acc |= up(p, seen | {c})
            out[c] = frozenset(acc)
            return out[c]

        for c in list(parents):
            up(c)
        return out

    def above(self, cls: str) -> frozenset[str]:
        """The named classes ``cls`` is a subclass of, itself included (just itself where the KB has no such class)."""
        found = self.ancestors.get(cls)
        return found if found is not None else frozenset((cls,))

    def is_a(self, cls: str, ancestor: str) -> bool:
        return ancestor in self.above(cls)

    @cached_property
    def _same_course(self) -> dict[str, frozenset[str]]:
        out: dict[str, set[str]] = {}
        for a, b in self.kb.subject_objects(SK.sameCourseAs):
            out.setdefault(str(a), set()).add(str(b))
            out.setdefault(str(b), set()).add(str(a))
        return {c: frozenset(v) for c, v in out.items()}

    def same_course_is_a(self, cls: str, ancestor: str) -> bool:
        """:meth:`is_a` where the classes the KB says are the same course of treatment (``sk:sameCourseAs``, read both
        ways) count as one: how a treatment tried without success is matched against what is not offered again
        (a course of physiotherapy that failed is a failed course of exercise therapy, and of article 003's
        physiotherapy programme below it)."""
        found = self._same_course_is_a.get((cls, ancestor))
        if found is None:
            same = self._same_course
            found = any(self.is_a(c, ancestor) for a in self.above(cls) for c in (a, *same.get(a, ())))
            self._same_course_is_a[(cls, ancestor)] = found
        return found

    @cached_property
    def included(self) -> dict[str, frozenset[str]]:
        """Intervention class → the interventions a step of it gives as part of it (``sk:includes``)."""
        out: dict[str, set[str]] = {}
        for s, o in self.kb.subject_objects(SK.includes):
            out.setdefault(str(s), set()).add(str(o))
        return {s: frozenset(o) for s, o in out.items()}

    @cached_property
    def advised(self) -> dict[str, tuple[str, ...]]:
        """Intervention class → what a recommendation against it advises in other words (``sk:adviceAgainstIs``:
        "do not prescribe bed rest" is advice to stay active)."""
        out: dict[str, set[str]] = {}
        for s, o in self.kb.subject_objects(SK.adviceAgainstIs):
            out.setdefault(str(s), set()).add(str(o))
        return {s: tuple(sorted(o)) for s, o in out.items()}

    def includes(self, given: str, asked: str) -> bool:
        """Whether a step of ``given`` gives ``asked`` as part of it: ``given`` (or a class above it) includes
        ``asked`` or a narrower intervention (``sk:includes``).

        >>> from reasoner.kb.load import load_kb
        >>> from reasoner.consts import SK
        >>> idx = KBIndex(load_kb())
        >>> both, plain = str(SK.mri_lumbar_spine_with_and_without_contrast), str(SK.mri_lumbar_spine_without_contrast)
        >>> idx.includes(both, plain), idx.includes(plain, both)
        (True, False)
        """
        found = self._includes.get((given, asked))
        if found is None:
            found = any(self.is_a(i, asked) for c in self.above(given) for i in self.included.get(c, ()))
            self._includes[(given, asked)] = found
        return found

    @cached_property
    def red_flags(self) -> tuple[str, ...]:
        return tuple(sorted(str(s) for s in self.kb.subjects(RDFS.subClassOf, SK.RedFlag)))

    def evidence(self, ev: Node) -> Evidence:
        """An evidence statement as plans show it (its sentence, where it comes from, its citations)."""
        return self._evidence(ev)

    def _evidence(self, ev: Node) -> Evidence:
        kb = self.kb
        if (ev, RDF.type, SK.ExternalEvidence) in kb:
            table = kb.value(ev, DCTERMS.source)
            primaries = tuple(sorted(self.label(p) for p in kb.objects(ev, PROV.hadPrimarySource)))
            return Evidence(
                local(ev),
                str(kb.value(table, SK.tableFile)),
                str(kb.value(ev, SK.referenceText)),
                f"{kb.value(ev, SK.referenceRow)} / {kb.value(ev, SK.referenceColumn)}"
                + (
                    f"; {kb.value(ev, SK.quoteOrParaphrase) or 'cell'}, {kb.value(ev, SK.verificationStatus)}"
                    if kb.value(ev, SK.verificationStatus) is not None
                    else ""
                ),
                "reference-table",
                primaries,
            )
        article = kb.value(ev, DCTERMS.source)
        quote = next(
            (
                str(e)
                for t in kb.objects(ev, OA.hasTarget)
                for s in kb.objects(t, OA.hasSelector)
                for e in kb.objects(s, OA.exact)
            ),
            "",
        )
        cites = sorted(kb.objects(ev, SK.citation), key=lambda c: int(str(kb.value(c, SK.marker))))
        markers = ", ".join(str(kb.value(c, SK.marker)) for c in cites)
        statuses = sorted({local(kb.value(c, SK.citationStatus)) for c in cites}) or ["uncited"]
        refs = tuple(
            str(kb.value(r, DCTERMS.bibliographicCitation) or self.label(r))
            for c in cites
            for r in kb.objects(c, SK.citesReference)
        )
        section = kb.value(ev, SK.section)
        return Evidence(
            local(ev),
            str(kb.value(article, DCTERMS.identifier)),
            quote,
            markers,
            ",".join(statuses),
            refs,
            str(section) if section is not None else None,
        )

    @cached_property
    def recommendations(self) -> dict[str, RecInfo]:
        kb = self.kb
        out = {}
        for rec in kb.subjects(RDF.type, SK.Recommendation):
            after = cast("Literal | None", kb.value(rec, SK.afterWeeks))
            lo = cast("Literal | None", kb.value(rec, SK.intervalWeeksMin))
            hi = cast("Literal | None", kb.value(rec, SK.intervalWeeksMax))
            evidence = tuple(
                sorted((self._evidence(e) for e in kb.objects(rec, PROV.wasDerivedFrom)), key=lambda e: e.id)
            )
            out[str(rec)] = RecInfo(
                iri=str(rec),
                id=local(rec),
                label=str(kb.value(rec, RDFS.label)),
                definition=str(kb.value(rec, SKOS.definition)),
                stance=local(kb.value(rec, SK.stance)),
                phase=local(kb.value(rec, SK.phase)),
                after_weeks=float(after) if after is not None else None,
                interval_weeks=(float(lo), float(hi)) if lo is not None and hi is not None else None,
                intervention=str(kb.value(rec, SK.intervention)),
                source=str(kb.value(kb.value(rec, DCTERMS.source), DCTERMS.identifier)),
                safety=bool(kb.value(rec, SK.safetyRule)),
                evidence=evidence,
                order=int(cast("Literal | None", kb.value(rec, SK.order)) or 0),
                qualifier=str(kb.value(rec, SK.qualifier)) if kb.value(rec, SK.qualifier) is not None else None,
                timed_by=tuple(sorted(str(c) for c in kb.objects(rec, SK.timedBy))),
            )
        return out

    @cached_property
    def conflicts(self) -> dict[str, tuple[str, str, tuple[str, ...]]]:
        """Conflict IRI → (label, what the disagreement is, member IRIs)."""
        kb = self.kb
        return {
            str(c): (
                self.label(c),
                str(kb.value(c, SKOS.definition)),
                tuple(sorted(str(m) for m in kb.objects(c, SK.conflictMember))),
            )
            for c in kb.subjects(RDF.type, SK.Conflict)
        }

    @cached_property
    def moot_where(self) -> dict[str, frozenset[str]]:
        """Conflict IRI → the recommendations whose applying makes it no disagreement on the patient
        (``sk:notLiveWhere``: the external guideline's own recommendation covers the patient, and its scope excludes
        nobody the other side offers the intervention to)."""
        kb = self.kb
        return {
            str(c): frozenset(str(r) for r in kb.objects(c, SK.notLiveWhere))
            for c in kb.subjects(RDF.type, SK.Conflict)
            if (c, SK.notLiveWhere, None) in kb
        }

    @cached_property
    def conflict_subjects(self) -> dict[str, frozenset[str]]:
        """Conflict IRI → the interventions its sources disagree about (``sk:conflictAbout``)."""
        kb = self.kb
        return {
            str(c): frozenset(str(i) for i in kb.objects(c, SK.conflictAbout))
            for c in kb.subjects(RDF.type, SK.Conflict)
        }

    @cached_property
    def opposed(self) -> dict[str, frozenset[str]]:
        """Member IRI → the recommendations and external guidelines the KB says it conflicts with
        (``sk:conflictsWith``, read both ways)."""
        out: dict[str, set[str]] = {}
        for a, b in self.kb.subject_objects(SK.conflictsWith):
            out.setdefault(str(a), set()).add(str(b))
            out.setdefault(str(b), set()).add(str(a))
        return {m: frozenset(v) for m, v in out.items()}

    def opposes(self, a: str, b: str) -> bool:
        """Whether two members of a conflict are on different sides of it: one conflicts with the other
        (``sk:conflictsWith``), or both are recommendations and one says to avoid what the other says to do or consider.

        >>> from reasoner.kb.load import load_kb
        >>> idx = KBIndex(load_kb())
        >>> ids = "rec_002_03 rec_ext_nice_no_benzodiazepines_sciatica rec_000_01 rec_002_12 acr_ac_lbp_2021".split()
        >>> relaxant, nice, mri, no_imaging, acr = (SK_IRI + n for n in ids)
        >>> idx.opposes(relaxant, nice), idx.opposes(mri, acr), idx.opposes(no_imaging, acr)
        (True, True, False)
        """
        if b in self.opposed.get(a, ()):
            return True
        recs = self.recommendations
        return a in recs and b in recs and (recs[a].stance == "avoid") != (recs[b].stance == "avoid")

    @cached_property
    def resolutions(self) -> dict[str, tuple[tuple[str, tuple[str, ...], tuple[str, ...], str], ...]]:
        """Recommendation IRI → the conflicts resolved against it (``sk:resolvedAgainst``), each as (conflict IRI,
        the presentations it is resolved for (``sk:resolvedFor``), those it is not resolved in after all
        (``sk:resolvedUnless``), the resolution in words)."""
        kb = self.kb
        out: dict[str, list[tuple[str, tuple[str, ...], tuple[str, ...], str]]] = {}
        for c in sorted(kb.subjects(RDF.type, SK.Conflict), key=str):
            where = tuple(sorted(str(p) for p in kb.objects(c, SK.resolvedFor)))
            unless = tuple(sorted(str(p) for p in kb.objects(c, SK.resolvedUnless)))
            text = str(kb.value(c, SK.resolution) or "")
            for rec in kb.objects(c, SK.resolvedAgainst):
                out.setdefault(str(rec), []).append((str(c), where, unless, text))
        return {rec: tuple(v) for rec, v in out.items()}

    @cached_property
    def _care_stages(self) -> dict[str, int]:
        return {str(c): int(cast(Literal, v)) for c, v in self.kb.subject_objects(SK.careStage)}

    def care_stage(self, cls: str) -> int:
        """Where the steps of ``cls`` stand in the order a plan is read aloud (``sk:careStage``: assessment,
        first-line care, escalation, referral, surgery, follow-up): the latest stage of the classes it is in, 0 where
        none has one."""
        found = self._stages.get(cls)
        if found is None:
            found = self._stages[cls] = max((self._care_stages.get(c, 0) for c in self.above(cls)), default=0)
        return found

    @cached_property
    def phase_order(self) -> dict[str, int]:
        return {local(p): int(cast(Literal, self.kb.value(p, SK.order))) for p in self.kb.subjects(RDF.type, SK.Phase)}
