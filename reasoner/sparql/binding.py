"""Run SPARQL over a graph with pyoxigraph, and bind a query's parameters the standard way (a VALUES clause)."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from functools import lru_cache
from typing import cast

import pyoxigraph as ox
from rdflib import Graph, Literal, URIRef, Variable

_XSD_STRING = "http://www.w3.org/2001/XMLSchema#string"
_IRI = re.compile(r'[^<>"{}|^`\\\s]*')


def to_store(graph: Graph) -> ox.Store:
    """Copy an rdflib graph into a fresh in-memory pyoxigraph store (via N-Triples).

    >>> from rdflib import Graph
    >>> len(to_store(Graph().parse(data="<urn:a> <urn:b> <urn:c> .", format="nt")))
    1
    """
    store = ox.Store()
    data = graph.serialize(format="nt", encoding="utf-8")
    store.bulk_load(data, ox.RdfFormat.N_TRIPLES)
    return store


@dataclass(frozen=True)
class Row:
    """One solution of a SELECT query, as plain strings (IRIs, literal values, blank node labels)."""

    values: dict[str, str | None]

    def __getitem__(self, key: str) -> str | None:
        return self.values[key]


def select(store: ox.Store, query: str) -> list[Row]:
    """Evaluate a SELECT query and return its rows as plain strings.

    >>> from rdflib import Graph
    >>> s = to_store(Graph().parse(data='<urn:a> <urn:b> "x" .', format="nt"))
    >>> select(s, "SELECT ?o WHERE { ?s ?p ?o }")[0]["o"]
    'x'
    """
    result = cast(ox.QuerySolutions, store.query(query))
    names = [v.value for v in result.variables]
    rows = []
    for solution in result:
        rows.append(Row({n: _plain(solution[n]) for n in names}))
    return rows


def _plain(term) -> str | None:
    if term is None:
        return None
    return term.value


def sparql_term(term: URIRef | Literal) -> str:
    """A term in SPARQL syntax, safe to write into a query: an IRI in ``<>``, a literal quoted and escaped.

    >>> print(sparql_term(Literal('a "b" } #')), sparql_term(URIRef("urn:x")), sparql_term(Literal("1", lang="en")))
    "a \\"b\\" } #" <urn:x> "1"@en
    """
    if isinstance(term, URIRef):
        if not _IRI.fullmatch(str(term)):
            raise ValueError(f"{str(term)!r} is not an IRI that SPARQL can write")
        return f"<{term}>"
    text = '"' + str(term).translate({0x5C: "\\\\", 0x22: '\\"', 0x0A: "\\n", 0x0D: "\\r"}) + '"'
    if term.language:
        return f"{text}@{term.language}"
    plain = term.datatype is None or str(term.datatype) == _XSD_STRING
    return text if plain else f"{text}^^{sparql_term(URIRef(cast(URIRef, term.datatype)))}"


def values_clause(bindings: Mapping[str, URIRef | Literal]) -> str:
    """The trailing ``VALUES`` clause (SPARQL 1.1 §10.2.2) that binds each variable to one term, on its own lines.

    Appended to any query (SELECT, ASK, CONSTRUCT, DESCRIBE), it is joined with the solutions of the query's
    WHERE clause, after grouping and before projection: the standard way to give a query its parameters, the
    same on every engine.

    >>> print(values_clause({"_a": URIRef("urn:x"), "_b": Literal("y")}), end="")
    <BLANKLINE>
    VALUES (?_a ?_b) {
      (<urn:x> "y")
    }
    """
    names = " ".join(f"?{k}" for k in bindings)
    row = " ".join(sparql_term(v) for v in bindings.values())
    return f"\nVALUES ({names}) {{\n  ({row})\n}}\n"


def certainly_bound(node) -> set[str]:
    """The variables that every solution of a query's WHERE clause binds (rdflib algebra): the ones a trailing
    ``VALUES`` clause can select on. A variable bound only inside OPTIONAL, MINUS, one branch of a UNION, a
    FILTER or BIND expression, or a sub-query that does not return it, is not among them.

    >>> from rdflib.plugins.sparql import prepareQuery
    >>> q = prepareQuery("SELECT * { ?a <urn:p> ?b OPTIONAL { ?a <urn:q> ?c } FILTER(?d) }")
    >>> sorted(certainly_bound(q.algebra))
    ['a', 'b']
    """
    name = getattr(node, "name", None)
    if name == "BGP":
        return {str(x) for triple in node["triples"] for x in triple if isinstance(x, Variable)}
    if name in ("Join",):
        return certainly_bound(node["p1"]) | certainly_bound(node["p2"])
    if name in ("LeftJoin", "Minus"):
        return certainly_bound(node["p1"])
    if name == "Union":
        return certainly_bound(node["p1"]) & certainly_bound(node["p2"])
    if name == "Graph":
        return certainly_bound(node["p"]) | ({str(node["term"])} if isinstance(node["term"], Variable) else set())
    if name == "Group":
        keys = {str(v) for v in node.get("expr") or () if isinstance(v, Variable)}
        return certainly_bound(node["p"]) & keys
    if name == "values":
        rows = node["res"]
        return set.intersection(*({str(k) for k, v in row.items() if v is not None} for row in rows)) if rows else set()
    if name == "ToMultiSet":
        inner = node["p"]
        bound = certainly_bound(inner)
        return bound & {str(v) for v in inner["PV"]} if getattr(inner, "name", None) == "Project" else bound
    if name is not None and "p" in node:  # the query forms, Project, Distinct, OrderBy, Filter, Extend, ...
        return certainly_bound(node["p"])
    return set()


def parse_rdflib(text: str, prefixes: Mapping | None = None):
    """rdflib's parsed query (``prepareQuery``); a syntax error is a ``SyntaxError`` with rdflib's message."""
    from rdflib.plugins.sparql import prepareQuery

    try:
        return prepareQuery(text, initNs=dict(prefixes or {}))
    except Exception as exc:  # pyparsing raises ParseException, rdflib a few others
        raise SyntaxError(str(exc)) from exc


@lru_cache(maxsize=256)
def _bound_in_where(text: str, prefixes: tuple) -> frozenset[str]:
    return frozenset(certainly_bound(parse_rdflib(text, dict(prefixes)).algebra))


def unbound_parameters(text: str, names: list[str], prefixes: Mapping | None = None) -> list[str]:
    """The ``names`` that the WHERE clause of the query does not bind in every solution (none if rdflib cannot
    read the query: pyoxigraph reads a little more).

    >>> unbound_parameters("SELECT * { ?s ?p ?o FILTER(?s = ?_x) }", ["_x"])
    ['_x']
    """
    try:
        bound = _bound_in_where(text, tuple(sorted((k, str(v)) for k, v in (prefixes or {}).items())))
    except SyntaxError:
        return []
    return [n for n in names if n not in bound]


def set_values(node, row: Mapping[Variable, URIRef | Literal]) -> None:
    """Put ``row`` in the one-row VALUES table of an rdflib algebra that binds exactly its variables.

    rdflib decodes ``\\u`` inside a string literal as an escape, so a value is written into its parsed table
    rather than trusted to its parser.
    """
    if getattr(node, "name", None) == "values" and len(node["res"]) == 1 and set(node["res"][0]) == set(row):
        node["res"] = [dict(row)]
        return
    for child in node.values() if isinstance(node, dict) else node if isinstance(node, list) else ():
        if isinstance(child, (dict, list)):
            set_values(child, row)
