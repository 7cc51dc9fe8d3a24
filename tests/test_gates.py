"""The knowledge base as it stands passes every quality gate."""

from __future__ import annotations

import pytest

from reasoner import kb
from reasoner import validate as v


@pytest.mark.parametrize("path", kb.module_paths() + kb.shape_paths(), ids=lambda p: p.name)
def test_turtle_is_normalised(path):
    assert path.read_text(encoding="utf-8") == kb.normalised_text(path), f"run `spinekg kb normalize` ({path})"


def test_shapes_conform(kb_graph):
    problems = v.run_shacl(kb_graph)
    assert not problems, "\n".join(map(str, problems))


@pytest.mark.parametrize("check", v.check_paths(), ids=lambda p: p.stem)
def test_violation_check_finds_nothing(check, kb_graph):
    problems = v.run_violation_checks(kb_graph, [check])
    assert not problems, "\n".join(map(str, problems))


@pytest.mark.java
def test_merged_ontology_is_dl_consistent(kb_graph, java):
    from reasoner.dl import check_consistency

    result = check_consistency(kb_graph)
    assert result.consistent and not result.unsatisfiable, result.message


def test_every_module_has_an_ontology_header(kb_graph):
    from reasoner.consts import OWL, RDF

    assert len(set(kb_graph.subjects(RDF.type, OWL.Ontology))) == len(kb.module_paths())
