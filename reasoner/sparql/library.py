"""The SPARQL query library: competency questions in ``queries/*.rq``, run over the KB and reasoned cases."""

from __future__ import annotations

import re
import shlex
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from functools import cached_property, lru_cache
from pathlib import Path

import pyoxigraph as ox
from rdflib import Graph, Literal, URIRef, Variable

from ..api import default_reasoner, reason
from ..consts import PREFIXES
from ..errors import QueryError
from ..kb.load import new_graph
from ..locations import knowledge_dir
from .binding import parse_rdflib, set_values, unbound_parameters, values_clause
from .results import AskResult, GraphResult, ResultTable, from_ox, from_rdflib

#: Where the query library lives (:func:`reasoner.locations.knowledge_dir`).
QUERIES_DIR = knowledge_dir("queries")

ENGINES = ("oxigraph", "rdflib")
HEADER_KEYS = ("summary", "params", "default", "returns", "example", "cases")

_NAME = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_.-]*")
_PARAM_DOC = re.compile(r"\?_(\w+)\s*\((.*),\s*([^,]*)\)\s*$")
# the lexical pieces that can hide a "?_x" (long strings, strings, IRIs, comments), then the variables
_TOKENS = re.compile(
    r'"""(?:[^"\\]|\\.|"(?!""))*"""|\'\'\'(?:[^\'\\]|\\.|\'(?!\'\'))*\'\'\''
    r'|"(?:[^"\\\n]|\\.)*"|\'(?:[^\'\\\n]|\\.)*\'|<[^<>"{}|^`\\\s]*>|#[^\n]*|[?$]_(\w+)'
)
_IRI_CHARS = re.compile(r'[^<>"{}|^`\\\s]*')
_ABSOLUTE = re.compile(r"(https?|urn|file|ftp|mailto|tag):\S+")
_OX_PREFIXES = {k: str(v) for k, v in PREFIXES.items()}


@dataclass(frozen=True)
class Param:
    """One documented parameter of a query: the variable ``?_name``, what it is, an example, a default."""

    name: str
    description: str
    example: str
    default: str | None = None


@dataclass(frozen=True)
class QueryInfo:
    """A query with its parsed ``#+`` header (``needs_cases``: ``#+ cases: required``)."""

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

    @property
    def where(self) -> str:
        return str(self.path) if self.name != "<query>" else "query"


def parse_header(text: str, name: str = "<query>", path: Path | None = None) -> QueryInfo:
    """Read the ``#+ key: value`` header lines of a query (grlc / SIB style).

    >>> q = parse_header("#+ summary: Anything?\\n#+ params: ?_x (a thing, sk:x)\\nSELECT ?_x {}")
    >>> q.summary, q.params[0].name, q.params[0].example
    ('Anything?', 'x', 'sk:x')
    """
    fields: dict[str, list[str]] = {}
    m: re.Match[str] | None
    for m in re.finditer(r"^\s*#\+\s*([\w-]+)\s*:\s*(.*?)\s*$", text, re.M):
        fields.setdefault(m.group(1), []).append(m.group(2))
    where = path or name
    defaults = {}
    for line in fields.get("default", []):
        m = re.match(r"\?_(\w+)\s+(.*)$", line)
        if not m:
            raise QueryError(f"{where}: '#+ default: {line}' is not '?_name value'")
        defaults[m.group(1)] = m.group(2)
    params = []
    for line in fields.get("params", []):
        m = _PARAM_DOC.match(line)
        if not m:
            raise QueryError(f"{where}: '#+ params: {line}' is not '?_name (what it is, example)'")
        params.append(Param(m.group(1), m.group(2).strip(), m.group(3).strip(), defaults.get(m.group(1))))
    params += [Param(k, "", v, v) for k, v in defaults.items() if k not in {p.name for p in params}]
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
    """The graph to query: the KB, plus each case's graph and provenance (the cases reasoned in one batch).

    >>> d = dataset()
    >>> d.cases, len(d.graph) > 1000
    ((), True)
    """

    cases, extra = list(cases), list(extra)
    if not cases and not extra:
        return _kb_dataset()
    reasoner = default_reasoner()
    g = new_graph()
    g += reasoner.kb  # the reasoner's own KB graph: provenance copies its blank nodes, so they merge
    results = reason(cases, reasoner) if cases else []
    for result in results:
        g += result.graph
        g += result.provenance(reasoner)
    for graph in extra:
        g += graph
    return Dataset(g, tuple(r.case.id for r in results))


@lru_cache(maxsize=1)
def _kb_dataset() -> Dataset:

    g = new_graph()
    g += default_reasoner().kb
    return Dataset(g)


def run(name_or_text: str, params=None, cases=(), engine: str = "oxigraph", *, data=None) -> ResultTable:
    """Run a library query (by name) or SELECT query text, its ``?_x`` parameters bound from ``params``.

    ``params`` maps names to strings (see :func:`parameter_value`); the graph queried is ``data`` (a
    :class:`Dataset`) or the KB plus each case file in ``cases`` with its provenance; ``engine`` is
    ``oxigraph`` or ``rdflib``.

    >>> t = run("reference-citations", {"reference": "sk:acp_2017"})
    >>> t.columns[:3], "https://w3id.org/spinekg/ev_gs_acp2017_r1_acute_subacute_nonpharm" in {r[1] for r in t.rows}
    (('_reference', 'evidence', 'source'), True)
    """
    info = load(name_or_text) if _NAME.fullmatch(name_or_text) else parse_header(name_or_text)
    result = _execute(info, params or {}, cases, engine, data)
    if not isinstance(result, ResultTable):
        raise QueryError(f"{info.where}: run() answers SELECT queries; use run_any for ASK, CONSTRUCT, DESCRIBE")
    return result


def run_any(
    text_or_path: str | Path, params=None, cases=(), engine: str = "oxigraph", *, data=None
) -> ResultTable | AskResult | GraphResult:
    """Run any query, from a file or as text: SELECT gives a table, ASK a boolean, CONSTRUCT/DESCRIBE a graph.

    The arguments are those of :func:`run`. The project's prefixes (sk, prov, oa, dcterms, rdfs, rdf, owl,
    skos, xsd, sh) need no PREFIX line.

    >>> run_any("ASK { sk:rec_000_01 a sk:Recommendation }").value
    True
    >>> g = run_any("CONSTRUCT { ?e sk:cites sk:acp_2017 } WHERE { ?e prov:hadPrimarySource sk:acp_2017 }")
    >>> len(g.graph) > 0
    True
    """
    text, path = str(text_or_path), Path(text_or_path)
    if isinstance(text_or_path, Path) or (
        "\n" not in text and "{" not in text and (text.endswith((".rq", ".sparql")) or path.is_file())
    ):
        if not path.is_file():
            raise QueryError(f"{path}: query file not found")
        return _execute(
            parse_header(path.read_text(encoding="utf-8"), path.stem, path), params or {}, cases, engine, data
        )
    return _execute(parse_header(text), params or {}, cases, engine, data)


def _bindings(info: QueryInfo, params: Mapping[str, str]) -> dict[str, URIRef | Literal]:
    """The value of every ``?_x`` of the query: given, or its default; unknown or missing ones are errors."""
    wanted = query_parameters(info.text)
    given = dict(split_param(f"{k}={v}") for k, v in params.items())
    unknown = sorted(set(given) - set(wanted))
    if unknown:
        has = ", ".join(f"?_{w}" for w in wanted) or "none"
        raise QueryError(f"{info.where}: unknown parameter {', '.join(unknown)} (the query's parameters: {has})")
    docs = {p.name: p for p in info.params}
    out = {}
    for name in wanted:
        value = given.get(name, docs[name].default if name in docs else None)
        if value is None:
            hint = f" (for example {docs[name].example}: {docs[name].description})" if name in docs else ""
            raise QueryError(f"{info.where}: missing parameter ?_{name}: give --param {name}=VALUE{hint}")
        out[name] = parameter_value(value)
    return out


def bound_text(info: QueryInfo, params: Mapping[str, str] | None = None) -> str:
    """The query as spinekg runs it on every engine: its text, then a ``VALUES`` clause binding its parameters.

    This is the standard way to give a SPARQL query its parameters, so the same text answers the same on
    any engine (Jena ARQ, Virtuoso, GraphDB, ...); a query without parameters is run as written.

    >>> print(bound_text(load("plan-steps"), {"case": "002-lumbosacral-radiculopathy"}).splitlines()[-3:])
    ['VALUES (?_case) {', '  ("002-lumbosacral-radiculopathy")', '}']
    """
    bound = _bindings(info, params or {})
    return info.text + values_clause({f"_{k}": v for k, v in bound.items()}) if bound else info.text


def unmatched_parameters(params: Mapping[str, str], cases=(), *, data: Dataset | None = None) -> list[str]:
    """The ``key=value`` parameters whose value names nothing in the graph queried (the KB and the cases): why a
    query gave no rows, where the user mistyped an id. An IRI must occur in some triple; a literal must be the text
    of some literal or IRI local name (a case id, a marker).

    >>> unmatched_parameters({"reference": "sk:ref_000_99", "article": "000"})
    ['reference=sk:ref_000_99']
    """
    g = (data if data is not None else dataset(cases)).graph
    texts: set[str] | None = None
    out = []
    for key, raw in params.items():
        value = parameter_value(raw)
        if isinstance(value, URIRef):
            found = (value, None, None) in g or (None, None, value) in g or (None, value, None) in g
        else:
            if texts is None:
                texts = {str(t) for t in g.objects() if isinstance(t, Literal)}
                texts |= {str(t).rsplit("/", 1)[-1] for t in g.all_nodes() if isinstance(t, URIRef)}
            found = str(value) in texts
        if not found:
            out.append(f"{key}={raw}")
    return out


def _execute(info: QueryInfo, params, cases, engine, data) -> ResultTable | AskResult | GraphResult:
    if engine not in ENGINES:
        raise QueryError(f"engine {engine!r} is not one of {', '.join(ENGINES)}")
    prepared = _prepare(info, info.text, engine)  # a syntax error is reported on the query as written
    bound = _bindings(info, params)
    text = info.text
    if bound:
        _check_bound(info, bound)
        text = bound_text(info, params)
        # rdflib decodes "\\u" inside a string literal as an escape: it gets the values in its parsed VALUES table
        prepared = _prepare(info, text if engine != "rdflib" else bound_text(info, dict.fromkeys(bound, "")), engine)
        if engine == "rdflib":
            set_values(prepared.algebra, {Variable(f"_{k}"): v for k, v in bound.items()})
    cases = list(cases)
    if data is not None and cases:
        raise QueryError("give either cases or a prepared dataset, not both")
    data = data if data is not None else dataset(cases)
    try:
        if engine == "rdflib":
            return from_rdflib(data.graph.query(prepared))
        return from_ox(data.store.query(text, prefixes=_OX_PREFIXES))
    except Exception as exc:
        raise QueryError(f"{info.where}: the query failed: {exc}") from exc


def _prepare(info: QueryInfo, text: str, engine: str):
    """The parsed query (rdflib) or the checked text (pyoxigraph); a syntax error gives the engine's message."""
    try:
        if engine == "rdflib":
            return parse_rdflib(text, PREFIXES)
        ox.Store().query(text, prefixes=_OX_PREFIXES)
    except SyntaxError as exc:
        if text != info.text:  # the query parsed, so the VALUES clause appended to it did not
            raise QueryError(
                f"{info.where}: the query ends with a VALUES clause of its own: give the values there "
                "(parameters are bound by a VALUES clause appended to the query)"
            ) from exc
        raise QueryError(f"{info.where}: syntax error: {exc}") from exc
    except Exception:  # an evaluation error on an empty store is not a syntax error
        pass
    return text


def _check_bound(info: QueryInfo, bound: dict) -> None:
    """Every parameter must be bound in every solution of the WHERE clause, or the VALUES clause cannot select on it
    (a parameter only in a FILTER, BIND, OPTIONAL, MINUS, one UNION branch or a sub-query would match every row)."""
    loose = unbound_parameters(info.text, [f"_{k}" for k in bound], PREFIXES)
    if loose:
        raise QueryError(
            f"{info.where}: parameter ?{loose[0]} must be bound by a triple pattern (or VALUES) of the WHERE clause "
            "outside OPTIONAL, MINUS, FILTER, BIND, one branch of a UNION and sub-queries: parameters are bound by "
            "a VALUES clause appended to the query, which selects on the solutions of its WHERE clause"
        )


def describe(queries: list[QueryInfo] | None = None) -> str:
    """The library, one question per entry with its parameters (what ``spinekg query`` with no name prints).

    >>> print(describe([load("reference-citations")]).splitlines()[0])
    reference-citations reference=<sk:acp_2017>
    """
    lines = []
    for q in queries if queries is not None else list_queries():
        params = [f"{p.name}=" + (p.default if p.default is not None else f"<{p.example}>") for p in q.params]
        lines.append(" ".join([q.name, *params, *(["--case CASE…"] if q.needs_cases else [])]) + f"\n    {q.summary}")
    return "\n".join(lines)
