"""Query results as spinekg gives them (a table, a yes/no, a graph) and their formats: table, CSV, TSV, JSON."""

from __future__ import annotations

import csv
import io
import json
import re
from dataclasses import dataclass

import pyoxigraph as ox
from rdflib import BNode, Graph, URIRef

from ..consts import PREFIXES, RDF, XSD
from ..errors import QueryError
from ..kb.load import new_graph

FORMATS = ("table", "csv", "tsv", "json")
GRAPH_FORMATS = {"ttl": "turtle", "nt": "nt", "jsonld": "json-ld"}
_PLAIN = (str(XSD.string), str(RDF.langString))


@dataclass(frozen=True)
class Term:
    """One value of a result, as the SPARQL 1.1 JSON results give it (``uri``, ``literal``, ``bnode``)."""

    kind: str
    value: str
    datatype: str | None = None
    lang: str | None = None

    def __str__(self) -> str:
        return self.value

    def n3(self) -> str:
        """The term in Turtle / N-Triples syntax (as SPARQL TSV results write it)."""
        if self.kind != "literal":
            return f"<{self.value}>" if self.kind == "uri" else f"_:{self.value}"
        escaped = self.value.translate({0x5C: "\\\\", 0x22: '\\"', 0x0A: "\\n", 0x0D: "\\r", 0x09: "\\t"})
        return f'"{escaped}"' + (f"@{self.lang}" if self.lang else f"^^<{self.datatype}>" if self.datatype else "")

    def json(self) -> dict:
        extra = {"xml:lang": self.lang} if self.lang else {"datatype": self.datatype} if self.datatype else {}
        return {"type": self.kind, "value": self.value, **extra}


@dataclass(frozen=True)
class ResultTable:
    """The answer of a SELECT query: column names and rows of terms (``rows``: the same as plain strings)."""

    columns: tuple[str, ...]
    terms: tuple[tuple[Term | None, ...], ...]

    @property
    def rows(self) -> tuple[tuple[str | None, ...], ...]:
        return tuple(tuple(None if t is None else t.value for t in row) for row in self.terms)

    def __len__(self) -> int:
        return len(self.terms)


@dataclass(frozen=True)
class AskResult:
    """The answer of an ASK query."""

    value: bool


@dataclass(frozen=True)
class GraphResult:
    """The answer of a CONSTRUCT or DESCRIBE query: an rdflib graph (``graph.serialize(format="turtle")``)."""

    graph: Graph


def from_rdflib(result) -> ResultTable | AskResult | GraphResult:
    def term(t) -> Term | None:
        if t is None or isinstance(t, (URIRef, BNode)):
            return None if t is None else Term("uri" if isinstance(t, URIRef) else "bnode", str(t))
        dt = str(t.datatype) if t.datatype is not None else None
        return Term("literal", str(t), None if dt in _PLAIN else dt, t.language)

    if result.type == "ASK":
        return AskResult(bool(result.askAnswer))
    if result.type in ("CONSTRUCT", "DESCRIBE"):
        g = new_graph()
        for triple in result:
            g.add(triple)
        return GraphResult(g)
    return ResultTable(tuple(str(v) for v in result.vars), tuple(tuple(map(term, row)) for row in result))


def from_ox(result) -> ResultTable | AskResult | GraphResult:
    def term(t) -> Term | None:
        if t is None or isinstance(t, (ox.NamedNode, ox.BlankNode)):
            return None if t is None else Term("uri" if isinstance(t, ox.NamedNode) else "bnode", t.value)
        dt = t.datatype.value
        return Term("literal", t.value, None if dt in _PLAIN else dt, t.language)

    if isinstance(result, ox.QueryBoolean):
        return AskResult(bool(result))
    if isinstance(result, ox.QueryTriples):
        data = ox.serialize(result, format=ox.RdfFormat.N_TRIPLES)
        return GraphResult(new_graph().parse(data=(data or b"").decode("utf-8"), format="nt"))
    columns = tuple(v.value for v in result.variables)
    return ResultTable(columns, tuple(tuple(term(s[c]) for c in columns) for s in result))


def format_table(result: ResultTable | AskResult | GraphResult, fmt: str = "table") -> str:
    """A result as text: ``table`` (aligned, IRIs compacted), ``csv`` / ``tsv`` / ``json`` (the SPARQL 1.1
    CSV, TSV and JSON results formats). An ASK result is ``true``/``false`` (JSON: ``{"boolean": …}``);
    a graph is Turtle (``ttl``, also for ``table``), N-Triples (``nt``) or JSON-LD (``jsonld``).

    >>> t = ResultTable(("a", "b"), ((Term("uri", "https://w3id.org/spinekg/x"), None),))
    >>> print(format_table(t))
    a     b
    ----  -
    sk:x
    (1 row)
    >>> json.loads(format_table(t, "json"))["results"]["bindings"]
    [{'a': {'type': 'uri', 'value': 'https://w3id.org/spinekg/x'}}]
    """
    if isinstance(result, GraphResult):
        name = GRAPH_FORMATS.get("ttl" if fmt == "table" else fmt)
        if name is None:
            raise QueryError(f"--format {fmt}: a graph result is written as {', '.join(GRAPH_FORMATS)}")
        return result.graph.serialize(format=name)
    if fmt not in FORMATS:
        raise QueryError(f"--format {fmt!r} is not one of {', '.join(FORMATS)}")
    if isinstance(result, AskResult):
        return (
            json.dumps({"head": {}, "boolean": result.value}, indent=2) if fmt == "json" else str(result.value).lower()
        )
    return {"json": _json, "csv": _csv, "tsv": _tsv, "table": _table}[fmt](result)


def _json(t: ResultTable) -> str:
    rows = [{c: v.json() for c, v in zip(t.columns, row, strict=True) if v is not None} for row in t.terms]
    return json.dumps({"head": {"vars": list(t.columns)}, "results": {"bindings": rows}}, indent=2, ensure_ascii=False)


def _csv(t: ResultTable) -> str:
    out = io.StringIO()
    # SPARQL 1.1 CSV results are RFC 4180: every line, the last included, ends with CRLF (the csv module's own)
    csv.writer(out, lineterminator="\r\n").writerows([t.columns, *([v or "" for v in row] for row in t.rows)])
    return out.getvalue()


def _tsv(t: ResultTable) -> str:
    rows = [[f"?{c}" for c in t.columns], *(["" if v is None else v.n3() for v in row] for row in t.terms)]
    return "\n".join("\t".join(row) for row in rows)


def _table(t: ResultTable) -> str:
    cells = [list(t.columns), [], *([_show(v) for v in row] for row in t.terms)]
    widths = [max(len(r[i]) for r in cells if r) for i in range(len(t.columns))]
    cells[1] = ["-" * w for w in widths]
    lines = ["  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)).rstrip() for row in cells]
    return "\n".join([*lines, f"({len(t)} row{'' if len(t) == 1 else 's'})"])


def _show(t: Term | None) -> str:
    """A cell for reading: IRIs in the project's prefixes where the local part is a plain name."""
    if t is None:
        return ""
    if t.kind == "uri":
        for prefix, ns in PREFIXES.items():
            local = t.value.removeprefix(str(ns))
            if local != t.value and re.fullmatch(r"[\w.-]*", local):
                return f"{prefix}:{local}"
    return t.value.replace("\n", " ")
