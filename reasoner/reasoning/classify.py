"""Classify case findings with the ontology's OWL definitions, compiled to SPARQL rules run in pyoxigraph.

Each named class with an ``owl:equivalentClass`` expression (intersection, union, someValuesFrom,
hasValue, oneOf, numeric datatype restrictions) becomes one ``INSERT … WHERE`` rule; the rules and the
subclass closure run to a fixpoint over every case in the store at once. The result is checked against
HermiT in the test suite, so the compiled rules mean what the OWL axioms mean for the cases we record.
"""

from __future__ import annotations

import itertools
import re
from dataclasses import dataclass
from functools import lru_cache

from rdflib import BNode, Graph, Literal, URIRef
from rdflib.collection import Collection
from rdflib.term import Node

from .. import rules
from ..consts import OWL, RDF, RDFS, SK, XSD
from ..errors import SpinekgError
from . import needs


class UnsupportedAxiom(SpinekgError):
    """An OWL class expression the SPARQL compiler does not handle (names the class)."""


@dataclass(frozen=True)
class Rule:
    """One compiled definition: the class it infers, its SPARQL update, the keys it needs to match anything
    (:mod:`reasoner.reasoning.needs`; ``needs.ANY`` when not read) and the classes it can give (None: any)."""

    cls: str
    update: str
    needs: tuple[frozenset[str], ...] = (frozenset(),)
    types: frozenset[str] | None = None


_SUPPORTED_FACETS: dict[Node, str] = {
    XSD.minInclusive: ">=",
    XSD.maxInclusive: "<=",
    XSD.minExclusive: ">",
    XSD.maxExclusive: "<",
}


class _Compiler:
    def __init__(self, kb: Graph):
        self.kb = kb
        self.counter = itertools.count()
        self.members: list[str] = []  # variables bound to a case's records through owl:inverseOf sk:inCase

    def var(self) -> str:
        return f"?v{next(self.counter)}"

    def compile(self, expr, x: str, owner: URIRef) -> str:
        kb = self.kb
        if isinstance(expr, URIRef):
            return f"{x} a <{expr}> ."
        if (expr, OWL.intersectionOf, None) in kb:
            members = Collection(kb, kb.value(expr, OWL.intersectionOf))
            return "\n".join(self.compile(m, x, owner) for m in members)
        if (expr, OWL.unionOf, None) in kb:
            members = Collection(kb, kb.value(expr, OWL.unionOf))
            return " UNION ".join("{ " + self.compile(m, x, owner) + " }" for m in members)
        if (expr, OWL.oneOf, None) in kb:
            members = Collection(kb, kb.value(expr, OWL.oneOf))
            return f"VALUES {x} {{ {' '.join(f'<{m}>' for m in members)} }}"
        if (expr, RDF.type, OWL.Restriction) in kb:
            prop = kb.value(expr, OWL.onProperty)
            inverse = kb.value(prop, OWL.inverseOf) if isinstance(prop, BNode) else None
            if inverse is not None:
                if (expr, OWL.someValuesFrom, None) not in kb:
                    raise UnsupportedAxiom(f"{owner}: only someValuesFrom is supported on an inverse property")
                y = self.var()
                if inverse == SK.inCase:
                    self.members.append(y)
                filler = kb.value(expr, OWL.someValuesFrom)
                # the filler first: it names the record's class, so the store starts from the few records of that
                # class rather than from every record of every case (the case join comes after)
                return self.compile_filler(filler, y, owner) + f"\n{y} <{inverse}> {x} ."
            if (expr, OWL.hasValue, None) in kb:
                value = kb.value(expr, OWL.hasValue)
                if isinstance(value, Literal):
                    y = self.var()
                    return f"{x} <{prop}> {y} . FILTER({y} = {value.n3()})"
                return f"{x} <{prop}> <{value}> ."
            if (expr, OWL.someValuesFrom, None) in kb:
                y = self.var()
                filler = kb.value(expr, OWL.someValuesFrom)
                return f"{x} <{prop}> {y} .\n" + self.compile_filler(filler, y, owner)
        raise UnsupportedAxiom(f"{owner}: class expression {expr} is not supported by the SPARQL compiler")

    def compile_filler(self, filler, y: str, owner: URIRef) -> str:
        kb = self.kb
        if (filler, RDF.type, RDFS.Datatype) in kb:
            base = kb.value(filler, OWL.onDatatype)
            if base not in (XSD.integer, XSD.decimal):
                raise UnsupportedAxiom(f"{owner}: datatype {base} is not supported")
            tests = [f"isNumeric({y})"]
            for facet in Collection(kb, kb.value(filler, OWL.withRestrictions)):
                for pred, value in kb.predicate_objects(facet):
                    tests.append(f"{y} {_SUPPORTED_FACETS[pred]} {value.n3()}")
            return f"FILTER({' && '.join(tests)})"
        if isinstance(filler, URIRef) and (filler, OWL.equivalentClass, None) in kb and _is_nominal(kb, filler):
            return self.compile(kb.value(filler, OWL.equivalentClass), y, owner)
        return self.compile(filler, y, owner)


def _is_nominal(kb: Graph, cls: URIRef) -> bool:
    return any((e, OWL.oneOf, None) in kb for e in kb.objects(cls, OWL.equivalentClass))


def compile_rules(kb: Graph) -> tuple[Rule, ...]:
    """One SPARQL rule per defined class of the KB (value-set classes defined by ``owl:oneOf`` excepted).

    >>> from reasoner.kb.load import load_kb
    >>> rules = compile_rules(load_kb())
    >>> any(r.cls.endswith("saddle_pattern_deficit") for r in rules)
    True
    """
    compiler = _Compiler(kb)
    rules = []
    case_classes = set(kb.transitive_subjects(RDFS.subClassOf, SK.Case))
    for cls, expr in sorted(kb.subject_objects(OWL.equivalentClass)):
        if not isinstance(cls, URIRef) or not isinstance(expr, BNode) or (expr, OWL.oneOf, None) in kb:
            continue
        compiler.members = []
        pattern = compiler.compile(expr, "?x", cls)
        # a class of cases (a clinical presentation) classifies the case node, and records which of the case's
        # findings established it; a class of findings classifies the case's records
        anchor = f"?x a <{SK.Case}> ." if cls in case_classes else f"?x <{SK.inCase}> ?case ."
        if cls in case_classes:
            # a type test where the rest of the pattern binds ?x: as a triple pattern next to a UNION it made
            # pyoxigraph join every case with every pair of records (100 times slower), as a filter it is a lookup
            lines = [line for line in pattern.split("\n") if line.strip() != anchor]
            if any(" ?x ." in line or "?x <" in line for line in lines):
                pattern, anchor = "\n".join(lines), f"FILTER EXISTS {{ {anchor[:-2]} }}"
        established = "".join(f" {v} <{SK.establishes}> <{cls}> ." for v in compiler.members)
        # no FILTER NOT EXISTS: INSERT is idempotent, and NOT EXISTS over a cohort is quadratic in pyoxigraph
        update = f"INSERT {{ ?x a <{cls}> .{established} }} WHERE {{ {anchor}\n{pattern}\n}}"
        rules.append(Rule(str(cls), update))
    return tuple(rules)


#: subclass-closure (``rules/classify/subclass-closure.rq``): a case resource has every named superclass of its classes
CLOSURE = rules.rule("subclass-closure").body


def tbox_triples(kb: Graph) -> list[tuple]:
    """The KB triples classification needs in the store: the named subclass hierarchy."""
    return [(s, RDFS.subClassOf, o) for s, o in kb.subject_objects(RDFS.subClassOf) if isinstance(o, URIRef)]


def scoped(update: str, target: str, using: tuple[str, ...]) -> str:
    """A rule (``INSERT { … } WHERE { … }``, after any ``PREFIX`` lines) that reads the ``using`` graphs and
    writes into ``target``.

    >>> print(scoped("PREFIX u: <urn:>\\nINSERT { ?x a u:C }\\nWHERE { ?x a u:D }", "urn:g", ("urn:kb", "urn:g")))
    PREFIX u: <urn:>
    INSERT { GRAPH <urn:g> { ?x a u:C } }
    USING <urn:kb>
    USING <urn:g>
    WHERE { ?x a u:D }
    """
    lines = [line for line in update.strip().splitlines() if not line.lstrip().startswith("#")]
    prologue = "".join(f"{line}\n" for line in lines if line.upper().startswith("PREFIX "))
    rest = "\n".join(line for line in lines if not line.upper().startswith("PREFIX ")).strip()
    head, where = re.split(r"\s+WHERE\s+", rest, maxsplit=1)
    inner = head.removeprefix("INSERT ").strip()
    using_clauses = "".join(f"USING <{g}>\n" for g in using)
    return f"{prologue}INSERT {{ GRAPH <{target}> {inner} }}\n{using_clauses}WHERE {where}"


_TERM = re.compile(r"<([^<>\s]*)>|(?<![\w?$<:])([A-Za-z][\w-]*)?:([A-Za-z_][\w-]*(?:\.[\w-]+)*)")
_ANY_TYPE = f"<{RDF.type}>"
#: a variable in predicate position (``?s ?p ?o``, ``; ?p ?o``) or as the class of ``a``/``rdf:type``
_VARIABLE_KEY = re.compile(
    r"\?\w+\s+\?\w+\s+[?<\w\"]|;\s*\?\w+\s|(?:\ba|rdf:type|" + re.escape(_ANY_TYPE) + r")\s+\?\w"
)
#: how many triples of the batch graph each class (``?s a C``) and each other predicate has
KEYS = (
    f"SELECT ?k (COUNT(*) AS ?n) WHERE {{ {{ ?s a ?k }} UNION {{ ?s ?k ?o FILTER(?k != <{RDF.type}>) }} }} GROUP BY ?k"
)


@lru_cache(maxsize=4096)
def reads(update: str) -> frozenset[str] | None:
    """Every IRI the ``WHERE`` part of a rule names (the classes and predicates whose triples it can read), or None
    when it has a variable predicate or class (it can read anything). An over-approximation: a rule none of whose
    IRIs gained a triple would find what it found before.

    >>> sorted(reads("PREFIX s: <urn:s#>\\nINSERT { ?x a s:C } WHERE { ?x a s:D ; s:p ?y . FILTER(?y > 1) }"))
    ['urn:s#D', 'urn:s#p']
    >>> reads("INSERT { ?x a <urn:C> } WHERE { ?x ?p ?y }") is None
    True
    """
    prefixes = dict(re.findall(r"PREFIX\s+([\w-]*):\s*<([^>]*)>", update, flags=re.IGNORECASE))
    where = re.split(r"\bWHERE\b", update, maxsplit=1)[-1]
    if _VARIABLE_KEY.search(where):
        return None
    out = set()
    for full, prefix, name in _TERM.findall(where):
        if full:
            out.add(full)
        elif prefix in prefixes:
            out.add(prefixes[prefix] + name)
        elif prefix or name:
            return None  # a prefix the rule does not declare: read it as naming anything
    return frozenset(out)


def keys(store, graph: str) -> dict[str, int]:
    """Class or predicate IRI → how many triples of ``graph`` have it (:data:`KEYS`; a store that counts them
    itself, the in-process one, says so with a ``keys`` method)."""
    counted = getattr(store, "keys", None)
    if counted is not None:
        return counted(graph)
    return {row["k"]: int(row["n"]) for row in store.select(KEYS, (graph,)) if row["k"] is not None}


_TARGET = "urn:spinekg:target-graph"  # stands for the batch graph in a rule scoped once for every batch


@lru_cache(maxsize=4096)
def _scoped_once(update: str, using: tuple[str, ...]) -> str:
    return scoped(update, _TARGET, using)


def _scoped_for(update: str, target: str, using: tuple[str, ...]) -> str:
    return _scoped_once(update, tuple(_TARGET if g == target else g for g in using)).replace(_TARGET, target)


def closure_of(types: frozenset[str] | set[str]) -> str:
    """The subclass closure (:data:`CLOSURE`) for the resources of the given classes only: after a round, only
    the classes its rules can give have a new resource (3 times faster than the whole closure over a batch)."""
    end = CLOSURE.rindex("}")
    listed = ", ".join(f"<{t}>" for t in sorted(types))
    return f"{CLOSURE[:end]}  FILTER(?t IN ({listed}))\n{CLOSURE[end:]}"


def classify(store, rules: tuple[Rule, ...], target: str, using: tuple[str, ...], max_rounds: int = 20) -> int:
    """Run the subclass closure and the compiled rules to a fixpoint over every case in the ``target`` graph.

    ``store`` is a :class:`reasoner.reasoning.stores.Backend`; the rules read the ``using`` graphs (the KB's and the
    batch's) and write into ``target``. Returns the number of rounds (:func:`to_fixpoint` says how).
    """
    return to_fixpoint(store, rules, target, using, max_rounds)[0]


def to_fixpoint(
    store,
    rules: tuple[Rule, ...],
    target: str,
    using: tuple[str, ...],
    max_rounds: int = 20,
    kb_keys: frozenset[str] | None = None,
) -> tuple[int, dict[str, int]]:
    """:func:`classify`, and the keys of the ``target`` graph at the fixpoint.

    The first round runs every rule; a later round only the rules that name a class or predicate the round before
    gave a new triple (:func:`reads`), which finds what running them all would. After a round, the closure runs for
    the classes its rules can give (:func:`closure_of`). Given the keys of the KB's graph
    (``kb_keys``), a rule runs only when they and the batch's keys hold what it needs (:mod:`.needs`): one that
    does not could match nothing.
    """
    closure = _scoped_for(CLOSURE, target, using)
    updates = [(_scoped_for(r.update, target, using), reads(r.update), r.needs, r.types) for r in rules]
    store.update(closure)  # the batch closed once, whole; each round then ends closed (the closure of what it gave)
    before = keys(store, target)
    changed: set[str] | None = None  # None: run every rule
    for round_no in range(1, max_rounds + 1):
        present = None if kb_keys is None else kb_keys | before.keys()
        given: set[str] | None = set()  # the classes the rules that ran can give (None: any)
        for update, named, wanted, types in updates:
            if changed is not None and named is not None and named.isdisjoint(changed):
                continue
            if present is not None and not needs.possible(wanted, present):
                continue
            store.update(update)
            given = None if given is None or types is None else given | types
        if given is None:
            store.update(closure)
        elif given:
            store.update(scoped(closure_of(given), target, using))
        after = keys(store, target)
        changed = {k for k, n in after.items() if before.get(k) != n}
        if not changed:
            return round_no, after
        before = after
    raise SpinekgError(f"classification did not reach a fixpoint in {max_rounds} rounds")


def classify_naive(store, rules: tuple[Rule, ...], target: str, using: tuple[str, ...], max_rounds: int = 20) -> int:
    """:func:`classify` running every rule in every round (the reference its test compares it with)."""
    closure = scoped(CLOSURE, target, using)
    updates = [scoped(rule.update, target, using) for rule in rules]
    for round_no in range(1, max_rounds + 1):
        before = store.size(target)
        store.update(closure)
        for update in updates:
            store.update(update)
        store.update(closure)
        if store.size(target) == before:
            return round_no
    raise SpinekgError(f"classification did not reach a fixpoint in {max_rounds} rounds")
