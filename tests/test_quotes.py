"""Every evidence statement quotes its article's sentence verbatim (whitespace folded, nothing else)."""

from __future__ import annotations

import pytest

from reasoner.consts import DCTERMS, OA, RDF, SK
from reasoner.kb import load as kb
from reasoner.quality import gates as v

_KB = kb.load_kb()
STATEMENTS = sorted(_KB.subjects(RDF.type, SK.EvidenceStatement))


@pytest.mark.parametrize("statement", STATEMENTS, ids=lambda s: s.split("/")[-1])
def test_quote_occurs_verbatim_in_its_article(statement, seeds_dir):
    article = _KB.value(statement, DCTERMS.source)
    text = (seeds_dir / str(_KB.value(article, SK.seedFile))).read_text(encoding="utf-8")
    exacts = [
        str(e)
        for t in _KB.objects(statement, OA.hasTarget)
        for s in _KB.objects(t, OA.hasSelector)
        for e in _KB.objects(s, OA.exact)
    ]
    assert len(exacts) == 1
    assert v.fold(exacts[0]) in v.fold(text)


def test_article_digests_match(kb_graph, seeds_dir):
    assert not v.check_quotes(kb_graph, seeds_dir)


def test_fold_only_folds_whitespace():
    assert v.fold(" a\n\t b  c ") == "a b c"
    assert v.fold("bed rest—patients") == "bed rest—patients"
