"""The anatomy module says what the verified reference tables say."""

from __future__ import annotations

import csv
import re

import pytest

from reasoner.consts import RDF, SK, SKOS

from constants import REFERENCE

DISCS = list(csv.DictReader(open(REFERENCE / "disc_level_roots.csv", encoding="utf-8"))) if REFERENCE.is_dir() else []
DERMS = list(csv.DictReader(open(REFERENCE / "dermatomes.csv", encoding="utf-8"))) if REFERENCE.is_dir() else []
SACRAL_AND_BELOW = ["L1", "L2", "L3", "L4", "L5", "S1", "S2", "S3", "S4", "S5"]


def roots(kb_graph, disc, prop):
    return {str(kb_graph.value(r, SKOS.notation)) for r in kb_graph.objects(SK[f"disc_{disc}"], prop)}


@pytest.mark.parametrize("row", DISCS, ids=lambda r: r["disc_level"])
def test_disc_level_roots_match_reference(kb_graph, row):
    disc = row["disc_level"]
    assert roots(kb_graph, disc, SK.exitingRoot) == {row["exiting_root (foraminal / far-lateral / extraforaminal)"]}
    traversing = row["traversing_root (paracentral / subarticular / lateral recess)"]
    assert roots(kb_graph, disc, SK.traversingRoot) == {traversing}
    # central canal stenosis reaches the traversing root and every root below it, sacral included
    assert roots(kb_graph, disc, SK.centralCanalReaches) == set(SACRAL_AND_BELOW[SACRAL_AND_BELOW.index(traversing) :])
    assert {"S2", "S3", "S4", "S5"} <= roots(kb_graph, disc, SK.centralCanalReaches)


@pytest.mark.parametrize("row", DERMS, ids=lambda r: r["level"])
def test_dermatome_key_sensory_point_matches_reference(kb_graph, row):
    assert str(kb_graph.value(SK[f"dermatome_{row['level']}"], SK.keySensoryPoint)) == row["isncsci_key_sensory_point"]


def test_every_isncsci_level_and_the_design_dermatomes_exist(kb_graph):
    levels = [f"C{i}" for i in range(2, 9)] + [f"T{i}" for i in range(1, 13)] + [f"L{i}" for i in range(1, 6)]
    levels += ["S1", "S2", "S3", "S4", "S5", "S4-5"]
    for level in levels:
        assert (SK[f"dermatome_{level}"], SKOS.notation, None) in kb_graph, level


def spans(kb_graph, region):
    return {str(kb_graph.value(d, SKOS.notation)) for d in kb_graph.objects(SK[region], SK.spansDermatome)}


def test_body_regions_are_dermatome_sets(kb_graph):
    assert spans(kb_graph, "buttock") == {"L1", "L2", "L3", "S1", "S2", "S3"}
    assert {"S2", "S3", "S4", "S5"} <= spans(kb_graph, "saddle_region")
    assert spans(kb_graph, "anterior_thigh") == {"L2", "L3"}
    assert spans(kb_graph, "sitting_area_of_buttocks") <= spans(kb_graph, "buttock") & spans(kb_graph, "saddle_region")


def test_disc_levels_run_c2_c3_to_l5_s1(kb_graph):
    discs = sorted(str(kb_graph.value(d, SKOS.notation)) for d in kb_graph.subjects(SK.exitingRoot, None))
    cervical = ["C2-C3", "C3-C4", "C4-C5", "C5-C6", "C6-C7", "C7-T1"]
    thoracic = [f"T{i}-T{i + 1}" for i in range(1, 12)]
    lumbar = ["T12-L1", "L1-L2", "L2-L3", "L3-L4", "L4-L5", "L5-S1"]
    assert discs == sorted(cervical + thoracic + lumbar)
    assert all(re.fullmatch(r"[CTLS]\d+-[CTLS]\d+", d) for d in discs)
    # in order, top to bottom, each between its two vertebrae
    ordered = sorted(kb_graph.subjects(SK.exitingRoot, None), key=lambda d: int(kb_graph.value(d, SK.order)))
    assert [str(kb_graph.value(d, SKOS.notation)) for d in ordered] == cervical + thoracic + lumbar
    for d in ordered:
        upper, lower = str(kb_graph.value(d, SKOS.notation)).split("-")
        assert str(kb_graph.value(kb_graph.value(d, SK.upperVertebra), SKOS.notation)) == upper
        assert str(kb_graph.value(kb_graph.value(d, SK.lowerVertebra), SKOS.notation)) == lower
    # only the lumbar levels (the reference table's model) have a traversing root and a central canal reach
    for prop in (SK.traversingRoot, SK.centralCanalReaches):
        assert sorted(str(kb_graph.value(d, SKOS.notation)) for d in set(kb_graph.subjects(prop, None))) == sorted(
            lumbar
        )


def test_cervical_roots_exit_above_their_vertebra_thoracic_below(kb_graph):
    assert roots(kb_graph, "C5-C6", SK.exitingRoot) == {"C6"} and roots(kb_graph, "C7-T1", SK.exitingRoot) == {"C8"}
    assert roots(kb_graph, "C2-C3", SK.exitingRoot) == {"C3"}
    assert roots(kb_graph, "T1-T2", SK.exitingRoot) == {"T1"} and roots(kb_graph, "T11-T12", SK.exitingRoot) == {"T11"}


def test_vertebrae_c1_to_s1(kb_graph):
    vertebrae = sorted(kb_graph.subjects(RDF.type, SK.SpinalLevel), key=lambda v: int(kb_graph.value(v, SK.order)))
    names = [f"C{i}" for i in range(1, 8)] + [f"T{i}" for i in range(1, 13)] + [f"L{i}" for i in range(1, 6)]
    assert [str(kb_graph.value(v, SKOS.notation)) for v in vertebrae] == [*names, "S1"]


def test_new_body_regions_span_only_what_the_reference_supports(kb_graph):
    assert spans(kb_graph, "hands") == {"C6", "C7", "C8"}
    assert spans(kb_graph, "both_legs") == {"L1", "L2", "L3", "L4", "L5", "S1", "S2"}
    assert spans(kb_graph, "hip") == set()
