"""Every line of every article that recommends, advises against, or sets a threshold or a time is in the graph.

A line counts when it says so in words a recommendation uses (should, avoid, consider, recommended,
first-line, weeks, months, mJOA, …). It is covered when an evidence statement quotes it (or a sentence of
it), or, for a heading, when it is the section an evidence statement stands under. The few lines left out
on purpose are listed (by their opening words), each with its reason, in tests/data/not-recommendations.tsv.
"""

from __future__ import annotations

import csv
import re

import pytest

from reasoner.consts import DCTERMS, OA, RDF, SK
from reasoner.quality.gates import fold

from constants import ARTICLES, DATA

KEYWORDS = re.compile(
    r"\b(recommend\w*|should|avoid|do not|don't|consider\w*|must|indicated|warranted|first-line|essential|reserved|"
    r"may be|prefer\w*|no role|require\w*|reassess|regular|follow-up|every|weeks?|months?|mJOA)\b",
    re.IGNORECASE,
)
EXCLUDED = list(csv.DictReader(open(DATA / "not-recommendations.tsv", encoding="utf-8"), delimiter="\t"))


def article_lines(text: str) -> list[str]:
    lines = []
    for raw in text.splitlines():
        line = re.sub(r"\s\d+(, \d+)*$", "", re.sub(r"^[•\-]\s*", "", fold(raw)))
        if line and KEYWORDS.search(line):
            lines.append(line)
    return lines


def quoted(kb_graph, article: str) -> tuple[list[str], set[str]]:
    exacts, sections = [], set()
    for st in kb_graph.subjects(DCTERMS.source, SK[f"article_{article}"]):
        if (st, RDF.type, SK.EvidenceStatement) not in kb_graph:
            continue
        sections.update(fold(str(s)) for s in kb_graph.objects(st, SK.section))
        exacts += [
            fold(str(e))
            for t in kb_graph.objects(st, OA.hasTarget)
            for s in kb_graph.objects(t, OA.hasSelector)
            for e in kb_graph.objects(s, OA.exact)
        ]
    return exacts, sections


@pytest.mark.parametrize("article", ARTICLES)
def test_every_recommending_line_is_quoted(kb_graph, article, seeds_dir):
    text = (seeds_dir / str(kb_graph.value(SK[f"article_{article}"], SK.seedFile))).read_text(encoding="utf-8")
    exacts, sections = quoted(kb_graph, article)
    excluded = {fold(row["line"]) for row in EXCLUDED if row["article"] == article}
    missing = [
        line
        for line in article_lines(text)
        if line not in sections
        and not any(line.startswith(x) for x in excluded)
        and not any(e in line or line in e for e in exacts)
    ]
    assert not missing, "recommending lines with no evidence statement:\n" + "\n".join(missing)


@pytest.mark.parametrize("row", EXCLUDED, ids=lambda r: f"{r['article']}:{r['line'][:30]}")
def test_each_exclusion_is_still_a_line_of_its_article_and_has_a_reason(kb_graph, row, seeds_dir):
    text = (seeds_dir / str(kb_graph.value(SK[f"article_{row['article']}"], SK.seedFile))).read_text(encoding="utf-8")
    assert any(line.startswith(fold(row["line"])) for line in article_lines(text))
    assert row["reason"].strip()


def test_the_keyword_scan_can_fail(kb_graph, seeds_dir):
    """A recommending line nobody quoted is reported (so the coverage test is not vacuous)."""
    exacts, _ = quoted(kb_graph, "002")
    lines = article_lines((seeds_dir / str(kb_graph.value(SK.article_002, SK.seedFile))).read_text(encoding="utf-8"))
    bed_rest = [line for line in lines if "Do not prescribe bed rest" in line]
    assert bed_rest and any(e in bed_rest[0] for e in exacts)
    assert not any(e in "Do not prescribe traction—nobody said this" for e in exacts)
