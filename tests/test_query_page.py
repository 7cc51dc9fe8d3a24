"""Issue 14: the endpoint's query page offers every library query as an example, runnable as shown."""

from __future__ import annotations

import html
import re

import pytest

from reasoner.sparql.library import dataset, list_queries
from reasoner.sparql.page import examples, query_page

NAMES = [q.name for q in list_queries()]


@pytest.fixture(scope="module")
def page() -> str:
    return query_page({"urn:kb": 10}, "limits").decode()


@pytest.mark.parametrize("name", NAMES)
def test_issue14_the_page_offers_each_library_query(page, name):
    options = re.findall(r'<option value="([^"]*)" data-query="([^"]*)">', page)
    shown = {html.unescape(title): html.unescape(text) for title, text in options}
    title = next((t for t in shown if t.startswith(f"{name}: ")), None)
    assert title is not None, f"{name} is not among the page's examples"
    assert shown[title] == examples()[title]


@pytest.mark.parametrize("title", list(examples()), ids=lambda t: t.split(":")[0])
def test_each_example_runs_as_shown(title):
    """As the page shows it (PREFIX lines and VALUES included): run by Oxigraph with nothing added."""
    list(dataset().store.query(examples()[title]))


def test_the_examples_are_attribute_text_not_markup(page):
    select = page[page.index('<select id="ex">') : page.index("</select>")]
    assert "<script" not in select.lower() and select.count("<option") == len(examples())
