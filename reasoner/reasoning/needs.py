"""What a rule needs the store to hold before it can match anything: read from the rule's SPARQL algebra.

A statement that cannot match still costs what its plan reads (0.1-0.4 ms for most of these rules; a trivial one
costs 20 us), and one case ran about 80 of them. Many cannot match a given case: a rule for disc extrusions when
the case has none.
So each rule's ``WHERE`` is read once, with rdflib's SPARQL algebra, into the *keys* every solution must use: the
classes of its ``?s a C`` patterns and the predicates of its other triple patterns, as alternatives
(``UNION``) of sets that must all be present. A rule runs only when one of its sets is among the keys the
knowledge base and the batch hold (:data:`reasoner.reasoning.classify.KEYS` counts them); otherwise it would find
nothing, so skipping it changes no result.

The reading is an under-approximation of what a solution needs, which is the safe side: ``OPTIONAL``, ``MINUS``
and ``NOT EXISTS`` parts, filters, variable predicates or classes, ``*`` and ``?`` paths need nothing; an
aggregate without ``GROUP BY`` (one row even over nothing), and anything the reading does not know, needs
nothing, so the rule always runs.
"""

from __future__ import annotations

from collections.abc import Iterable
from functools import lru_cache

from rdflib import URIRef
from rdflib.paths import AlternativePath, InvPath, MulPath, Path, SequencePath

from ..consts import RDF

#: alternatives, each a set of keys that must all be present; ``ANY`` (one empty set): needs nothing
Needs = tuple[frozenset[str], ...]
ANY: Needs = (frozenset(),)
#: more alternatives than this are folded into the keys they all share (still necessary, less precise)
MAX_ALTERNATIVES = 64

# a GRAPH pattern reads a graph whose keys are not counted: it falls to "anything else" and needs nothing
_PASS = {"SelectQuery", "Project", "Distinct", "Reduced", "Slice", "OrderBy", "Extend", "ToMultiSet", "Filter",
         "Group"}  # fmt: skip


def _minimal(alternatives: Iterable[frozenset[str]]) -> Needs:
    """Drop an alternative that contains another (it is never the easier one to meet); the rest in a fixed order."""
    unique = sorted(set(alternatives), key=lambda alt: (len(alt), sorted(alt)))
    kept: list[frozenset[str]] = []
    for alt in unique:
        if not any(k <= alt for k in kept):
            kept.append(alt)
    if len(kept) > MAX_ALTERNATIVES:
        return (frozenset.intersection(*kept),)
    return tuple(kept)


def both(a: Needs, b: Needs) -> Needs:
    """What a join of two patterns needs."""
    return _minimal(x | y for x in a for y in b)


def either(a: Needs, b: Needs) -> Needs:
    """What a union of two patterns needs."""
    return _minimal(a + b)


def _path(path) -> Needs:
    if isinstance(path, URIRef):
        return ANY if path == RDF.type else (frozenset({str(path)}),)
    if isinstance(path, SequencePath):
        out = ANY
        for step in path.args:
            out = both(out, _path(step))
        return out
    if isinstance(path, AlternativePath):
        alternatives: Needs = ()
        for step in path.args:
            alternatives = either(alternatives, _path(step))
        return alternatives
    if isinstance(path, MulPath):
        return _path(path.path) if path.mod == "+" else ANY
    if isinstance(path, InvPath):
        return _path(path.arg)
    return ANY  # a negated property set: any predicate but some


def _triple(s, p, o) -> Needs:
    if p == RDF.type:
        return (frozenset({str(o)}),) if isinstance(o, URIRef) else ANY
    if isinstance(p, URIRef):
        return (frozenset({str(p)}),)
    if isinstance(p, Path):
        return _path(p)
    return ANY  # a variable predicate


def of_algebra(node) -> Needs:
    """What a SPARQL algebra node needs (see the module's text for what counts)."""
    name = getattr(node, "name", None)
    if name == "BGP":
        out = ANY
        for triple in node.triples:
            out = both(out, _triple(*triple))
        return out
    if name == "Join":
        return both(of_algebra(node.p1), of_algebra(node.p2))
    if name == "Union":
        return either(of_algebra(node.p1), of_algebra(node.p2))
    if name in ("LeftJoin", "Minus"):
        return of_algebra(node.p1)
    if name == "AggregateJoin":
        group = node.p
        return of_algebra(group.p) if getattr(group, "expr", None) else ANY
    if name in _PASS:
        return of_algebra(node.p)
    if name == "Modify":
        return of_algebra(node.where)
    return ANY


@lru_cache(maxsize=256)
def _update_algebra(text: str) -> list:  # read once for of_update and inserted_types (30 ms a rule)
    from rdflib.plugins.sparql.algebra import translateUpdate  # 70 ms to import: only when the rules are compiled
    from rdflib.plugins.sparql.parser import parseUpdate

    return translateUpdate(parseUpdate(text)).algebra


def of_query(text: str) -> Needs:
    """What a SELECT or ASK needs.

    >>> sorted(of_query("SELECT ?x WHERE { ?x a <urn:C> ; <urn:p> ?y OPTIONAL { ?y <urn:q> ?z } }")[0])
    ['urn:C', 'urn:p']
    >>> of_query("SELECT (COUNT(*) AS ?n) WHERE { ?x a <urn:C> }")
    (frozenset(),)
    """
    from rdflib.plugins.sparql.algebra import translateQuery  # 70 ms to import: only when the rules are compiled
    from rdflib.plugins.sparql.parser import parseQuery

    return of_algebra(translateQuery(parseQuery(text)).algebra)


def of_update(text: str) -> Needs:
    """What an update needs: one ``INSERT … WHERE`` (anything else needs nothing).

    >>> [sorted(a) for a in of_update("INSERT { ?x a <urn:D> } WHERE { { ?x a <urn:C> } UNION { ?x <urn:p>+ ?y } }")]
    [['urn:C'], ['urn:p']]
    """
    operations = _update_algebra(text)
    return of_algebra(operations[0]) if len(operations) == 1 else ANY


def inserted_types(text: str) -> frozenset[str] | None:
    """The classes an ``INSERT … WHERE`` update can give a resource (``?x a C`` in its template), or None when it
    can give any (a variable class, or not one ``INSERT``).

    >>> sorted(inserted_types("INSERT { ?x a <urn:C> ; <urn:p> ?y } WHERE { ?x a <urn:D> }"))
    ['urn:C']
    >>> inserted_types("INSERT { ?x a ?c } WHERE { ?x <urn:p> ?c }") is None
    True
    """
    operations = _update_algebra(text)
    if len(operations) != 1 or getattr(operations[0], "name", None) != "Modify" or not operations[0].insert:
        return None
    template = operations[0].insert
    triples = list(template.get("triples") or []) + [t for ts in (template.get("quads") or {}).values() for t in ts]
    out = set()
    for _, p, o in triples:
        if p == RDF.type or not isinstance(p, URIRef):
            if not isinstance(o, URIRef) or not isinstance(p, URIRef):
                return None
            out.add(str(o))
    return frozenset(out)


def possible(needs: Needs, keys: frozenset[str] | set[str]) -> bool:
    """Whether a rule with these needs can match in a store holding these keys."""
    return any(alt <= keys for alt in needs)
