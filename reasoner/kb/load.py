"""Load the knowledge base modules from ``ontology/``, merge them, count them, export and normalise them."""

from __future__ import annotations

import hashlib
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import cast

import pyoxigraph as ox
from rdflib import Graph, URIRef
from rdflib.query import ResultRow

from ..consts import OWL, PREFIXES, RDF, SK
from ..errors import KBLoadError, UsageError
from ..locations import knowledge_dir
from ..outputs import target, write_output
from .cache import cached
from .normalform import normal_form
from .sssom import mapping_paths, read_mapping_set, skos_graph

#: Where the ontology modules live (:func:`reasoner.locations.knowledge_dir`).
ONTOLOGY_DIR = knowledge_dir("ontology")

EXPORT_FORMATS = {"ttl": "turtle", "owl": "xml", "jsonld": "json-ld", "nt": "nt"}


def module_paths(ontology_dir: Path | None = None) -> list[Path]:
    """The Turtle modules of the knowledge base (shapes excluded), in a stable order.

    >>> [p.name for p in module_paths()][:3]
    ['anatomy.ttl', 'core.ttl', 'findings.ttl']
    """
    root = Path(ontology_dir or ONTOLOGY_DIR)
    if not root.is_dir():
        raise KBLoadError(f"{root}: ontology folder not found")
    paths = sorted(p for p in root.rglob("*.ttl") if "shapes" not in p.relative_to(root).parts)
    return [p for p in paths if p.name != "spinekg.ttl"]


def shape_paths(ontology_dir: Path | None = None) -> list[Path]:
    """The SHACL shape files of the knowledge base."""
    return sorted((Path(ontology_dir or ONTOLOGY_DIR) / "shapes").glob("*.ttl"))


def new_graph() -> Graph:
    """An empty rdflib graph with the project's prefixes bound."""
    g = Graph()
    for prefix, ns in PREFIXES.items():
        g.bind(prefix, ns)
    return g


def parse_into(graph: Graph, path: Path) -> None:
    """Parse one Turtle file into ``graph``; a syntax error names the file."""
    try:
        graph.parse(path, format="turtle")
    except Exception as exc:  # rdflib raises several unrelated types for bad syntax
        raise KBLoadError(f"{path}: cannot parse Turtle: {exc}") from exc


def load_kb(ontology_dir: Path | None = None) -> Graph:
    """Merge every module of the knowledge base into one graph, with the mappings of ``ontology/mappings/``.

    >>> g = load_kb()
    >>> (SK.Recommendation, None, None) in g or len(g) > 1000
    True
    """
    g = new_graph()
    for path in module_paths(ontology_dir):
        parse_into(g, path)
    g += skos_graph(read_mapping_set(p) for p in mapping_paths(ontology_dir))  # the SSSOM mappings, as SKOS
    return g


@lru_cache(maxsize=1)
def shared_kb() -> Graph:
    """The knowledge base of this checkout, loaded once per process and shared by the case reader, the case
    shapes and the reasoner. Treat it as read-only: copy it (``Graph() + g``) before changing anything.

    >>> shared_kb() is shared_kb()
    True
    """
    return cached("kb", kb_version(), load_kb)


def kb_version(ontology_dir: Path | None = None) -> str:
    """The KB version: core's ``owl:versionInfo`` plus a digest of every module's and mapping set's bytes.

    Computed once per state of the files (their names, sizes and modification times): a command asks for it
    several times while it starts, and reading and parsing the modules each time cost about 65 ms.

    >>> kb_version().startswith("0.1.0+")
    True
    """
    paths = module_paths(ontology_dir) + mapping_paths(ontology_dir)
    return _version(tuple((str(p), p.stat().st_size, p.stat().st_mtime_ns) for p in paths))


@lru_cache(maxsize=16)
def _version(files: tuple[tuple[str, int, int], ...]) -> str:
    digest = hashlib.sha256()
    core = None
    for name, _, _ in files:
        path = Path(name)
        data = path.read_bytes()
        digest.update(path.name.encode() + b"\0" + data)
        if path.name == "core.ttl":
            core = data
    info = "0.0.0" if core is None else _version_info(core)
    return f"{info}+{digest.hexdigest()[:12]}"


_XSD_STRING = "http://www.w3.org/2001/XMLSchema#string"
_RDF_LANG_STRING = "http://www.w3.org/1999/02/22-rdf-syntax-ns#langString"


def _version_info(core: bytes) -> str:
    """``sk:core owl:versionInfo`` of core.ttl's bytes (``0.0.0`` without one).

    Read with pyoxigraph's Turtle parser, a millisecond where rdflib's took 25-30 on every cold start. What the
    two could read differently goes to rdflib as before (a file pyoxigraph refuses, a value that is not one plain
    string: rdflib writes some typed literals in a canonical form), so the text is rdflib's in every case.

    >>> _version_info(b'<https://w3id.org/spinekg/core> <http://www.w3.org/2002/07/owl#versionInfo> "1.2.3" .')
    '1.2.3'
    """
    subject, predicate = ox.NamedNode(str(SK) + "core"), ox.NamedNode(str(OWL.versionInfo))
    try:
        values = [
            t.object
            for t in ox.parse(core, format=ox.RdfFormat.TURTLE)
            if t.predicate == predicate and t.subject == subject
        ]
    except SyntaxError:
        values = None
    if values == []:
        return "0.0.0"
    if values is not None and len(values) == 1 and isinstance(values[0], ox.Literal):
        if values[0].datatype.value in (_XSD_STRING, _RDF_LANG_STRING):
            return values[0].value
    g = Graph().parse(data=core, format="turtle")
    return str(next(g.objects(URIRef(str(subject.value)), OWL.versionInfo), "0.0.0"))


@dataclass(frozen=True)
class KBStats:
    """Counts that describe the knowledge base."""

    kb_version: str
    triples: int
    modules: int
    classes: int
    object_properties: int
    datatype_properties: int
    annotation_properties: int
    named_individuals: int
    recommendations_per_article: dict[str, int] = field(default_factory=dict)
    evidence_per_article: dict[str, int] = field(default_factory=dict)
    references: int = 0
    citations_by_status: dict[str, int] = field(default_factory=dict)
    uncited_statements: int = 0
    red_flags: int = 0
    interventions: int = 0
    conflicts: int = 0
    safety_recommendations: int = 0
    recommendations_from_reference_tables: int = 0
    safety_recommendations_from_reference_tables: int = 0  # of the safety rules, those a reference table gives

    @property
    def recommendations(self) -> int:
        return sum(self.recommendations_per_article.values()) + self.recommendations_from_reference_tables

    @property
    def evidence_statements(self) -> int:
        return sum(self.evidence_per_article.values())

    def as_dict(self) -> dict:
        d = {k: getattr(self, k) for k in self.__dataclass_fields__}
        d["recommendations"] = self.recommendations
        d["evidence_statements"] = self.evidence_statements
        return d


_STATS_QUERY = """
SELECT ?kind ?key (COUNT(DISTINCT ?x) AS ?n) WHERE {
  { ?x a sk:Recommendation ; dcterms:source ?a . ?a a sk:Article ; dcterms:identifier ?key . BIND("rec" AS ?kind) }
  UNION { ?x a sk:Recommendation ; sk:safetyRule true . BIND("safety" AS ?kind) BIND("" AS ?key) }
  UNION { ?x a sk:Recommendation ; dcterms:source/a sk:ReferenceTable . BIND("tablerec" AS ?kind) BIND("" AS ?key) }
  UNION { ?x a sk:Recommendation ; sk:safetyRule true ; dcterms:source/a sk:ReferenceTable .
          BIND("safetytable" AS ?kind) BIND("" AS ?key) }
  UNION { ?x a sk:EvidenceStatement ; dcterms:source ?a . ?a dcterms:identifier ?key . BIND("ev" AS ?kind) }
  UNION { ?e sk:citation ?x . ?x sk:citationStatus ?s . BIND(STRAFTER(STR(?s), STR(sk:)) AS ?key) BIND("cit" AS ?kind) }
  UNION { ?x a sk:EvidenceStatement ; sk:uncited true . BIND("uncited" AS ?kind) BIND("" AS ?key) }
  UNION { ?x a sk:Reference . BIND("ref" AS ?kind) BIND("" AS ?key) }
  UNION { ?x rdfs:subClassOf sk:RedFlag . BIND("redflag" AS ?kind) BIND("" AS ?key) }
  UNION { ?x rdfs:subClassOf+ sk:Intervention . FILTER(isIRI(?x)) BIND("intervention" AS ?kind) BIND("" AS ?key) }
  UNION { ?x a sk:Conflict . BIND("conflict" AS ?kind) BIND("" AS ?key) }
} GROUP BY ?kind ?key
"""


def stats(graph: Graph | None = None, ontology_dir: Path | None = None) -> KBStats:
    """Count classes, properties, recommendations and evidence per article, references and citations.

    >>> s = stats()
    >>> sorted(s.recommendations_per_article)
    ['000', '001', '002', '003', '004']
    """
    g = graph if graph is not None else load_kb(ontology_dir)
    per: dict[str, Counter] = {
        k: Counter()
        for k in (
            "rec",
            "ev",
            "cit",
            "uncited",
            "ref",
            "redflag",
            "intervention",
            "conflict",
            "safety",
            "tablerec",
            "safetytable",
        )
    }
    for row in cast("Iterable[ResultRow]", g.query(_STATS_QUERY, initNs=PREFIXES)):
        per[str(row.kind)][str(row.key)] += int(row.n)

    def count_type(t: URIRef) -> int:
        return len({s for s in g.subjects(RDF.type, t) if isinstance(s, URIRef)})

    return KBStats(
        kb_version=kb_version(ontology_dir),
        triples=len(g),
        modules=len(set(g.subjects(RDF.type, OWL.Ontology))),
        classes=count_type(OWL.Class),
        object_properties=count_type(OWL.ObjectProperty),
        datatype_properties=count_type(OWL.DatatypeProperty),
        annotation_properties=count_type(OWL.AnnotationProperty),
        named_individuals=count_type(OWL.NamedIndividual),
        recommendations_per_article=dict(sorted(per["rec"].items())),
        evidence_per_article=dict(sorted(per["ev"].items())),
        references=sum(per["ref"].values()),
        citations_by_status=dict(sorted(per["cit"].items())),
        uncited_statements=sum(per["uncited"].values()),
        red_flags=sum(per["redflag"].values()),
        interventions=sum(per["intervention"].values()),
        conflicts=sum(per["conflict"].values()),
        safety_recommendations=sum(per["safety"].values()),
        recommendations_from_reference_tables=sum(per["tablerec"].values()),
        safety_recommendations_from_reference_tables=sum(per["safetytable"].values()),
    )


def export(path: Path, fmt: str, graph: Graph | None = None) -> Path:
    """Write the knowledge base as one file, the very graph the query library runs on (every module with its
    ``owl:Ontology`` header, and the SSSOM mappings as SKOS): ``ttl``, ``jsonld``, ``nt``, or ``owl`` (RDF/XML), which
    leaves out the modules' ``owl:imports`` of each other: every module is in the file, and Protégé or owlready2
    would otherwise go looking for them on the web. (``kb export --release`` gives the merged release ontologies.)
    Written as :func:`reasoner.outputs.write_output` writes: a regular file by a rename, a device in place, a link
    through.
    """
    if fmt not in EXPORT_FORMATS:
        raise UsageError(f"--format: {fmt!r} is not one of {', '.join(EXPORT_FORMATS)}")

    target(path)  # a folder, a missing folder: refused before the KB is serialised
    g = graph if graph is not None else shared_kb()
    if fmt == "owl":
        kept = new_graph()
        kept += (t for t in g if t[1] != OWL.imports)
        g = kept
    return write_output(path, g.serialize(format=EXPORT_FORMATS[fmt], encoding="utf-8"))


def normalised_text(path: Path) -> str:
    """The normalised Turtle of one file (:func:`reasoner.kb.normalform.normal_form`): the module header first,
    subjects in id order, blank nodes labelled by content, so that the text depends on the content only."""
    parsed = Graph()
    parse_into(parsed, path)
    return normal_form(parsed, path)


def normalise(paths: list[Path] | None = None, check: bool = False) -> list[Path]:
    """Rewrite (or, with ``check``, only list) the Turtle files that are not in normalised form."""
    targets = paths if paths is not None else module_paths() + shape_paths()
    changed = []
    for path in targets:
        text = normalised_text(path)
        if path.read_text(encoding="utf-8") != text:
            changed.append(path)
            if not check:
                path.write_text(text, encoding="utf-8")
    return changed
