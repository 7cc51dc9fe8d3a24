"""Articles, reference lists and citation markers: resolved where the article resolves them, never guessed."""

from __future__ import annotations

import pytest

from reasoner.consts import DCTERMS, PREFIXES, SK
from reasoner.kb.load import load_kb

from constants import ARTICLES

KB = load_kb()


def citations(article):
    q = """SELECT ?marker ?status ?ref WHERE { ?e dcterms:source ?a ; sk:citation ?c .
           ?c sk:marker ?marker ; sk:citationStatus ?status . OPTIONAL { ?c sk:citesReference ?ref } }"""
    return [
        (str(r.marker), r.status, r.ref)
        for r in KB.query(q, initNs=PREFIXES, initBindings={"a": SK[f"article_{article}"]})
    ]


@pytest.mark.parametrize("article", ["001", "002", "004"])
def test_articles_without_a_reference_list_have_only_unresolved_markers(article):
    cites = citations(article)
    assert cites and {s for _, s, _ in cites} == {SK.unresolved}
    assert all(r is None for _, _, r in cites)


@pytest.mark.parametrize("article,listed", [("000", 3), ("003", 3)])
def test_markers_beyond_the_list_are_dangling_and_the_rest_resolve_to_their_entry(article, listed):
    cites = citations(article)
    for marker, status, ref in cites:
        if int(marker) <= listed:
            assert status == SK.resolved and ref == SK[f"ref_{article}_{marker}"]
        else:
            assert status == SK.dangling and ref is None


def test_seed_000_cites_4_but_lists_3():
    assert ("4", SK.dangling, None) in citations("000")
    assert len([r for r in KB.subjects(SK.referenceOf, SK.article_000)]) == 3


def test_eur_radiol_2019_is_reference_3_of_article_000():
    assert str(KB.value(SK.ref_000_3, SK.publishedIn)) == "European radiology"
    assert int(KB.value(SK.ref_000_3, SK.year)) == 2019


@pytest.mark.parametrize("article", ARTICLES)
def test_every_article_has_recommendations_and_a_seed_file(article):
    iri = SK[f"article_{article}"]
    assert str(KB.value(iri, SK.seedFile)).startswith(article + "_")
    assert any(True for _ in KB.subjects(DCTERMS.source, iri))


def test_external_guidelines_are_marked_external_and_quote_nothing():
    from reasoner.consts import RDF

    externals = set(KB.subjects(RDF.type, SK.ExternalGuideline))
    assert SK.nice_ng59 in externals and SK.ao_spine_dcm_2017 in externals
    for ext in externals:
        assert KB.value(ext, SK.external).toPython() is True
        assert not any(True for _ in KB.subjects(DCTERMS.source, ext))


def test_conflicts_named_by_the_issue_are_recorded():
    members = {c: set(KB.objects(c, SK.conflictMember)) for c in KB.subjects(SK.conflictMember, None)}
    assert {SK.rec_003_01, SK.rec_002_01} <= members[SK.conflict_conservative_period]
    assert {SK.rec_000_09, SK.rec_001_11} <= members[SK.conflict_facet_injection_diagnosis]
    assert SK.ao_spine_dcm_2017 in members[SK.conflict_mjoa_threshold]
    assert (SK.rec_003_01, SK.conflictsWith, SK.rec_002_01) in KB


def reference_cells():
    import csv

    from reasoner.consts import RDF

    from constants import REFERENCE

    tables = {
        "red_flags.csv": {
            r["red_flag_id"]: r for r in csv.DictReader(open(REFERENCE / "red_flags.csv", encoding="utf-8"))
        },
        "acr_lbp_2021.csv": list(csv.DictReader(open(REFERENCE / "acr_lbp_2021.csv", encoding="utf-8"))),
        "guideline_statements.csv": {
            r["statement_id"]: r for r in csv.DictReader(open(REFERENCE / "guideline_statements.csv", encoding="utf-8"))
        },
        "presentations.csv": {
            r["presentation_id"]: r for r in csv.DictReader(open(REFERENCE / "presentations.csv", encoding="utf-8"))
        },
    }
    return tables, sorted(KB.subjects(RDF.type, SK.ExternalEvidence))


@pytest.mark.parametrize("evidence", reference_cells()[1], ids=lambda e: e.split("/")[-1])
def test_reference_table_evidence_is_the_cell_verbatim(evidence):
    tables, _ = reference_cells()
    table = str(KB.value(KB.value(evidence, DCTERMS.source), SK.tableFile))
    row, column = str(KB.value(evidence, SK.referenceRow)), str(KB.value(evidence, SK.referenceColumn))
    text = str(KB.value(evidence, SK.referenceText))
    if table in ("red_flags.csv", "presentations.csv"):
        assert tables[table][row][column] == text
    elif table == "guideline_statements.csv":
        # the cell, and the row's status and quote-or-paraphrase, each as the table gives them
        cells = tables[table][row]
        assert cells[column] == text
        assert str(KB.value(evidence, SK.verificationStatus)) == cells["status"]
        assert str(KB.value(evidence, SK.quoteOrParaphrase)) == cells["quote_or_paraphrase"]
        assert cells["status"] != "rejected"
    else:
        variant = row.split(":")[0].removeprefix("variant ")
        cells = [
            r[column]
            for r in tables[table]
            if r["variant"] == variant and r["appropriateness"] == "Usually Appropriate"
        ]
        assert cells == [text]
    assert any(True for _ in KB.objects(evidence, PREFIXES["prov"].hadPrimarySource))


def test_unverified_guideline_statements_are_shown_as_such_and_never_the_only_support_of_a_do():
    from reasoner.consts import RDF

    prov, rdfs = PREFIXES["prov"], PREFIXES["rdfs"]
    for rec in KB.subjects(RDF.type, SK.Recommendation):
        statuses = {str(KB.value(e, SK.verificationStatus)) for e in KB.objects(rec, prov.wasDerivedFrom)} - {"None"}
        if "unverified" in statuses:
            assert "UNVERIFIED" in str(KB.value(rec, rdfs.label)), rec
            if KB.value(rec, SK.stance) == SK.do:
                assert statuses & {"verified", "corroborated"}, rec
    for ev in KB.subjects(RDF.type, SK.ExternalEvidence):
        if str(KB.value(ev, SK.verificationStatus)) == "unverified":
            assert "UNVERIFIED" in str(KB.value(ev, rdfs.label)), ev


def test_a_week_of_axial_low_back_pain_gets_general_care_from_the_guideline_statements():
    from reasoner.api import reason
    from reasoner.case.validate import parse_case

    case = {
        "id": "acute-lbp",
        "age": 45,
        "sex": "male",
        "symptoms": [
            {"type": "axial_pain", "body_regions": ["lower_back"], "laterality": "midline", "duration_weeks": 1}
        ],
    }
    plan = reason([parse_case(case, source="test")])[0].plan
    steps = {(s.id, s.stance): s for s in plan.steps}
    for want in [
        ("red_flag_screening", "do"),
        ("stay_active_advice", "do"),
        ("bed_rest", "avoid"),
        ("nsaid", "consider"),
        ("superficial_heat", "do"),
        ("lumbar_spine_imaging", "avoid"),
        ("spinal_injection", "avoid"),
    ]:
        assert want in steps, (want, sorted(steps))
        assert any(e.article == "guideline_statements.csv" and e.quote for e in steps[want].evidence), want
    assert not any(s.stance != "avoid" and s.id in ("lumbar_spine_imaging", "mri_lumbar_spine") for s in plan.steps)


def test_safety_rules_cover_every_red_flag():
    from reasoner.consts import RDF

    covered = set()
    for rec in KB.subjects(SK.safetyRule, None):
        for cond in KB.objects(rec, SK.hasCondition):
            covered |= set(KB.objects(cond, SK.redFlag))
    flags = set(KB.subjects(PREFIXES["rdfs"].subClassOf, SK.RedFlag))
    assert flags and flags <= covered
    assert all((rec, RDF.type, SK.Recommendation) in KB for rec in KB.subjects(SK.safetyRule, None))
