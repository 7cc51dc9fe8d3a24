"""Every evidence statement quotes its article's sentence verbatim (whitespace folded, nothing else)."""

from __future__ import annotations

import pytest

from reasoner.consts import DCTERMS, OA, RDF, SK
from reasoner.quality import gates as v

from constants import ARTICLES


def statements(kb_graph, article):
    return sorted(
        s
        for s in kb_graph.subjects(DCTERMS.source, SK[f"article_{article}"])
        if (s, RDF.type, SK.EvidenceStatement) in kb_graph
    )


def test_every_evidence_statement_comes_from_one_of_the_articles(kb_graph):
    sources = {kb_graph.value(s, DCTERMS.source) for s in kb_graph.subjects(RDF.type, SK.EvidenceStatement)}
    assert sources == {SK[f"article_{a}"] for a in ARTICLES}


@pytest.mark.parametrize("article", ARTICLES)
def test_each_quote_occurs_verbatim_in_its_article(article, kb_graph, seeds_dir):
    text = v.fold((seeds_dir / str(kb_graph.value(SK[f"article_{article}"], SK.seedFile))).read_text(encoding="utf-8"))
    found = statements(kb_graph, article)
    assert found, f"article {article} has no evidence statement"
    wrong = []
    for statement in found:
        exacts = [
            str(e)
            for t in kb_graph.objects(statement, OA.hasTarget)
            for s in kb_graph.objects(t, OA.hasSelector)
            for e in kb_graph.objects(s, OA.exact)
        ]
        if len(exacts) != 1 or v.fold(exacts[0]) not in text:
            wrong.append(f"{statement.split('/')[-1]}: {exacts}")
    assert not wrong, "quotes that are not exactly one verbatim sentence of the article:\n" + "\n".join(wrong)


def test_article_digests_match(kb_graph, seeds_dir):
    assert not v.check_quotes(kb_graph, seeds_dir)


def test_fold_only_folds_whitespace():
    assert v.fold(" a\n\t b  c ") == "a b c"
    assert v.fold("bed rest—patients") == "bed rest—patients"


@pytest.mark.parametrize("article", ARTICLES)
def test_each_quote_anchors_once_in_its_article(article, kb_graph, seeds_dir):
    """Issue I2: a quote that occurs more than once in its article ("Pain control" in article 003, under medical
    management and under long-term monitoring) carries an oa:prefix and oa:suffix, so its selector picks one place."""
    text = v.fold((seeds_dir / str(kb_graph.value(SK[f"article_{article}"], SK.seedFile))).read_text(encoding="utf-8"))
    ambiguous = []
    for statement in statements(kb_graph, article):
        for t in kb_graph.objects(statement, OA.hasTarget):
            for s in kb_graph.objects(t, OA.hasSelector):
                parts = [kb_graph.value(s, p) for p in (OA.prefix, OA.exact, OA.suffix)]
                anchored = v.fold("".join(str(p) for p in parts if p is not None))
                if text.count(anchored) != 1:
                    ambiguous.append(f"{statement.split('/')[-1]}: {anchored!r} occurs {text.count(anchored)} times")
    assert not ambiguous, "\n".join(ambiguous)
