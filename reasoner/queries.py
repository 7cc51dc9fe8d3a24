"""The SPARQL query library: competency questions in ``queries/*.rq``, run over the KB and reasoned cases."""

from __future__ import annotations

import csv
import io
import json
import os
import re
import shlex
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from functools import cached_property, lru_cache
from pathlib import Path

import pyoxigraph as ox
from rdflib import BNode, Graph, Literal, URIRef, Variable

from .consts import PREFIXES, RDF, XSD
from .errors import QueryError, SpinekgError
from .kb import new_graph

#: Where the query library lives: ``$SPINEKG_QUERIES`` or the ``queries/`` folder of this checkout.
QUERIES_DIR = Path(os.environ.get("SPINEKG_QUERIES", Path(__file__).resolve().parent.parent / "queries"))

ENGINES = ("oxigraph", "rdflib")
FORMATS = ("table", "csv", "tsv", "json")
GRAPH_FORMATS = {"ttl": "turtle", "nt": "nt", "jsonld": "json-ld"}
HEADER_KEYS = ("summary", "params", "default", "returns", "example", "cases")

_NAME = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_.-]*")
_PARAM_DOC = re.compile(r"\?_(\w+)\s*\((.*),\s*([^,]*)\)\s*$")
# the lexical pieces that can hide a "?_x": long strings, strings, IRIs, comments; then the variables
_TOKENS = re.compile(
    r'"""(?:[^"\\]|\\.|"(?!""))*"""|\'\'\'(?:[^\'\\]|\\.|\'(?!\'\'))*\'\'\''
    r'|"(?:[^"\\\n]|\\.)*"|\'(?:[^\'\\\n]|\\.)*\'|<[^<>"{}|^`\\\s]*>|#[^\n]*|[?$]_(\w+)'
)
_IRI_CHARS = re.compile(r'[^<>"{}|^`\\\s]*')
_ABSOLUTE = re.compile(r"(https?|urn|file|ftp|mailto|tag):\S+")


@dataclass(frozen=True)
class Param:
    """One documented parameter of a query: the variable ``?_name``, what it is, an example, a default."""

    name: str
    description: str
    example: str
    default: str | None = None


@dataclass(frozen=True)
class QueryInfo:
    """A query of the library with its parsed ``#+`` header."""

    name: str
    path: Path
    text: str
    summary: str
    params: tuple[Param, ...]
    returns: tuple[str, ...]
    example: str
    needs_cases: bool = False

    @property
    def example_params(self) -> dict[str, str]:
        """The ``--param k=v`` values of the header's example command.

        >>> load("dermatome-disc-levels").example_params
        {'dermatome': 'sk:dermatome_L5'}
        """
        words = shlex.split(self.example)
        return dict(split_param(w) for flag, w in zip(words, words[1:], strict=False) if flag == "--param")


def parse_header(text: str, name: str = "<query>", path: Path | None = None) -> QueryInfo:
    """Read the ``#+ key: value`` header lines of a query (grlc / SIB style).

    >>> q = parse_header("#+ summary: Anything?\\n#+ params: ?_x (a thing, sk:x)\\nSELECT ?_x {}")
    >>> q.summary, q.params[0].name, q.params[0].example
    ('Anything?', 'x', 'sk:x')
    """
    fields: dict[str, list[str]] = {}
    for line in text.splitlines():
        m = re.match(r"\s*#\+\s*([\w-]+)\s*:\s*(.*?)\s*$", line)
        if m:
            fields.setdefault(m.group(1), []).append(m.group(2))
    defaults = {}
    for line in fields.get("default", []):
        m = re.match(r"\?_(\w+)\s+(.*)$", line)
        if not m:
            raise QueryError(f"{path or name}: '#+ default: {line}' is not '?_name value'")
        defaults[m.group(1)] = m.group(2)
    params = []
    for line in fields.get("params", []):
        m = _PARAM_DOC.match(line)
        if not m:
            raise QueryError(f"{path or name}: '#+ params: {line}' is not '?_name (what it is, example)'")
        params.append(Param(m.group(1), m.group(2).strip(), m.group(3).strip(), defaults.get(m.group(1))))
    documented = {p.name for p in params}
    params += [Param(k, "", v, v) for k, v in defaults.items() if k not in documented]
    return QueryInfo(
        name=name,
        path=path or Path(f"{name}.rq"),
        text=text,
        summary=" ".join(fields.get("summary", [])),
        params=tuple(params),
        returns=tuple(v.lstrip("?") for line in fields.get("returns", []) for v in line.split()),
        example=" ".join(fields.get("example", [])),
        needs_cases="required" in fields.get("cases", []),
    )


def list_queries(directory: Path | None = None) -> list[QueryInfo]:
    """Every query of the library, by name.

    >>> names = [q.name for q in list_queries()]
    >>> "reference-citations" in names and names == sorted(names)
    True
    """
    root = Path(directory or QUERIES_DIR)
    return [parse_header(p.read_text(encoding="utf-8"), p.stem, p) for p in sorted(root.glob("*.rq"))]


def load(name: str, directory: Path | None = None) -> QueryInfo:
    """One query of the library by name; an unknown name lists the known ones.

    >>> load("conflicts").returns[:2]
    ('conflict', 'conflict_label')
    """
    path = Path(directory or QUERIES_DIR) / f"{name}.rq"
    if not _NAME.fullmatch(name) or not path.is_file():
        known = ", ".join(q.name for q in list_queries(directory))
        raise QueryError(f"unknown query {name!r}; the known queries are: {known}")
    return parse_header(path.read_text(encoding="utf-8"), name, path)


def query_parameters(text: str) -> tuple[str, ...]:
    """The names of the ``?_x`` parameter variables a query uses (comments, strings and IRIs skipped).

    >>> query_parameters('SELECT ?_a ?b WHERE { ?b <urn:x#?_no> "?_no" ; ?p ?_c } # ?_no')
    ('a', 'c')
    """
    return tuple(dict.fromkeys(m.group(1) for m in _TOKENS.finditer(text) if m.group(1)))


def split_param(text: str) -> tuple[str, str]:
    """Split ``key=value`` (the key may be written ``_key`` or ``?_key``).

    >>> split_param("case=a=b")
    ('case', 'a=b')
    """
    key, sep, value = text.partition("=")
    key = key.strip().removeprefix("?").removeprefix("_")
    if not sep or not re.fullmatch(r"\w+", key):
        raise QueryError(f"--param {text!r}: expected key=value (for the query's variable ?_key)")
    return key, value


def parameter_value(text: str) -> URIRef | Literal:
    """The RDF term of a parameter given as a string.

    A CURIE with one of the project's prefixes (``sk:rec_000_01``, ``prov:Entity``) or an absolute IRI
    (``https://…``, ``urn:…``, or anything in ``<…>``) is an IRI; everything else is a plain string literal,
    taken as is (a query compares it with ``STR()`` or casts it, e.g. ``xsd:integer(?_weeks)``).

    >>> parameter_value("sk:ref_000_3")
    rdflib.term.URIRef('https://w3id.org/spinekg/ref_000_3')
    >>> parameter_value('foo" } DROP ALL #')
    rdflib.term.Literal('foo" } DROP ALL #')
    """
    if text.startswith("<") and text.endswith(">"):
        if not _IRI_CHARS.fullmatch(text[1:-1]):
            raise QueryError(f"--param value {text!r}: not a valid IRI")
        return URIRef(text[1:-1])
    prefix, sep, local = text.partition(":")
    if sep and prefix in PREFIXES and _IRI_CHARS.fullmatch(local) and not local.startswith("//"):
        return URIRef(str(PREFIXES[prefix]) + local)
    if _ABSOLUTE.fullmatch(text) and _IRI_CHARS.fullmatch(text):
        return URIRef(text)
    return Literal(text)


@dataclass(frozen=True)
class Term:
    """One value of a result, in the shape of the SPARQL 1.1 JSON results (``uri``, ``literal``, ``bnode``)."""

    kind: str
    value: str
    datatype: str | None = None
    lang: str | None = None

    def __str__(self) -> str:
        return self.value

    def n3(self) -> str:
        """The term in Turtle / N-Triples syntax (as SPARQL TSV results write it)."""
        if self.kind == "uri":
            return f"<{self.value}>"
        if self.kind == "bnode":
            return f"_:{self.value}"
        escaped = self.value.translate({0x5C: "\\\\", 0x22: '\\"', 0x0A: "\\n", 0x0D: "\\r", 0x09: "\\t"})
        suffix = f"@{self.lang}" if self.lang else (f"^^<{self.datatype}>" if self.datatype else "")
        return f'"{escaped}"{suffix}'

    def json(self) -> dict:
        d = {"type": self.kind, "value": self.value}
        if self.lang:
            d["xml:lang"] = self.lang
        elif self.datatype:
            d["datatype"] = self.datatype
        return d


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


@dataclass(frozen=True)
class Dataset:
    """What queries run over: the KB and, per case, its case graph and the PROV-O graph of its run."""

    graph: Graph
    cases: tuple[str, ...] = ()

    @cached_property
    def store(self) -> ox.Store:
        """The same triples in a pyoxigraph store (one N-Triples document, so blank nodes keep their identity)."""
        store = ox.Store()
        store.bulk_load(self.graph.serialize(format="nt", encoding="utf-8"), ox.RdfFormat.N_TRIPLES)
        return store


def dataset(cases: Iterable[str | Path] = (), extra: Iterable[Graph] = ()) -> Dataset:
    """The graph to query: the KB, plus each case's graph and provenance (cases reasoned in one batch).

    >>> d = dataset()
    >>> d.cases, len(d.graph) > 1000
    ((), True)
    """
    cases, extra = list(cases), list(extra)
    if not cases and not extra:
        return _kb_dataset()
    from .api import default_reasoner, reason

    reasoner = default_reasoner()
    g = new_graph()
    g += reasoner.kb  # the reasoner's own KB graph: provenance copies its blank nodes, so they merge
    ids = []
    for result in reason(cases, reasoner) if cases else []:
        g += result.graph
        g += result.provenance(reasoner)
        ids.append(result.case.id)
    for graph in extra:
        g += graph
    return Dataset(g, tuple(ids))


@lru_cache(maxsize=1)
def _kb_dataset() -> Dataset:
    from .api import default_reasoner

    g = new_graph()
    g += default_reasoner().kb
    return Dataset(g)


def run(
    name_or_text: str,
    params: Mapping[str, str] | None = None,
    cases: Iterable[str | Path] = (),
    engine: str = "oxigraph",
    *,
    data: Dataset | None = None,
) -> ResultTable:
    """Run a library query (by name) or SELECT query text, its ``?_x`` parameters bound from ``params``.

    The graph queried is ``data`` or, by default, the KB plus each case in ``cases`` with its provenance.

    >>> t = run("reference-citations", {"reference": "sk:ref_000_3"})
    >>> t.columns[:3], "https://w3id.org/spinekg/ev_000_20" in {r[1] for r in t.rows}
    (('_reference', 'evidence', 'source'), True)
    """
    if _NAME.fullmatch(name_or_text):
        info = load(name_or_text)
    else:
        info = parse_header(name_or_text)
    result = _execute(info, params or {}, cases, engine, data)
    if not isinstance(result, ResultTable):
        raise QueryError(f"{info.name}: run() answers SELECT queries; use run_any for ASK, CONSTRUCT, DESCRIBE")
    return result


def run_any(
    text_or_path: str | Path,
    params: Mapping[str, str] | None = None,
    cases: Iterable[str | Path] = (),
    engine: str = "oxigraph",
    *,
    data: Dataset | None = None,
) -> ResultTable | AskResult | GraphResult:
    """Run any query, from a file or as text: SELECT gives a table, ASK a boolean, CONSTRUCT/DESCRIBE a graph.

    The project's prefixes (sk, prov, oa, dcterms, rdfs, rdf, owl, skos, xsd, sh) need no PREFIX line.

    >>> run_any("ASK { sk:rec_000_01 a sk:Recommendation }").value
    True
    >>> g = run_any("CONSTRUCT { ?r sk:cites sk:ref_000_3 } WHERE { ?r sk:citation/sk:citesReference sk:ref_000_3 }")
    >>> len(g.graph) > 0
    True
    """
    text = str(text_or_path)
    path = Path(text_or_path)
    is_file = isinstance(text_or_path, Path) or (
        "\n" not in text and "{" not in text and (text.endswith((".rq", ".sparql")) or path.is_file())
    )
    if is_file:
        if not path.is_file():
            raise QueryError(f"{path}: query file not found")
        info = parse_header(path.read_text(encoding="utf-8"), path.stem, path)
    else:
        info = parse_header(text)
    return _execute(info, params or {}, cases, engine, data)


def bindings(info: QueryInfo, params: Mapping[str, str]) -> dict[str, URIRef | Literal]:
    """The value of every ``?_x`` of the query: given, or its default; unknown or missing ones are errors.

    >>> bindings(load("term-mappings"), {})
    {'mapped': rdflib.term.Literal('false')}
    """
    wanted = query_parameters(info.text)
    given = dict(split_param(f"{k}={v}") for k, v in params.items())
    where = info.path if info.name != "<query>" else "query"
    unknown = sorted(set(given) - set(wanted))
    if unknown:
        has = ", ".join(f"?_{w}" for w in wanted) or "none"
        raise QueryError(f"{where}: unknown parameter {', '.join(unknown)} (the query's parameters: {has})")
    defaults = {p.name: p.default for p in info.params if p.default is not None}
    docs = {p.name: p for p in info.params}
    out = {}
    for name in wanted:
        value = given.get(name, defaults.get(name))
        if value is None:
            hint = f" (for example {docs[name].example}: {docs[name].description})" if name in docs else ""
            raise QueryError(f"{where}: missing parameter ?_{name}: give --param {name}=VALUE{hint}")
        out[name] = parameter_value(value)
    return out


def _execute(info, params, cases, engine, data) -> ResultTable | AskResult | GraphResult:
    if engine not in ENGINES:
        raise QueryError(f"engine {engine!r} is not one of {', '.join(ENGINES)}")
    where = info.path if info.name != "<query>" else "query"
    prepared = _prepare(info.text, engine, where)
    bound = bindings(info, params)
    _check_projected(prepared, engine, bound, where)
    cases = list(cases)
    if data is not None and cases:
        raise QueryError("give either cases or a prepared dataset, not both")
    data = data if data is not None else dataset(cases)
    try:
        if engine == "rdflib":
            initial = {Variable(f"_{k}"): v for k, v in bound.items()}
            return _from_rdflib(data.graph.query(prepared, initBindings=initial))
        return _from_ox(data.store.query(prepared, prefixes=_OX_PREFIXES, substitutions=_ox_bindings(bound)))
    except Exception as exc:
        raise QueryError(f"{where}: the query failed: {exc}") from exc


def _prepare(text: str, engine: str, where):
    """The parsed query (rdflib) or the checked text (pyoxigraph); a syntax error gives the engine's message."""
    if engine == "rdflib":
        from rdflib.plugins.sparql import prepareQuery

        try:
            return prepareQuery(text, initNs=PREFIXES)
        except Exception as exc:  # pyparsing raises ParseException, rdflib a few others
            raise QueryError(f"{where}: syntax error: {exc}") from exc
    try:
        ox.Store().query(text, prefixes=_OX_PREFIXES)
    except SyntaxError as exc:
        raise QueryError(f"{where}: syntax error: {exc}") from exc
    except Exception:  # an evaluation error on an empty store is not a syntax error
        pass
    return text


def _check_projected(prepared, engine: str, bound: dict, where) -> None:
    """A SELECT query must list its parameters in the SELECT clause (or use ``SELECT *``).

    Parameters are bound as SPARQL substitutions (RDF-dev SEP-0007), which pyoxigraph applies to the
    variables the query returns only; rdflib would bind others too, so both engines are held to the rule.
    """
    if engine == "rdflib":
        if prepared.algebra.name != "SelectQuery":
            return
        projected = {str(v) for v in prepared.algebra.PV}
        missing = [k for k in bound if f"_{k}" not in projected]
    else:
        missing = []
        try:
            ox.Store().query(prepared, prefixes=_OX_PREFIXES, substitutions=_ox_bindings(bound))
        except Exception as exc:
            missing = re.findall(r"variable \?_(\w+) in its SELECT projection", str(exc))
    if missing:
        raise QueryError(
            f"{where}: parameter ?_{missing[0]} must be listed in the SELECT clause: parameters are bound as "
            "substitutions, which apply to the variables a query returns"
        )


def _ox_bindings(bound: dict) -> dict:
    return {ox.Variable(f"_{k}"): _to_ox(v) for k, v in bound.items()}


_OX_PREFIXES = {k: str(v) for k, v in PREFIXES.items()}
_XSD_STRING = str(XSD.string)
_LANG_STRING = str(RDF.langString)


def _to_ox(term: URIRef | Literal):
    if isinstance(term, URIRef):
        return ox.NamedNode(str(term))
    if term.language:
        return ox.Literal(str(term), language=term.language)
    return ox.Literal(str(term), datatype=ox.NamedNode(str(term.datatype or XSD.string)))


def _term_rdflib(t) -> Term | None:
    if t is None:
        return None
    if isinstance(t, URIRef):
        return Term("uri", str(t))
    if isinstance(t, BNode):
        return Term("bnode", str(t))
    dt = str(t.datatype) if t.datatype is not None and str(t.datatype) != _XSD_STRING else None
    return Term("literal", str(t), dt, t.language)


def _term_ox(t) -> Term | None:
    if t is None:
        return None
    if isinstance(t, ox.NamedNode):
        return Term("uri", t.value)
    if isinstance(t, ox.BlankNode):
        return Term("bnode", t.value)
    dt = t.datatype.value
    return Term("literal", t.value, None if dt in (_XSD_STRING, _LANG_STRING) else dt, t.language)


def _from_rdflib(result) -> ResultTable | AskResult | GraphResult:
    if result.type == "ASK":
        return AskResult(bool(result.askAnswer))
    if result.type in ("CONSTRUCT", "DESCRIBE"):
        g = new_graph()
        for triple in result:
            g.add(triple)
        return GraphResult(g)
    columns = tuple(str(v) for v in result.vars)
    return ResultTable(columns, tuple(tuple(_term_rdflib(t) for t in row) for row in result))


def _from_ox(result) -> ResultTable | AskResult | GraphResult:
    if isinstance(result, ox.QueryBoolean):
        return AskResult(bool(result))
    if isinstance(result, ox.QueryTriples):
        g = new_graph()
        data = ox.serialize(result, format=ox.RdfFormat.N_TRIPLES)
        if data:
            g.parse(data=data.decode("utf-8"), format="nt")
        return GraphResult(g)
    columns = tuple(v.value for v in result.variables)
    return ResultTable(columns, tuple(tuple(_term_ox(s[c]) for c in columns) for s in result))


def compact(iri: str) -> str:
    """An IRI in the project's prefixes where its local part is a plain name (for reading, not parsing).

    >>> compact("https://w3id.org/spinekg/rec_000_01"), compact("https://w3id.org/spinekg/case/x/step/1")
    ('sk:rec_000_01', 'https://w3id.org/spinekg/case/x/step/1')
    """
    for prefix, ns in PREFIXES.items():
        local = iri.removeprefix(str(ns))
        if local != iri and re.fullmatch(r"[\w.-]*", local):
            return f"{prefix}:{local}"
    return iri


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
        if fmt == "json":
            return json.dumps({"head": {}, "boolean": result.value}, indent=2)
        return "true" if result.value else "false"
    if fmt == "json":
        bindings_ = [
            {c: t.json() for c, t in zip(result.columns, row, strict=True) if t is not None} for row in result.terms
        ]
        doc = {"head": {"vars": list(result.columns)}, "results": {"bindings": bindings_}}
        return json.dumps(doc, indent=2, ensure_ascii=False)
    if fmt == "csv":
        out = io.StringIO()
        writer = csv.writer(out, lineterminator="\r\n")
        writer.writerow(result.columns)
        writer.writerows([("" if v is None else v) for v in row] for row in result.rows)
        return out.getvalue().rstrip("\r\n")
    if fmt == "tsv":
        lines = ["\t".join(f"?{c}" for c in result.columns)]
        lines += ["\t".join("" if t is None else t.n3() for t in row) for row in result.terms]
        return "\n".join(lines)
    cells = [[_show(t) for t in row] for row in result.terms]
    widths = [max([len(c), *(len(r[i]) for r in cells)]) for i, c in enumerate(result.columns)]
    lines = ["  ".join(c.ljust(w) for c, w in zip(result.columns, widths, strict=True)).rstrip()]
    lines.append("  ".join("-" * w for w in widths))
    lines += ["  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)).rstrip() for row in cells]
    lines.append(f"({len(cells)} row{'' if len(cells) == 1 else 's'})")
    return "\n".join(lines)


def _show(t: Term | None) -> str:
    if t is None:
        return ""
    text = compact(t.value) if t.kind == "uri" else t.value
    return text.replace("\n", " ")


def describe(queries: list[QueryInfo] | None = None) -> str:
    """The library as a table of name, summary and parameters (what ``spinekg query`` with no name prints).

    >>> "reference-citations" in describe()
    True
    """
    lines = []
    for q in queries if queries is not None else list_queries():
        params = " ".join(f"{p.name}=" + (p.default if p.default is not None else f"<{p.example}>") for p in q.params)
        cases = " --case CASE…" if q.needs_cases else ""
        lines.append(f"{q.name}{(' ' + params) if params else ''}{cases}\n    {q.summary}")
    return "\n".join(lines)


def cli_query(args) -> int:
    """``spinekg query NAME [--param k=v …] [--case CASE …] [--format table|csv|tsv|json]``.

    ``args`` (argparse): ``query`` (a library name; None lists the library), ``param`` (list of ``k=v``),
    ``case`` (list of paths), ``format``; optional ``engine``.

    >>> import argparse
    >>> cli_query(argparse.Namespace(query="nope", param=None, case=None, format="table"))
    2
    """
    import sys

    if args.query is None:
        print(describe())
        return 0
    try:
        params = dict(split_param(p) for p in (args.param or []))
        result = run(args.query, params, args.case or [], getattr(args, "engine", None) or "oxigraph")
        print(format_table(result, args.format or "table"))
    except SpinekgError as exc:
        print(f"spinekg: {exc}", file=sys.stderr)
        return exc.exit_code
    return 0


def cli_sparql(args) -> int:
    """``spinekg sparql QUERY [--case CASE …] [--format …]``: QUERY is a file (``*.rq``) or the query text.

    ``args`` (argparse): ``query``, ``case`` (list of paths), ``format`` (table, csv, tsv, json; a graph result
    also ttl, nt, jsonld); optional ``param`` (list of ``k=v``) and ``engine``.

    >>> import argparse
    >>> cli_sparql(argparse.Namespace(query="ASK { sk:rec_000_01 a sk:Recommendation }", case=None, format="json"))
    {
      "head": {},
      "boolean": true
    }
    0
    """
    import sys

    try:
        params = dict(split_param(p) for p in (getattr(args, "param", None) or []))
        result = run_any(args.query, params, args.case or [], getattr(args, "engine", None) or "oxigraph")
        print(format_table(result, args.format or "table"))
    except SpinekgError as exc:
        print(f"spinekg: {exc}", file=sys.stderr)
        return exc.exit_code
    return 0
