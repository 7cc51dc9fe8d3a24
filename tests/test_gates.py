"""The knowledge base as it stands passes every quality gate."""

from __future__ import annotations

import pytest

from reasoner.kb import load as kb
from reasoner.quality import gates as v


@pytest.mark.parametrize("path", kb.module_paths() + kb.shape_paths(), ids=lambda p: p.name)
def test_turtle_is_normalised(path):
    assert path.read_text(encoding="utf-8") == kb.normalised_text(path), f"run `spinekg kb normalize` ({path})"


def _subjects_in_file_order(path):
    """The subjects written at the start of a line, in the order the file has them."""
    import re

    return [m.group(1) for m in re.finditer(r"^(sk:\S+|<[^>]+>)$", path.read_text(encoding="utf-8"), re.M)]


@pytest.mark.parametrize("path", kb.module_paths(), ids=lambda p: p.name)
def test_issue14_module_header_first_then_subjects_in_id_order(path):
    from reasoner.kb.normalform import id_order

    subjects = _subjects_in_file_order(path)
    text = path.read_text(encoding="utf-8")
    first = text[text.index(f"\n{subjects[0]}\n") :].split("\n")[2]
    assert first == "    a owl:Ontology ;", (
        f"{path.name}: the first subject, {subjects[0]}, is not the owl:Ontology header"
    )
    named = [s for s in subjects[1:] if s.startswith("sk:")]
    assert named == sorted(named, key=id_order), f"{path.name}: subjects are not in id order"


@pytest.mark.parametrize("path", kb.module_paths() + kb.shape_paths(), ids=lambda p: p.name)
def test_issue14_no_trailing_spaces(path):
    lines = path.read_text(encoding="utf-8").split("\n")
    bad = [n for n, line in enumerate(lines, 1) if line != line.rstrip()]
    assert not bad, f"{path.name}: trailing spaces on lines {bad[:10]}"


def test_shapes_conform(kb_graph):
    problems = v.run_shacl(kb_graph)
    assert not problems, "\n".join(map(str, problems))


@pytest.mark.parametrize("check", v.check_paths(), ids=lambda p: p.stem)
def test_violation_check_finds_nothing(check, kb_graph):
    problems = v.run_violation_checks(kb_graph, [check])
    assert not problems, "\n".join(map(str, problems))


@pytest.mark.java
def test_merged_ontology_is_dl_consistent(kb_graph, java):
    from reasoner.quality.dl import check_consistency

    result = check_consistency(kb_graph)
    assert result.consistent and not result.unsatisfiable, result.message


def test_every_module_has_an_ontology_header(kb_graph):
    from reasoner.consts import OWL, RDF

    assert len(set(kb_graph.subjects(RDF.type, OWL.Ontology))) == len(kb.module_paths())


def _catalog() -> dict[str, str]:
    import xml.etree.ElementTree as ET

    root = ET.parse(kb.ONTOLOGY_DIR / "catalog-v001.xml").getroot()
    return {e.get("name"): e.get("uri") for e in root.iter("{urn:oasis:names:tc:entity:xmlns:xml:catalog}uri")}


@pytest.mark.parametrize("path", kb.module_paths(), ids=lambda p: p.name)
def test_issue14_catalog_names_every_module_and_its_imports(path):
    """Protégé (the OWL API) opens a module from ``ontology/`` offline only if the catalog maps every IRI it imports."""
    from rdflib import Graph

    from reasoner.consts import OWL, RDF

    catalog = _catalog()
    g = Graph().parse(path, format="turtle")
    (header,) = g.subjects(RDF.type, OWL.Ontology)
    assert catalog.get(str(header)) == path.relative_to(kb.ONTOLOGY_DIR).as_posix(), f"{header} not in the catalog"
    for imported in g.objects(header, OWL.imports):
        assert (kb.ONTOLOGY_DIR / catalog[str(imported)]).is_file(), f"{path.name} imports {imported}: not resolvable"
