"""The ODK-style release set: base, full and simple in Turtle and RDF/XML with version IRIs, and the pyLODE page.

The release is made once for this module (HermiT through owlready2, pyLODE) with Python's network calls
disabled, so a page that needed the network would fail here.
"""

from __future__ import annotations

import logging
import os
import re
import socket
import subprocess
from collections import Counter
from html import escape
from pathlib import Path

import pytest
from rdflib import BNode, Graph, URIRef

from reasoner.consts import OWL, RDF, RDFS, SK, SKOS
from reasoner.errors import SpinekgError, UsageError
from reasoner.kb import load as kb
from reasoner.quality import release as release

FILES = [f"spinekg-{variant}.{suffix}" for variant in release.VARIANTS for suffix in release.FORMATS]
#: A mapping as the SSSOM mappings add them: SNOMED CT 192970008 "Cauda equina syndrome (disorder)", a `verified`
#: row of ../shared/reference/codes.csv (the id a string inside the IRI).
MAPPING = (SK.cauda_equina_syndrome_suspected, SKOS.relatedMatch, URIRef("http://snomed.info/id/192970008"))


def _no_network(*args, **kwargs):
    raise OSError("network access during the release")


@pytest.fixture(scope="module")
def released(tmp_path_factory, java):
    out = tmp_path_factory.mktemp("release")
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(socket.socket, "connect", _no_network)
        mp.setattr(socket, "create_connection", _no_network)
        paths = release.release(out)
    assert (list(root.handlers), root.level) == (handlers, level), "importing pyLODE changed the root logger"
    return out, paths


def parse(path: Path) -> Graph:
    return Graph().parse(path, format=release.FORMATS[path.suffix.lstrip(".")])


@pytest.fixture(scope="module")
def graphs(released) -> dict[str, Graph]:
    out, _ = released
    return {name: parse(out / name) for name in FILES}


def test_release_writes_six_ontologies_and_the_page_and_nothing_else(released):
    out, paths = released
    assert sorted(p.relative_to(out).as_posix() for p in paths) == sorted([*FILES, "docs/index.html"])
    assert sorted(p.relative_to(out).as_posix() for p in out.rglob("*") if p.is_file()) == sorted(
        p.relative_to(out).as_posix() for p in paths
    )


@pytest.mark.parametrize("name", FILES)
def test_each_file_has_its_ontology_iri_and_version_iri(graphs, name):
    g = graphs[name]
    variant = name.removeprefix("spinekg-").split(".")[0]
    assert set(g.subjects(RDF.type, OWL.Ontology)) == {release.ontology_iri(variant)}
    version = kb.kb_version()
    iri = release.ontology_iri(variant)
    assert g.value(iri, OWL.versionIRI) == URIRef(f"{SK}releases/{version}/spinekg-{variant}.owl")
    assert str(g.value(iri, OWL.versionInfo)) == version
    assert (None, OWL.imports, None) not in g


def ground(g: Graph) -> set:
    """The triples of ``g`` without blank nodes."""
    return {t for t in g if not any(isinstance(x, BNode) for x in t)}


def shape(g: Graph) -> Counter:
    """The triples of ``g`` with every blank node replaced by one placeholder (a cheap stand-in for isomorphism)."""
    return Counter(tuple("_" if isinstance(x, BNode) else x for x in t) for t in g)


@pytest.mark.parametrize("variant", release.VARIANTS)
def test_turtle_and_rdf_xml_hold_the_same_graph(graphs, variant):
    assert shape(graphs[f"spinekg-{variant}.ttl"]) == shape(graphs[f"spinekg-{variant}.owl"])


def test_base_holds_every_term_of_the_kb_with_its_annotations(graphs, kb_graph):
    base = graphs["spinekg-base.ttl"]
    for kind in (OWL.Class, OWL.ObjectProperty, OWL.DatatypeProperty, OWL.NamedIndividual):
        named = {t for t in kb_graph.subjects(RDF.type, kind) if isinstance(t, URIRef)}
        assert named and named <= set(base.subjects(RDF.type, kind)), kind
    modules = set(kb_graph.subjects(RDF.type, OWL.Ontology))
    ours = Graph()
    for t in kb_graph:
        if t[0] not in modules and (isinstance(t[0], BNode) or str(t[0]).startswith(str(SK))):
            ours.add(t)
    assert ground(ours) <= ground(base)  # every statement about our terms: all but the module headers
    assert shape(ours) - shape(base) == Counter()  # and every class expression
    assert (SK.saddle_pattern_deficit, OWL.equivalentClass, None) in base


def test_base_says_nothing_about_terms_outside_our_namespace_but_declarations_and_annotations(graphs):
    base = graphs["spinekg-base.ttl"]
    annotations = release.annotation_properties(base)
    foreign = [(s, p, o) for s, p, o in base if isinstance(s, URIRef) and not str(s).startswith(str(SK))]
    assert foreign, "the KB declares PROV-O, Web Annotation, DCTERMS and SKOS terms"
    declared = [(s, p, o) for s, p, o in foreign if p == RDF.type and o in release.DECLARATION_TYPES]
    wrong = [t for t in foreign if t not in declared and t[1] not in annotations]
    assert wrong == [], wrong[:5]


def test_base_drops_a_logical_axiom_about_a_foreign_term_with_its_class_expression(kb_copy):
    from rdflib import PROV

    restriction = BNode()
    kb_copy.add((PROV.Entity, RDFS.subClassOf, restriction))
    kb_copy.add((restriction, RDF.type, OWL.Restriction))
    kb_copy.add((restriction, OWL.onProperty, SK.laterality))
    kb_copy.add((restriction, OWL.hasValue, SK.bilateral))
    base = release.base_graph(release.merged_graph(kb_copy), "0.0.0+test")
    assert (PROV.Entity, RDFS.subClassOf, None) not in base
    assert (None, OWL.hasValue, SK.bilateral) in base  # the red-flag definitions' own restrictions stay
    assert not any(o == SK.laterality and s == restriction for s, _, o in base)
    assert (PROV.Entity, RDF.type, OWL.Class) in base


def test_full_is_everything_merged_plus_the_inferred_class_links(graphs, kb_graph):
    base, full = graphs["spinekg-base.ttl"], graphs["spinekg-full.ttl"]
    headers = {release.ontology_iri("base"), release.ontology_iri("full")}
    modules = set(kb_graph.subjects(RDF.type, OWL.Ontology))
    assert {t for t in ground(kb_graph) if t[0] not in modules and t[1] != OWL.imports} <= ground(full)
    assert {t for t in ground(base) if t[0] not in headers} <= ground(full)
    extra = {t for t in ground(full) if t[0] not in headers} - ground(base)
    foreign = {t for t in extra if not str(t[0]).startswith(str(SK))}
    assert all(p in (RDFS.subClassOf, OWL.equivalentClass) for _, p, _ in extra - foreign)
    assert shape(full) - Counter(ground(full)) == shape(base) - Counter(ground(base))  # the same class expressions


@pytest.mark.java
def test_full_asserts_a_subclass_link_hermit_infers_from_a_definition(kb_copy, java):
    """The modules assert every direct link HermiT infers (231 of 231 today), so a told link is taken away:
    the saddle-pattern deficit's parent SensorySymptom, which its definition (SensorySymptom and …) entails.
    The copy also carries an undeclared SKOS mapping, as the SSSOM mappings add them."""
    told = (SK.saddle_pattern_deficit, RDFS.subClassOf, SK.SensorySymptom)
    kb_copy.remove(told)
    kb_copy.add(MAPPING)
    rs = release.build(kb_copy, version="0.0.0+test")
    assert told not in rs.base
    assert rs.inferred == {told}
    assert told in rs.full and told in rs.simple
    for g in (rs.base, rs.full, rs.simple):
        assert MAPPING in g
        assert (SKOS.relatedMatch, RDF.type, OWL.AnnotationProperty) in g
        assert (SKOS.relatedMatch, RDF.type, OWL.ObjectProperty) not in g


def test_simple_has_named_classes_only_and_no_class_expressions(graphs):
    simple, full = graphs["spinekg-simple.ttl"], graphs["spinekg-full.ttl"]
    assert not any(isinstance(term, BNode) for triple in simple for term in triple)
    assert (None, RDF.type, OWL.Restriction) not in simple
    assert (None, RDF.type, OWL.NamedIndividual) not in simple
    named = {c for c in full.subjects(RDF.type, OWL.Class) if isinstance(c, URIRef)}
    assert set(simple.subjects(RDF.type, OWL.Class)) == named
    links = {(s, o) for s, o in full.subject_objects(RDFS.subClassOf) if s in named and o in named}
    assert set(simple.subject_objects(RDFS.subClassOf)) == links
    assert (SK.saddle_pattern_deficit, RDFS.subClassOf, SK.cauda_equina_syndrome_suspected) in simple
    assert {str(x) for x in simple.objects(SK.saddle_pattern_deficit, SKOS.altLabel)} == {
        "saddle anaesthesia",
        "saddle anesthesia",
    }
    assert simple.value(SK.saddle_pattern_deficit, SKOS.definition) is not None
    mappings = {(s, p, o) for p in release.SKOS_MAPPINGS for s, o in full.subject_objects(p) if s in named}
    assert mappings and mappings <= set(simple)


def test_no_property_is_declared_with_two_kinds(graphs):
    kinds = (OWL.ObjectProperty, OWL.DatatypeProperty, OWL.AnnotationProperty)
    for name, g in graphs.items():
        both = [p for p in set(g.subjects(RDF.type, None)) if sum((p, RDF.type, k) in g for k in kinds) > 1]
        assert both == [], name


_BUILTIN = (str(RDF), str(RDFS), str(OWL), "http://www.w3.org/2001/XMLSchema#")  # facets: xsd:minInclusive …


@pytest.mark.parametrize("name", FILES)
def test_issue14_every_property_used_is_declared_as_owl_2_dl_asks(graphs, name):
    """OWL 2 DL (the OWL API's profile checker) rejects an annotation whose property has no declaration: the
    simple release's header used three dcterms properties it never declared."""
    g = graphs[name]
    kinds = (OWL.ObjectProperty, OWL.DatatypeProperty, OWL.AnnotationProperty)
    undeclared = {
        p
        for p in set(g.predicates())
        if not str(p).startswith(_BUILTIN) and not any((p, RDF.type, k) in g for k in kinds)
    }
    assert undeclared == set(), f"{name}: {sorted(undeclared)}"


@pytest.mark.java
def test_full_loads_in_owlready2_from_rdf_xml_and_is_consistent_under_hermit(released, java):
    import owlready2

    out, _ = released
    world = owlready2.World()
    onto = world.get_ontology((out / "spinekg-full.owl").as_uri()).load()
    deficit = world[str(SK.saddle_pattern_deficit)]
    assert deficit is not None and deficit.label == ["saddle-pattern sensory deficit"]
    with onto:
        owlready2.sync_reasoner_hermit(world, infer_property_values=False, debug=0)  # raises if inconsistent
    assert list(world.inconsistent_classes()) == []
    assert world[str(SK.cauda_equina_syndrome_suspected)] in deficit.ancestors()


@pytest.mark.java
def test_the_owl_api_reads_all_six_files_and_finds_each_consistent(released, java):
    """HermiT's command line parses with the OWL API, the library Protégé uses."""
    import owlready2

    out, _ = released
    hermit = Path(owlready2.__file__).parent / "hermit"
    classpath = os.pathsep.join([str(hermit), str(hermit / "HermiT.jar")])
    cmd = [java, "-cp", classpath, "org.semanticweb.HermiT.cli.CommandLine", "-k"]
    run = subprocess.run(cmd + [(out / n).as_uri() for n in FILES], capture_output=True, text=True, timeout=300)
    assert run.returncode == 0, run.stderr[-2000:]
    assert run.stdout.splitlines() == ["http://www.w3.org/2002/07/owl#Thing is satisfiable."] * len(FILES)


def test_pylode_page_lists_our_classes_with_the_nested_definition_bracketed(released):
    out, _ = released
    html = (out / "docs" / "index.html").read_text(encoding="utf-8")
    assert str(release.ontology_iri("full")) in html
    section = html[html.index(">", html.index('id="saddle-patternsensorydeficit"')) + 1 :]
    text = " ".join(re.sub(r"<[^>]+>", " ", section[: section.index('class="property entity"')]).split())
    assert text.startswith("saddle-pattern sensory deficit")
    inner = sorted(["in body region op some saddle area region c", "in dermatome op some saddle dermatome c"])
    assert f"( {inner[0]} or {inner[1]} )" in text or f"( {inner[1]} or {inner[0]} )" in text, text


def test_pylode_page_has_a_section_for_every_class_and_property_of_ours(released, graphs):
    out, _ = released
    html = (out / "docs" / "index.html").read_text(encoding="utf-8")
    full = graphs["spinekg-full.ttl"]
    kinds = (OWL.Class, OWL.ObjectProperty, OWL.DatatypeProperty, OWL.AnnotationProperty)
    terms = {t for k in kinds for t in full.subjects(RDF.type, k) if str(t).startswith(str(SK))}
    assert len(terms) > 200
    missing = [t for t in terms if f"<h3>{escape(str(full.value(t, RDFS.label)), quote=False)}" not in html]
    assert missing == []


def test_release_into_a_file_is_a_usage_error_and_leaves_it_alone(tmp_path):
    target = tmp_path / "not-a-folder"
    target.write_text("mine", encoding="utf-8")
    with pytest.raises(UsageError, match="not-a-folder"):
        release.release(target)
    assert target.read_text(encoding="utf-8") == "mine"


def test_without_java_nothing_is_written(tmp_path, monkeypatch):
    monkeypatch.setenv("PATH", str(tmp_path / "empty"))
    out = tmp_path / "release"
    with pytest.raises(SpinekgError, match="Java"):
        release.release(out)
    assert not out.exists() or list(out.rglob("*")) == []


def test_issue14_license_files_and_citation_match_the_project():
    """The code's license, the knowledge base's license and the citation file agree with what the package and the
    modules declare."""
    import tomllib
    import yaml

    from reasoner.consts import DCTERMS
    from reasoner.kb import load as kb

    root = kb.ONTOLOGY_DIR.parent
    project = tomllib.loads((root / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    assert project["license"]["text"] == "Apache-2.0"
    assert (root / "LICENSE").read_text(encoding="utf-8").lstrip().startswith("Apache License")
    assert "Attribution 4.0 International" in (kb.ONTOLOGY_DIR / "LICENSE").read_text(encoding="utf-8")
    licenses = set(kb.load_kb().objects(None, DCTERMS.license))
    assert {str(x) for x in licenses} == {"https://creativecommons.org/licenses/by/4.0/"}
    cff = yaml.safe_load((root / "CITATION.cff").read_text(encoding="utf-8"))
    assert cff["cff-version"] == "1.2.0" and cff["license"] == "Apache-2.0"
    assert cff["version"] == project["version"]
