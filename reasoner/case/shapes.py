"""Validate a case graph against the SHACL case shapes before reasoning (the RDF form of the case contract)."""

from __future__ import annotations

from functools import lru_cache

from rdflib import Graph, URIRef

from ..consts import RDF, SH
from ..kb import load as kb
from .model import CaseProblem
from .paths import field_path

#: case-document keys of the RDF properties (imaging findings call laterality "side")
FIELD = {
    "durationWeeks": "duration_weeks",
    "inDermatome": "dermatomes",
    "inBodyRegion": "body_regions",
    "atDiscLevel": "level",
    "atSpinalLevel": "level",
    "isNew": "new",
    "weeksAgo": "weeks_ago",
    "treatmentWeeksAgo": "weeks_ago",
    "treatmentType": "type",
    "candidateFor": "candidate_for",
    "identifier": "id",
    "scoreValue": "",
    "measuredValue": "",
    "mrcGrade": "strength_mrc",
    "screenResult": "result",
}


@lru_cache(maxsize=1)
def _shapes_and_terms() -> tuple[Graph, tuple]:
    shapes = kb.new_graph()
    kb.parse_into(shapes, kb.ONTOLOGY_DIR / "shapes" / "case-shapes.ttl")
    full = kb.shared_kb()
    # the typed individuals (dermatomes, levels, value sets) sh:class checks need, and nothing else of the KB
    terms = tuple((s, RDF.type, o) for s, o in full.subject_objects(RDF.type) if isinstance(s, URIRef))
    return shapes, terms


def check_case_graph(case_graph: Graph) -> list[CaseProblem]:
    """Every SHACL violation of the case graph, as problems with the case field path of the focus node.

    >>> from reasoner.case.validate import case_graph, parse_case
    >>> check_case_graph(case_graph(parse_case({"id": "ok", "age": 40})))
    []
    """
    import pyshacl

    shapes, terms = _shapes_and_terms()
    data = Graph()
    for triple in case_graph:
        data.add(triple)
    for triple in terms:
        data.add(triple)
    conforms, results, _ = pyshacl.validate(data, shacl_graph=shapes, inference="none")
    if conforms:
        return []
    cases = {str(c) for c in case_graph.subjects(RDF.type, URIRef("https://w3id.org/spinekg/Case"))}
    problems = []
    for result in results.subjects(RDF.type, SH.ValidationResult):
        focus, value = results.value(result, SH.focusNode), results.value(result, SH.value)
        path = results.value(result, SH.resultPath)
        owner = next((c for c in cases if str(focus).startswith(c)), None)
        where = field_path(owner, str(focus)) if owner else str(focus)
        prop = str(path).rsplit("/", 1)[-1] if path is not None else ""
        prop = FIELD.get(prop, prop)
        if prop == "laterality" and ".findings[" in where:
            prop = "side"
        shown = value.toPython() if hasattr(value, "toPython") else value
        problems.append(
            CaseProblem(f"{where}.{prop}" if prop else where, shown, str(results.value(result, SH.resultMessage)))
        )
    return sorted(problems, key=str)
