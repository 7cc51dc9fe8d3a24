"""The ODK-style release set: base, full and simple ontologies in Turtle and RDF/XML, and their pyLODE page."""

from __future__ import annotations

import contextlib
import logging
import os
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import cast

from rdflib import BNode, Graph, Literal, URIRef

from ..consts import DCTERMS, OWL, RDF, RDFS, SK, SKOS, XSD
from ..errors import SpinekgError, UsageError
from ..kb import load as kb
from ..outputs import output_error, write_outputs

VARIANTS = ("base", "full", "simple")
#: File suffix → rdflib serialisation: Turtle, and RDF/XML (``.owl``, what Protégé and owlready2 read).
FORMATS = {"ttl": "turtle", "owl": "xml"}
DOC_PAGE = Path("docs") / "index.html"

#: SKOS mapping properties are annotation properties in every release, so that mappings of our classes to
#: external codes (``skos:exactMatch`` …) keep the ontology in OWL 2 DL instead of punning classes as individuals.
SKOS_MAPPINGS = (
    SKOS.mappingRelation,
    SKOS.exactMatch,
    SKOS.closeMatch,
    SKOS.broadMatch,
    SKOS.narrowMatch,
    SKOS.relatedMatch,
)
DECLARATION_TYPES = frozenset(
    {OWL.Class, OWL.ObjectProperty, OWL.DatatypeProperty, OWL.AnnotationProperty, OWL.NamedIndividual, RDFS.Datatype}
)
_PROPERTY_TYPES = frozenset({OWL.ObjectProperty, OWL.DatatypeProperty, OWL.AnnotationProperty})
_BUILTIN_ANNOTATIONS = frozenset({RDFS.label, RDFS.comment, RDFS.seeAlso, RDFS.isDefinedBy, OWL.deprecated})
_BUILTIN_NAMESPACES = tuple(str(ns) for ns in (RDF, RDFS, OWL, XSD))
_DESCRIPTIONS = {
    "base": "The project's own axioms: every spinekg module merged into one ontology, no imports; all its classes, "
    "properties and individuals with their annotations. Terms of other vocabularies only declared or annotated.",
    "full": "Everything merged into one ontology, with the class hierarchy inferred by HermiT asserted "
    "(direct named subclass and equivalence links).",
    "simple": "Only the named classes: their inferred subclass hierarchy, labels, definitions, synonyms, "
    "notations and mappings; no complex class expressions, no properties' axioms, no individuals.",
}


def ontology_iri(variant: str) -> URIRef:
    """The IRI of one release ontology.

    >>> str(ontology_iri("base"))
    'https://w3id.org/spinekg/spinekg-base.owl'
    """
    if variant not in VARIANTS:
        raise UsageError(f"release variant: {variant!r} is not one of {', '.join(VARIANTS)}")
    return URIRef(f"{SK}spinekg-{variant}.owl")


def version_iri(variant: str, version: str) -> URIRef:
    """The version IRI of one release ontology: the KB version in the path.

    >>> str(version_iri("full", "0.1.0+abc"))
    'https://w3id.org/spinekg/releases/0.1.0+abc/spinekg-full.owl'
    """
    return URIRef(f"{SK}releases/{version}/{ontology_iri(variant).removeprefix(str(SK))}")


def _ours(term: object) -> bool:
    return isinstance(term, URIRef) and str(term).startswith(str(SK))


def annotation_properties(graph: Graph) -> set[URIRef]:
    """The annotation properties of ``graph``: declared ones, RDFS's and OWL's built-in ones, the SKOS mappings."""
    declared = {p for p in graph.subjects(RDF.type, OWL.AnnotationProperty) if isinstance(p, URIRef)}
    return declared | _BUILTIN_ANNOTATIONS | set(SKOS_MAPPINGS)


def _declare_annotation_properties(graph: Graph) -> None:
    """Declare each predicate that has no property declaration (a SKOS mapping one, say) an annotation property."""
    for p in set(graph.predicates()):
        if str(p).startswith(_BUILTIN_NAMESPACES):
            continue
        if not any((p, RDF.type, t) in graph for t in _PROPERTY_TYPES):
            graph.add((p, RDF.type, OWL.AnnotationProperty))


def _drop_orphans(graph: Graph, nodes: list) -> None:
    """Remove the blank-node trees in ``nodes`` that nothing in ``graph`` points to any more."""
    while nodes:
        node = nodes.pop()
        if not isinstance(node, BNode) or next(graph.subjects(None, node), None) is not None:
            continue
        for _, _, o in list(graph.triples((node, None, None))):
            nodes.append(o)
        graph.remove((node, None, None))


def _set_header(graph: Graph, variant: str, version: str, title: str, license_: URIRef | None) -> None:
    """Replace every ``owl:Ontology`` header of ``graph`` with the one header of this release variant."""
    for old in set(graph.subjects(RDF.type, OWL.Ontology)):
        graph.remove((old, None, None))
    iri = ontology_iri(variant)
    graph.add((iri, RDF.type, OWL.Ontology))
    graph.add((iri, OWL.versionIRI, version_iri(variant, version)))
    graph.add((iri, OWL.versionInfo, Literal(version)))
    graph.add((iri, DCTERMS.title, Literal(f"{title} ({variant} release)")))
    graph.add((iri, DCTERMS.description, Literal(_DESCRIPTIONS[variant])))
    if license_ is not None:
        graph.add((iri, DCTERMS.license, license_))
    for p in (DCTERMS.title, DCTERMS.description, DCTERMS.license):  # OWL 2 DL: an annotation's property is declared
        graph.add((p, RDF.type, OWL.AnnotationProperty))


def _copy(graph: Graph) -> Graph:
    g = kb.new_graph()
    for triple in graph:
        g.add(triple)
    return g


def merged_for_export(kb_graph: Graph) -> Graph:
    """The KB with its module headers folded into one ontology header (module imports dropped)."""
    g = kb.new_graph()
    modules = set(kb_graph.subjects(RDF.type, OWL.Ontology))
    for s, p, o in kb_graph:
        if s in modules:
            continue
        g.add((s, p, o))
    merged = URIRef(str(SK) + "spinekg")
    version = kb.kb_version()
    g.add((merged, RDF.type, OWL.Ontology))
    g.add((merged, OWL.versionIRI, URIRef(f"{SK}releases/{version.split('+')[0]}/spinekg")))
    g.add((merged, OWL.versionInfo, Literal(version)))
    g.add(
        (
            merged,
            DCTERMS.title,
            Literal("spinekg: lumbar degenerative spine disease and radiculopathy guideline knowledge"),
        )
    )
    g.add(
        (
            merged,
            DCTERMS.description,
            Literal("All spinekg modules merged: " + ", ".join(sorted(str(m) for m in modules))),
        )
    )
    g.add((merged, DCTERMS.license, URIRef("https://creativecommons.org/licenses/by/4.0/")))
    return g


def merged_graph(kb_graph: Graph) -> Graph:
    """Everything of the KB as one ontology (``merged_for_export``: module headers folded, no imports), with
    every undeclared predicate (a SKOS mapping one, say) declared an annotation property."""
    g = merged_for_export(kb_graph)
    g.remove((None, OWL.imports, None))
    _declare_annotation_properties(g)
    return g


def _title_and_license(graph: Graph) -> tuple[str, URIRef | None]:
    for header in graph.subjects(RDF.type, OWL.Ontology):
        title = str(graph.value(header, DCTERMS.title) or "spinekg").split(" (")[0]
        license_ = graph.value(header, DCTERMS.license)
        return title, license_ if isinstance(license_, URIRef) else None
    return "spinekg", None


def base_graph(merged: Graph, version: str) -> Graph:
    """The base release: the merged KB (``merged_graph``) less every axiom about a term outside the spinekg
    namespace but its declarations and annotations (the SKOS typing of external codes goes, for one).

    >>> g = base_graph(merged_graph(kb.shared_kb()), "0.0.0+doc")
    >>> str(g.value(ontology_iri("base"), OWL.versionIRI))
    'https://w3id.org/spinekg/releases/0.0.0+doc/spinekg-base.owl'
    >>> len(set(g.subjects(RDF.type, OWL.Ontology)))
    1
    """
    annotations = annotation_properties(merged)
    g = kb.new_graph()
    dropped = []
    for s, p, o in merged:
        foreign = isinstance(s, URIRef) and not _ours(s)
        if foreign and not (p == RDF.type and o in DECLARATION_TYPES) and p not in annotations:
            dropped.append(o)
            continue
        g.add((s, p, o))
    _drop_orphans(g, dropped)
    _set_header(g, "base", version, *_title_and_license(merged))
    return g


def infer_class_hierarchy(graph: Graph) -> set[tuple[URIRef, URIRef, URIRef]]:
    """The named-class links HermiT infers that ``graph`` does not assert: ``rdfs:subClassOf`` (direct) and
    ``owl:equivalentClass`` between named classes. Runs HermiT through owlready2's ``sync_reasoner_hermit``, which
    writes the inferences it finds new into an ontology of their own; those are read back. Needs Java.
    """
    import owlready2

    from .dl import _load

    with tempfile.TemporaryDirectory() as tmp:
        world, _ = _load(graph, tmp)
        inferred = world.get_ontology("http://inferrences/")
        try:
            with inferred:
                owlready2.sync_reasoner_hermit(world, infer_property_values=False, debug=0)
        except owlready2.OwlReadyInconsistentOntologyError as exc:
            raise SpinekgError("HermiT: the knowledge base is inconsistent; no release written") from exc
        except (OSError, owlready2.OwlReadyJavaError) as exc:
            raise SpinekgError(f"HermiT could not run (it needs a Java runtime, `java` on the PATH): {exc}") from exc
        unsatisfiable = sorted(c.iri for c in world.inconsistent_classes() if c is not owlready2.Nothing)
        if unsatisfiable:
            raise SpinekgError("HermiT: unsatisfiable classes, no release written: " + ", ".join(unsatisfiable))
        path = os.path.join(tmp, "inferred.nt")
        inferred.save(file=path, format="ntriples")
        added = Graph().parse(path, format="nt")
    classes = {c for c in graph.subjects(RDF.type, OWL.Class) if isinstance(c, URIRef)}
    return cast(  # s and o are among the classes, p one of two IRIs
        "set[tuple[URIRef, URIRef, URIRef]]",
        {
            (s, p, o)
            for s, p, o in added
            if p in (RDFS.subClassOf, OWL.equivalentClass) and s in classes and o in classes and o != OWL.Thing
        },
    )


def full_graph(merged: Graph, version: str, inferred: set[tuple[URIRef, URIRef, URIRef]]) -> Graph:
    """The full release: everything merged plus the inferred class hierarchy (``infer_class_hierarchy(merged)``)."""
    g = _copy(merged)
    for triple in inferred:
        g.add(triple)
    _set_header(g, "full", version, *_title_and_license(merged))
    return g


def simple_graph(full: Graph, version: str) -> Graph:
    """The simple release: named classes, the named subclass (and equivalence) links among them, and their
    annotations with IRI or literal values (labels, definitions, synonyms, notations, mappings).

    >>> g = simple_graph(merged_graph(kb.shared_kb()), "0.0.0+doc")
    >>> (SK.saddle_pattern_deficit, RDFS.subClassOf, SK.cauda_equina_syndrome_suspected) in g
    True
    >>> any(isinstance(term, BNode) for triple in g for term in triple)
    False
    """
    classes = {c for c in full.subjects(RDF.type, OWL.Class) if isinstance(c, URIRef)}
    annotations = annotation_properties(full)
    g = kb.new_graph()
    used = set()
    for c in classes:
        g.add((c, RDF.type, OWL.Class))
        for p, o in full.predicate_objects(c):
            if p in (RDFS.subClassOf, OWL.equivalentClass) and o in classes:
                g.add((c, p, o))
            elif p in annotations and not isinstance(o, BNode):
                g.add((c, p, o))
                used.add(p)
    for p in used - _BUILTIN_ANNOTATIONS:
        g.add((p, RDF.type, OWL.AnnotationProperty))
    for p in used & set(full.subjects(RDF.type, OWL.AnnotationProperty)):
        for label in full.objects(p, RDFS.label):
            g.add((p, RDFS.label, label))
    _set_header(g, "simple", version, *_title_and_license(full))
    return g


@dataclass(frozen=True)
class ReleaseSet:
    """The three release ontologies of one KB version, and the class links HermiT added to the full one."""

    version: str
    base: Graph
    full: Graph
    simple: Graph
    inferred: frozenset[tuple[URIRef, URIRef, URIRef]]

    def graph(self, variant: str) -> Graph:
        return {"base": self.base, "full": self.full, "simple": self.simple}[variant]


def build(kb_graph: Graph | None = None, version: str | None = None) -> ReleaseSet:
    """Make the base, full and simple ontologies (in memory) of ``kb_graph`` (default: this checkout's KB)."""
    version = version or kb.kb_version()
    merged = merged_graph(kb_graph if kb_graph is not None else kb.load_kb())
    inferred = infer_class_hierarchy(merged)
    full = full_graph(merged, version, inferred)
    return ReleaseSet(version, base_graph(merged, version), full, simple_graph(full, version), frozenset(inferred))


@contextlib.contextmanager
def _pylode() -> Iterator[type]:
    """pyLODE's ``OntPub``, with two of pyLODE 3.3.4's habits contained while it runs.

    Importing it calls ``logging.basicConfig(level=DEBUG)`` (its supermodel loader), which would make every later
    log record of the process print: the root logger is put back as it was. And it cannot draw a set class nested in
    another (``owl:unionOf`` inside ``owl:intersectionOf``, as in the saddle-pattern deficit's definition: TypeError
    unhashable list), nor bracket one: while it renders, its ``intersperse`` returns a bracketed tuple.
    """
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    try:
        import pylode
        import pylode.utils as pylode_utils
    finally:
        root.handlers[:] = handlers
        root.setLevel(level)
    original = pylode_utils.intersperse

    def bracketed(items, separator):
        return ("(", *original(list(items), separator), ")")

    pylode_utils.intersperse = bracketed
    try:
        yield pylode.OntPub
    finally:
        pylode_utils.intersperse = original


def documentation(graph: Graph) -> str:
    """The HTML page pyLODE (OntPub profile) makes of a release ontology; reads nothing from the network."""
    with _pylode() as ont_pub:
        return ont_pub(ontology=_copy(graph)).make_html()


def release(out_dir: Path) -> list[Path]:
    """Write the release set into ``out_dir``: ``spinekg-{base,full,simple}.{ttl,owl}`` and ``docs/index.html``
    (pyLODE's page of the full ontology). Everything is made first, then every file is written to a temporary name
    and only then all are renamed (:func:`reasoner.outputs.write_outputs`), so a failure (no Java, an inconsistent
    KB, a full disk) leaves the files in ``out_dir`` as they were. Needs Java (HermiT).
    """
    out = Path(out_dir)
    if out.exists() and not out.is_dir():
        raise UsageError(f"--release: {out} exists and is not a folder")
    rs = build()
    texts = {
        Path(f"spinekg-{variant}.{suffix}"): rs.graph(variant).serialize(format=fmt)
        for variant in VARIANTS
        for suffix, fmt in FORMATS.items()
    }
    texts[DOC_PAGE] = documentation(rs.full)
    try:
        (out / DOC_PAGE.parent).mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise output_error("--release", out, exc, "cannot make the folder") from None
    return write_outputs(((out / name, text.encode("utf-8")) for name, text in texts.items()), "--release")


@dataclass(frozen=True)
class Artefact:
    """What one written release file holds: its ontology IRI, version IRI, triples and named classes."""

    path: Path
    ontology: str
    version_iri: str
    triples: int
    classes: int

    def __str__(self) -> str:
        return f"{self.path}: {self.triples} triples, {self.classes} classes, version {self.version_iri}"


def describe(path: Path) -> Artefact:
    """Read back one release file (``.ttl`` or ``.owl``) and say what it holds.

    >>> import tempfile
    >>> path = Path(tempfile.mkdtemp()) / "spinekg-simple.ttl"
    >>> _ = simple_graph(merged_graph(kb.shared_kb()), "0.0.0+doc").serialize(path, format="turtle")
    >>> a = describe(path)
    >>> a.ontology, a.classes > 100
    ('https://w3id.org/spinekg/spinekg-simple.owl', True)
    """
    p = Path(path)
    fmt = FORMATS.get(p.suffix.lstrip("."))
    if fmt is None:
        raise UsageError(f"{p}: not a release file (.ttl or .owl)")
    g = Graph().parse(p, format=fmt)
    onts = sorted(str(o) for o in g.subjects(RDF.type, OWL.Ontology))
    if len(onts) != 1:
        raise SpinekgError(f"{p}: expected one owl:Ontology header, found {len(onts)}")
    classes = {c for c in g.subjects(RDF.type, OWL.Class) if isinstance(c, URIRef)}
    return Artefact(p, onts[0], str(g.value(URIRef(onts[0]), OWL.versionIRI)), len(g), len(classes))
