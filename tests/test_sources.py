"""Articles, reference lists and citation markers: resolved where the article resolves them, never guessed."""

from __future__ import annotations

import re

import pytest

from reasoner.consts import DCTERMS, PREFIXES, SK

from constants import ARTICLES


def citations(kb_graph, article):
    q = """SELECT ?marker ?status ?ref WHERE { ?e dcterms:source ?a ; sk:citation ?c .
           ?c sk:marker ?marker ; sk:citationStatus ?status . OPTIONAL { ?c sk:citesReference ?ref } }"""
    return [
        (str(r.marker), r.status, r.ref)
        for r in kb_graph.query(q, initNs=PREFIXES, initBindings={"a": SK[f"article_{article}"]})
    ]


@pytest.mark.parametrize("article", ["001", "002", "004"])
def test_articles_without_a_reference_list_have_only_unresolved_markers(kb_graph, article):
    cites = citations(kb_graph, article)
    assert cites and {s for _, s, _ in cites} == {SK.unresolved}
    assert all(r is None for _, _, r in cites)


@pytest.mark.parametrize("article,listed", [("000", 3), ("003", 3)])
def test_a_list_with_entries_missing_resolves_no_marker_by_position(kb_graph, article, listed):
    """000 prints 3 references and cites marker 4; 003 prints 3 and cites 5. The printed list is not numbered and
    entries are missing, so a position does not say which marker an entry is (003's marker 3 sentences, a whole-spine
    MRI and high-dose steroids for compression, fit its second entry, the cord compression guideline, not the third,
    on stenosis surgery): no marker is resolved, the ones beyond the list are dangling, and no sentence names an
    entry as its primary source."""
    cites = citations(kb_graph, article)
    assert {int(m) for m, _, _ in cites} - set(range(1, listed + 1)), "the list is not missing entries"
    for marker, status, ref in cites:
        assert ref is None
        assert status == (SK.unresolved if int(marker) <= listed else SK.dangling), marker
    q = "ASK { ?e dcterms:source ?a ; prov:hadPrimarySource ?r . ?r sk:referenceOf ?a }"
    assert not kb_graph.query(q, initNs=PREFIXES, initBindings={"a": SK[f"article_{article}"]}).askAnswer
    assert len(list(kb_graph.subjects(SK.referenceOf, SK[f"article_{article}"]))) == listed


def test_seed_000_cites_4_but_lists_3(kb_graph):
    assert ("4", SK.dangling, None) in citations(kb_graph, "000")
    assert len([r for r in kb_graph.subjects(SK.referenceOf, SK.article_000)]) == 3


def test_eur_radiol_2019_is_reference_3_of_article_000(kb_graph):
    assert str(kb_graph.value(SK.ref_000_3, SK.publishedIn)) == "European radiology"
    assert int(kb_graph.value(SK.ref_000_3, SK.year)) == 2019


@pytest.mark.parametrize("article", ARTICLES)
def test_every_article_has_recommendations_and_a_seed_file(kb_graph, article):
    iri = SK[f"article_{article}"]
    assert str(kb_graph.value(iri, SK.seedFile)).startswith(article + "_")
    assert any(True for _ in kb_graph.subjects(DCTERMS.source, iri))


def test_external_guidelines_are_marked_external_and_quote_nothing(kb_graph):
    from reasoner.consts import RDF

    externals = set(kb_graph.subjects(RDF.type, SK.ExternalGuideline))
    assert SK.nice_ng59 in externals and SK.ao_spine_dcm_2017 in externals
    for ext in externals:
        assert kb_graph.value(ext, SK.external).toPython() is True
        assert not any(True for _ in kb_graph.subjects(DCTERMS.source, ext))


def test_conflicts_named_by_the_issue_are_recorded(kb_graph):
    members = {c: set(kb_graph.objects(c, SK.conflictMember)) for c in kb_graph.subjects(SK.conflictMember, None)}
    assert {SK.rec_003_01, SK.rec_002_01} <= members[SK.conflict_conservative_period]
    assert {SK.rec_000_09, SK.rec_001_11} <= members[SK.conflict_facet_injection_diagnosis]
    assert SK.ao_spine_dcm_2017 in members[SK.conflict_mjoa_threshold]
    assert (SK.rec_003_01, SK.conflictsWith, SK.rec_002_01) in kb_graph


#: The reference tables an ExternalEvidence cell may come from, with the column that keys a row (None: a list).
TABLES = {
    "acr_lbp_2021.csv": None,
    "guideline_statements.csv": "statement_id",
    "presentations.csv": "presentation_id",
    "red_flags.csv": "red_flag_id",
}


def reference_table(name):
    import csv

    from constants import REFERENCE

    rows = list(csv.DictReader(open(REFERENCE / name, encoding="utf-8")))
    return rows if TABLES[name] is None else {r[TABLES[name]]: r for r in rows}


def table_of(kb_graph, evidence):
    return str(kb_graph.value(kb_graph.value(evidence, DCTERMS.source), SK.tableFile))


def test_every_reference_evidence_comes_from_one_of_the_tables(kb_graph):
    from reasoner.consts import RDF

    assert {table_of(kb_graph, e) for e in kb_graph.subjects(RDF.type, SK.ExternalEvidence)} == set(TABLES)


@pytest.mark.parametrize("table", sorted(TABLES))
def test_reference_table_evidence_is_the_cell_verbatim(kb_graph, table):
    from reasoner.consts import RDF

    cells_of = reference_table(table)
    found = sorted(e for e in kb_graph.subjects(RDF.type, SK.ExternalEvidence) if table_of(kb_graph, e) == table)
    assert found, f"no evidence from {table}"
    for evidence in found:
        where = evidence.split("/")[-1]
        row, column = str(kb_graph.value(evidence, SK.referenceRow)), str(kb_graph.value(evidence, SK.referenceColumn))
        text = str(kb_graph.value(evidence, SK.referenceText))
        if table == "presentations.csv":
            assert cells_of[row][column] == text, where
        elif table == "red_flags.csv":
            # the cell, and the row's status as the table gives it ("verified (category); lab set recalled")
            assert cells_of[row][column] == text, where
            assert str(kb_graph.value(evidence, SK.verificationStatus)) == cells_of[row]["status"], where
        elif table == "guideline_statements.csv":
            # the cell, and the row's status and quote-or-paraphrase, each as the table gives them
            cells = cells_of[row]
            assert cells[column] == text, where
            assert str(kb_graph.value(evidence, SK.verificationStatus)) == cells["status"], where
            assert str(kb_graph.value(evidence, SK.quoteOrParaphrase)) == cells["quote_or_paraphrase"], where
            assert cells["status"] != "rejected", where
        else:
            # the row names the variant and the rating ("variant 4: May Be Appropriate"); a rating's row after the
            # first leaves the variant cell blank in the table, so the variant is carried down
            variant, rating = (part.strip() for part in row.split(":"))
            variant, current = variant.removeprefix("variant "), ""
            cells, statuses = [], []
            for r in cells_of:
                current = r["variant"] or current
                if current == variant and r["appropriateness"] == rating:
                    cells.append(r[column])
                    statuses.append(r["evidence_status"])
            assert cells == [text], where
            assert statuses == [str(kb_graph.value(evidence, SK.verificationStatus))], where
        assert any(True for _ in kb_graph.objects(evidence, PREFIXES["prov"].hadPrimarySource)), where


#: The external guidelines a red-flag row may rest on, each with the words red_flags.csv's supporting_sources cell
#: names it by ("ACP/APS 2007 & Chou 2011" are two publications, neither of them ACP 2017).
NAMED_BY_RED_FLAG_TABLE = {
    SK.acp_aps_2007: "ACP/APS 2007",
    SK.chou_2011: "Chou 2011",
    SK.acr_ac_lbp_2021: "ACR AC LBP 2021",
    SK.acr_ac_spine_infection: "ACR Suspected Spine Infection",
    SK.acr_ac_vcf: "ACR Management of Vertebral Compression Fractures",
    SK.ao_spine_dcm_2017: "AO Spine/CSRS 2017",
    SK.choosing_wisely_nass: "Choosing Wisely (NASS)",
    SK.nice_ng59: "NICE NG59",
    SK.nice_ng234: "NG234",
}


def evidence_of(kb_graph, table):
    from reasoner.consts import RDF

    return sorted(e for e in kb_graph.subjects(RDF.type, SK.ExternalEvidence) if table_of(kb_graph, e) == table)


def test_red_flag_table_evidence_rests_on_the_sources_its_row_names_and_no_other(kb_graph):
    """Issue I2: a red-flag cell's primary sources are exactly the guidelines its row's supporting_sources cell names
    (none made up, e.g. ACP 2017 for "ACP/APS 2007 & Chou 2011"; none left out, e.g. Choosing Wisely for infection)."""
    prov = PREFIXES["prov"]
    rows = reference_table("red_flags.csv")
    for row in rows.values():
        # one source per part (a ";" inside brackets does not end one)
        for part in re.split(r";(?![^()]*\))", row["supporting_sources"]):
            assert any(words in part for words in NAMED_BY_RED_FLAG_TABLE.values()), (row["red_flag_id"], part)
    found = evidence_of(kb_graph, "red_flags.csv")
    assert found
    for evidence in found:
        cell = rows[str(kb_graph.value(evidence, SK.referenceRow))]["supporting_sources"]
        named = {s for s, words in NAMED_BY_RED_FLAG_TABLE.items() if words in cell}
        assert set(kb_graph.objects(evidence, prov.hadPrimarySource)) == named, evidence.split("/")[-1]
    table = set(kb_graph.objects(SK.red_flag_reference_table, prov.wasDerivedFrom))
    assert table == set(NAMED_BY_RED_FLAG_TABLE), "the red-flag table derives from the guidelines it names"


def test_acr_table_evidence_rests_on_the_acr_low_back_pain_criteria_only(kb_graph):
    prov = PREFIXES["prov"]
    found = evidence_of(kb_graph, "acr_lbp_2021.csv")
    assert found
    for evidence in found:
        assert set(kb_graph.objects(evidence, prov.hadPrimarySource)) == {SK.acr_ac_lbp_2021}, evidence


def test_sources_known_only_by_a_table_name_say_so_and_claim_nothing_more(kb_graph):
    """The guidelines the red-flag table names that spinekg has no other fact of carry the table's name as title and
    say that they are known only by it: no publisher, identifier or page is made up."""
    for source in (SK.acp_aps_2007, SK.chou_2011, SK.acr_ac_spine_infection, SK.nice_ng234):
        label = str(kb_graph.value(source, PREFIXES["rdfs"].label))
        assert "known here only as" in label, source
        title = str(kb_graph.value(source, DCTERMS.title))
        assert any(title in row["supporting_sources"] for row in reference_table("red_flags.csv").values()), source
        for p in (DCTERMS.identifier, DCTERMS.bibliographicCitation, DCTERMS.publisher, SK.publishedIn):
            assert kb_graph.value(source, p) is None, (source, p)


@pytest.mark.parametrize(
    "evidence,status",
    [
        ("ev_ref_cauda_equina_syndrome_suspected_action", "verified (NICE/ACR/ACP pages); pathway wording recalled"),
        ("ev_ref_infection_suspected_action", "verified (category); lab set recalled"),
        ("ev_ref_acr_variant_3_may_be", "verified at category level (radiologyinfo.org); exact list order recalled"),
    ],
)
def test_a_reference_cell_is_shown_with_its_row_status_and_the_sources_its_row_names(kb_graph, evidence, status):
    from reasoner.kb.index import KBIndex

    shown = KBIndex(kb_graph).evidence(SK[evidence])
    assert shown.citation.endswith(f"; cell, {status}"), shown.citation
    assert not any("American College of Physicians" in r for r in shown.references), shown.references


def test_seed_000_plan_no_longer_credits_acp_2017_with_its_cauda_equina_steps():
    from reasoner.api import reason

    from constants import EXAMPLES

    plan = reason([EXAMPLES / "000-gluteal-s2-s3-numbness.yaml"])[0].plan
    cells = [e for s in plan.steps for e in s.evidence if e.article == "red_flags.csv"]
    assert cells
    for e in cells:
        assert "American College of Physicians" not in (e.reference or ""), e
        assert "ACP/APS 2007" in (e.reference or "") and "Chou 2011" in (e.reference or ""), e
        assert e.citation.endswith("; cell, verified (NICE/ACR/ACP pages); pathway wording recalled"), e


def test_unverified_guideline_statements_are_shown_as_such_and_never_the_only_support_of_a_do(kb_graph):
    from reasoner.consts import RDF

    prov, rdfs = PREFIXES["prov"], PREFIXES["rdfs"]
    for rec in kb_graph.subjects(RDF.type, SK.Recommendation):
        statuses = {
            str(kb_graph.value(e, SK.verificationStatus)) for e in kb_graph.objects(rec, prov.wasDerivedFrom)
        } - {"None"}
        if "unverified" in statuses:
            assert "UNVERIFIED" in str(kb_graph.value(rec, rdfs.label)), rec
            if kb_graph.value(rec, SK.stance) == SK.do:
                assert statuses & {"verified", "corroborated"}, rec
    for ev in kb_graph.subjects(RDF.type, SK.ExternalEvidence):
        if str(kb_graph.value(ev, SK.verificationStatus)) == "unverified":
            assert "UNVERIFIED" in str(kb_graph.value(ev, rdfs.label)), ev


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


def test_safety_rules_cover_every_red_flag(kb_graph):
    from reasoner.consts import RDF

    covered = set()
    for rec in kb_graph.subjects(SK.safetyRule, None):
        for cond in kb_graph.objects(rec, SK.hasCondition):
            covered |= set(kb_graph.objects(cond, SK.redFlag))
    flags = set(kb_graph.subjects(PREFIXES["rdfs"].subClassOf, SK.RedFlag))
    assert flags and flags <= covered
    assert all((rec, RDF.type, SK.Recommendation) in kb_graph for rec in kb_graph.subjects(SK.safetyRule, None))


def test_acp_chronic_options_are_for_chronic_low_back_pain_only(kb_graph):
    """ACP 2017 R2 names its non-drug options for chronic low back pain: each recommendation derived from it (exercise,
    multidisciplinary rehabilitation, psychological and mind-body therapy, spinal manipulation, acupuncture) needs the
    chronic phase and axial low back pain (ACP's population is low back pain, not sciatica or claudication without back
    pain), so an acute patient, or one without back pain, gets none of them."""
    prov = PREFIXES["prov"]
    recs = set(kb_graph.subjects(prov.wasDerivedFrom, SK.ev_gs_acp2017_r2_chronic_nonpharm)) - set(
        kb_graph.subjects(None, SK.Conflict)
    )
    assert {kb_graph.value(r, SK.intervention) for r in recs} >= {
        SK.exercise_therapy,
        SK.multidisciplinary_rehabilitation,
        SK.psychological_therapy,
        SK.mind_body_therapy,
        SK.spinal_manipulation,
        SK.acupuncture,
    }
    for rec in recs:
        conditions = set(kb_graph.objects(rec, SK.hasCondition))
        assert {
            SK.condition_PresentationPresent_chronic_phase,
            SK.condition_PresentationPresent_axial_low_back_pain,
        } <= conditions, rec
