"""The SPARQL query library: every question answers, the same on pyoxigraph and rdflib, with bound parameters."""

from __future__ import annotations

import csv
import doctest
import io
import json
import re
import shlex

import pytest
from rdflib import Graph, Literal, URIRef
from rdflib.compare import isomorphic

from reasoner.consts import PREFIXES
from reasoner.errors import QueryError
from reasoner.sparql import library as queries
from reasoner.sparql import results
from reasoner.sparql.binding import unbound_parameters
from reasoner.sparql.library import ENGINES, QUERIES_DIR, dataset, list_queries, parameter_value, run, run_any

from constants import DATA, EXAMPLE_CASES, EXAMPLES

FIXTURES = DATA / "queries"
QUERIES = list_queries()
INJECTION = 'foo" } DROP ALL #'


def name(q) -> str:
    return q.name


@pytest.fixture(scope="module")
def cohort() -> queries.Dataset:
    """The KB, the 14 example cases and the PROV-O graphs of their runs: built once for this module."""
    return dataset(EXAMPLE_CASES)


@pytest.fixture(scope="module")
def with_mapping() -> queries.Dataset:
    return dataset(extra=[Graph().parse(FIXTURES / "mappings.ttl")])


def multiset(table) -> list[tuple[str, ...]]:
    return sorted(tuple("" if v is None else v for v in row) for row in table.rows)


def test_the_library_has_at_least_22_questions_over_kb_and_cases():
    assert len(QUERIES) >= 22
    assert sum(q.needs_cases for q in QUERIES) >= 6
    assert sum(not q.needs_cases for q in QUERIES) >= 12


@pytest.mark.parametrize("query", QUERIES, ids=name)
def test_query_answers_the_same_non_empty_rows_on_both_engines(query, cohort):
    ox_, rd = (run(query.name, query.example_params, engine=e, data=cohort) for e in ENGINES)
    assert len(ox_) > 0, f"{query.name} returns no row with its example parameters"
    assert ox_.columns == rd.columns == query.returns
    assert multiset(ox_) == multiset(rd)
    assert sorted(map(repr, ox_.terms)) == sorted(map(repr, rd.terms)), "same strings, different term kinds"
    assert not any(t is not None and t.kind == "bnode" for row in ox_.terms for t in row), "blank node labels differ"


@pytest.mark.parametrize("query", QUERIES, ids=name)
def test_header_documents_summary_parameters_columns_and_example(query):
    keys = set(re.findall(r"^#\+\s*([\w-]+)\s*:", query.text, re.M))
    assert keys <= set(queries.HEADER_KEYS) and {"summary", "returns", "example"} <= keys
    assert query.summary.endswith(("?", ".")) and len(query.summary) > 20
    assert shlex.split(query.example)[:3] == ["spinekg", "query", query.name]
    params = {p.name: p for p in query.params}
    assert set(queries.query_parameters(query.text)) == set(params), "every ?_ variable is documented, and only those"
    for p in params.values():
        assert p.description and p.example
        assert f"_{p.name}" in query.returns, "the library's tables echo their parameters as their first columns"
    assert not unbound_parameters(query.text, [f"_{p}" for p in params], PREFIXES), "a VALUES clause reaches it"
    assert query.example_params == {
        k: p.example for k, p in params.items() if p.default is None or k in query.example_params
    }
    assert query.needs_cases == ("--case" in query.example) or query.name == "kb-version"


def test_readme_table_lists_every_query_file_and_only_those():
    text = (QUERIES_DIR / "README.md").read_text(encoding="utf-8")
    rows = re.findall(r"^\| \[`([^`]+)`\]\(([^)]+)\)", text, re.M)
    assert rows, "the README has no table of queries"
    assert all(f"{label}.rq" == link for label, link in rows)
    assert sorted(label for label, _ in rows) == sorted(p.stem for p in QUERIES_DIR.glob("*.rq"))


def test_readme_examples_run():
    result = doctest.testfile(str(QUERIES_DIR / "README.md"), module_relative=False, verbose=False)
    assert result.attempted > 0 and result.failed == 0


def expected_rows():
    with open(FIXTURES / "expected.tsv", encoding="utf-8") as f:
        return [
            pytest.param(r, id=f"{r['expect']}-{r['query']}-{r['value'].rsplit('/', 1)[-1]}")
            for r in csv.DictReader(f, delimiter="\t")
        ]


@pytest.mark.parametrize("row", expected_rows())
def test_known_answers(row, cohort):
    params = dict(queries.split_param(p) for p in row["params"].split())
    table = run(row["query"], params, data=cohort)
    column = table.columns.index(row["column"])
    values = {r[column] for r in table.rows}
    assert (row["value"] in values) == (row["expect"] == "present"), values


@pytest.mark.parametrize("engine", ENGINES)
def test_term_mappings_answers_both_sides(engine, with_mapping):
    exact = "http://www.w3.org/2004/02/skos/core#exactMatch"
    mapped = {(r[1], r[4], r[5], r[6]) for r in run("term-mappings", {"mapped": "true"}, engine=engine).rows}
    assert ("https://w3id.org/spinekg/nsaid", exact, "http://snomed.info/id/372665008", "372665008") in mapped
    unmapped = {r[1] for r in run("term-mappings", {}, engine=engine).rows}
    assert "https://w3id.org/spinekg/bed_rest" in unmapped and not unmapped & {m[0] for m in mapped}
    now = run("term-mappings", {"mapped": "true"}, engine=engine, data=with_mapping)
    assert ("https://w3id.org/spinekg/bed_rest", exact, "urn:example:bed-rest") in {
        (r[1], r[4], r[5]) for r in now.rows
    }
    after = {r[1] for r in run("term-mappings", {}, engine=engine, data=with_mapping).rows}
    assert "https://w3id.org/spinekg/bed_rest" not in after


# --- parameters are bound, never formatted into the query


@pytest.mark.parametrize(
    "text,term",
    [
        ("sk:rec_000_01", URIRef("https://w3id.org/spinekg/rec_000_01")),
        ("prov:Entity", URIRef("http://www.w3.org/ns/prov#Entity")),
        ("https://w3id.org/spinekg/ref_000_3", URIRef("https://w3id.org/spinekg/ref_000_3")),
        ("<urn:example:x>", URIRef("urn:example:x")),
        ("002-lumbosacral-radiculopathy", Literal("002-lumbosacral-radiculopathy")),
        ("false", Literal("false")),
        ("6", Literal("6")),
        ("foo:bar", Literal("foo:bar")),
        ("sk:x> } DROP ALL #", Literal("sk:x> } DROP ALL #")),
        (INJECTION, Literal(INJECTION)),
        ("", Literal("")),
    ],
)
def test_a_parameter_is_an_iri_only_when_it_looks_like_one(text, term):
    value = parameter_value(text)
    assert value == term and type(value) is type(term)


def test_an_iri_parameter_in_angle_brackets_must_be_an_iri():
    with pytest.raises(QueryError, match="not a valid IRI"):
        parameter_value("<urn:x> } DROP ALL { <urn:y>")


TRICKY = [INJECTION, "a\\u0022b", "back\\slash\\", 'line\nbreak\r"""', "sk:x> } #", "\\U0001F600 é"]


@pytest.mark.parametrize("engine", ENGINES)
def test_an_injected_value_is_one_literal_and_cannot_change_the_query(engine, cohort):
    size = len(cohort.graph), len(cohort.store)
    g = Graph()
    for i, text in enumerate(TRICKY):
        g.add((URIRef(f"urn:example:{i}"), URIRef("urn:example:p"), Literal(text)))
    tiny = queries.Dataset(g)
    for i, text in enumerate(TRICKY):
        echo = run_any("SELECT ?_x ?s WHERE { ?s <urn:example:p> ?_x }", {"x": text}, engine=engine, data=tiny)
        assert echo.rows == ((text, f"urn:example:{i}"),), "the value arrives exactly, as one literal"
        assert echo.terms[0][0].kind == "literal"
    assert run("plan-steps", {"case": INJECTION}, engine=engine, data=cohort).rows == ()
    assert run("recommendations-by-stance", {"stance": "sk:do> } #"}, engine=engine, data=cohort).rows == ()
    assert (len(cohort.graph), len(cohort.store)) == size


def test_issue14_the_query_text_is_sent_with_a_standard_values_clause_appended(monkeypatch, cohort):
    real, calls = cohort.store, []

    class Spy:
        def query(self, text, **kwargs):
            calls.append(text)
            return real.query(text, **kwargs)

    monkeypatch.setattr(queries.Dataset, "store", property(lambda self: Spy()))
    run("plan-steps", {"case": INJECTION}, data=cohort)
    assert calls == [queries.load("plan-steps").text + '\nVALUES (?_case) {\n  ("foo\\" } DROP ALL #")\n}\n']
    assert queries.bound_text(queries.load("plan-steps"), {"case": INJECTION}) == calls[0]


@pytest.mark.parametrize("query", [q for q in QUERIES if q.params], ids=name)
def test_issue14_values_at_the_end_or_at_the_top_of_the_where_clause_give_the_same_rows(query, cohort):
    """What an analyst runs elsewhere: the library text with VALUES appended, or put first in the WHERE clause."""
    appended = queries.bound_text(query, query.example_params)
    values = appended[len(query.text) :].strip()
    assert values.startswith("VALUES (")
    top = re.sub(r"^(SELECT .*?WHERE \{)$", lambda m: f"{m.group(1)} {values}", query.text, count=1, flags=re.M)
    assert top != query.text
    expected = multiset(run(query.name, query.example_params, data=cohort))
    assert len(expected) > 0
    for text in (appended, top):
        result = cohort.store.query(text)
        rows = [tuple("" if s[v] is None else s[v].value for v in result.variables) for s in result]
        assert sorted(rows) == expected


@pytest.mark.parametrize("engine", ENGINES)
def test_issue14_term_mappings_without_a_mapping_under_values_binding(engine, cohort):
    info = queries.load("term-mappings")
    unmapped = run("term-mappings", {"mapped": "false"}, engine=engine, data=cohort)
    assert len(unmapped) > 100 and all(r[0] == "false" and r[5] is None for r in unmapped.rows)
    mapped = run("term-mappings", {"mapped": "true"}, engine=engine, data=cohort)
    assert len(mapped) > 0 and all(r[0] == "true" and r[5] is not None for r in mapped.rows)
    both = cohort.store.query(info.text)  # no VALUES clause: both sides, each row saying which
    assert len(list(both)) == len(unmapped) + len(mapped)


@pytest.mark.parametrize("engine", ENGINES)
def test_a_parameter_need_not_be_returned(engine):
    text = "SELECT ?recommendation WHERE { ?recommendation sk:stance ?_stance }"
    avoid = {r[0] for r in run_any(text, {"stance": "sk:avoid"}, engine=engine).rows}
    assert avoid == {r[1] for r in run("recommendations-by-stance", {"stance": "sk:avoid"}, engine=engine).rows}


# --- errors: exit status 2 and a message that says what is wrong


def bad_fixtures():
    return sorted((FIXTURES / "bad").glob("*.rq"))


@pytest.mark.parametrize("path", bad_fixtures(), ids=lambda p: p.stem)
@pytest.mark.parametrize("engine", ENGINES)
def test_bad_query_is_a_query_error_with_a_clear_message(path, engine):
    text = path.read_text(encoding="utf-8")
    given = re.search(r"^# test-given:(.*)$", text, re.M)
    expect = re.search(r"^# test-expect: (.*)$", text, re.M).group(1)
    params = dict(queries.split_param(p) for p in (given.group(1).split() if given else []))
    with pytest.raises(QueryError) as caught:
        run_any(path, params, engine=engine, data=dataset())
    assert expect in str(caught.value) and caught.value.exit_code == 2


def test_unknown_query_name_lists_the_known_ones():
    with pytest.raises(QueryError, match=r"unknown query 'no-such-query'.*reference-citations"):
        run("no-such-query", {})


def test_syntax_error_carries_the_engines_message():
    with pytest.raises(QueryError, match=r"syntax error: error at 1:\d+"):
        run_any("SELECT ?x WHERE { ?x ", engine="oxigraph")
    with pytest.raises(QueryError, match=r"syntax error: Expected"):
        run_any("SELECT ?x WHERE { ?x ", engine="rdflib")


def test_a_missing_parameter_names_its_example():
    with pytest.raises(QueryError, match=r"missing parameter \?_reference: give --param reference=VALUE .*sk:acp_2017"):
        run("reference-citations", {})


@pytest.mark.parametrize("bad", ["reference", "=sk:x", "a b=c"])
def test_a_parameter_must_be_key_equals_value(bad):
    with pytest.raises(QueryError, match="expected key=value"):
        queries.split_param(bad)


def test_unknown_engine_and_format_are_errors():
    with pytest.raises(QueryError, match="engine 'jena'"):
        run("conflicts", {}, engine="jena")
    with pytest.raises(QueryError, match="--format 'xml'"):
        results.format_table(run("kb-modules", {}), "xml")


# --- results: ASK, CONSTRUCT, DESCRIBE and the output formats


@pytest.mark.parametrize("engine", ENGINES)
def test_ask_construct_and_describe(engine):
    assert run_any("ASK { ?_r a sk:Recommendation }", {"r": "sk:rec_000_01"}, engine=engine).value is True
    assert run_any("ASK { ?_r a sk:Recommendation }", {"r": "sk:ref_000_3"}, engine=engine).value is False
    built = run_any(FIXTURES / "construct.rq", {"reference": "sk:acp_2017"}, engine=engine).graph
    assert {str(s).rsplit("/", 1)[-1] for s in built.subjects()} == {
        "ev_gs_acp2017_r1_acute_subacute_nonpharm",
        "ev_gs_acp2017_r2_chronic_nonpharm",
        "ev_gs_acp2017_r3_chronic_pharm",
    }
    described = run_any("DESCRIBE sk:ref_000_3", engine=engine).graph
    assert (URIRef("https://w3id.org/spinekg/ref_000_3"), None, None) in described
    turtle = results.format_table(results.GraphResult(built), "ttl")
    assert isomorphic(Graph().parse(data=turtle, format="turtle"), built)


def test_run_answers_select_only():
    with pytest.raises(QueryError, match="use run_any"):
        run("ASK { ?s ?p ?o }", {})


def test_json_is_the_sparql_results_shape():
    table = run("recommendation-evidence", {"recommendation": "sk:rec_000_15"})
    doc = json.loads(results.format_table(table, "json"))
    assert doc["head"]["vars"] == list(table.columns)
    assert len(doc["results"]["bindings"]) == len(table)
    first = doc["results"]["bindings"][0]
    assert first["_recommendation"] == {"type": "uri", "value": "https://w3id.org/spinekg/rec_000_15"}
    assert first["quote"]["type"] == "literal" and "datatype" not in first["quote"]
    ask = json.loads(results.format_table(results.AskResult(True), "json"))
    assert ask == {"head": {}, "boolean": True}


def test_csv_and_tsv_round_trip():
    table = run("article-references", {"article": "sk:article_000"})
    rows = list(csv.reader(io.StringIO(results.format_table(table, "csv"))))
    assert tuple(rows[0]) == table.columns and [tuple(r) for r in rows[1:]] == [
        tuple("" if v is None else v for v in r) for r in table.rows
    ]
    tsv = results.format_table(table, "tsv").split("\n")
    assert tsv[0].split("\t") == [f"?{c}" for c in table.columns]
    assert tsv[1].split("\t")[:2] == [
        "<https://w3id.org/spinekg/article_000>",
        '"1"^^<http://www.w3.org/2001/XMLSchema#integer>',
    ]


def test_issue14_every_csv_line_ends_with_crlf_the_last_too(spinekg):
    table = run("article-references", {"article": "sk:article_000"})
    text = results.format_table(table, "csv")
    lines = text.split("\r\n")
    assert lines[-1] == "" and len(lines) == len(table) + 2 and "\n" not in "".join(lines)
    ran = spinekg("query", "article-references", "--param", "article=sk:article_000", "--format", "csv")
    assert ran.returncode == 0 and ran.stdout == text, "the command prints the CSV as it is, adding no LF"


# --- the command-line entry points


def test_cli_query_prints_the_answer(spinekg):
    out = spinekg("query", "reference-citations", "--param", "reference=sk:acp_2017", "--format", "csv")
    assert out.returncode == 0 and "https://w3id.org/spinekg/ev_gs_acp2017_r2_chronic_nonpharm" in out.stdout
    assert not out.stderr


def test_cli_query_says_which_parameter_names_nothing_when_no_rows(spinekg):
    """A mistyped id gives no rows: the note on standard error names the parameter that matches nothing (the status
    stays 0: an empty answer is an answer); a real id with no rows, or with rows, gets no note."""
    out = spinekg("query", "reference-citations", "--param", "reference=sk:ref_000_99")
    assert out.returncode == 0 and "(0 rows)" in out.stdout
    assert "--param reference=sk:ref_000_99 names nothing in the knowledge base" in out.stderr
    case = EXAMPLES / "002-lumbosacral-radiculopathy.yaml"
    out = spinekg("query", "plan-steps", "--param", "case=002-lumbosacral-radiculopath", "--case", case)
    assert "--param case=002-lumbosacral-radiculopath names nothing in the knowledge base or the cases" in out.stderr
    out = spinekg("query", "plan-steps", "--param", "case=002-lumbosacral-radiculopathy", "--case", case)
    assert "(0 rows)" not in out.stdout and not out.stderr
    out = spinekg("query", "case-red-flags", "--case", case)  # no rows (no red flag), no parameter to blame
    assert not out.stderr


def test_cli_query_without_a_name_lists_the_library(spinekg):
    out = spinekg("query")
    assert out.returncode == 0
    assert all(q.name in out.stdout for q in QUERIES)


@pytest.mark.parametrize(
    "args,message",
    [
        (["nope"], "unknown query 'nope'"),
        (["reference-citations"], "missing parameter ?_reference"),
        (["conflicts", "--param", "colour=red"], "unknown parameter colour"),
        (["conflicts", "--param", "colour"], "expected key=value"),
        (["case-red-flags", "--case", FIXTURES / "bad-case.yaml"], "'L9' is not a dermatome"),
    ],
)
def test_cli_query_errors_go_to_stderr_with_status_2(args, message, spinekg):
    out = spinekg("query", *args)
    assert out.returncode == 2
    assert message in out.stderr and not out.stdout


def test_cli_sparql_takes_a_file_or_text_and_cases(spinekg):
    case = EXAMPLES / "redflag-cauda-equina.yaml"
    out = spinekg("sparql", FIXTURES / "construct.rq", "--param", "reference=sk:acp_2017")
    assert out.returncode == 0 and "ev_gs_acp2017_r2_chronic_nonpharm" in out.stdout
    text = "SELECT ?flag WHERE { ?f sk:inCase ?c ; a ?flag . ?flag rdfs:subClassOf sk:RedFlag }"
    out = spinekg("sparql", text, "--format", "tsv", "--case", case)
    assert out.returncode == 0 and "<https://w3id.org/spinekg/cauda_equina_syndrome_suspected>" in out.stdout
    out = spinekg("sparql", "SELECT ?x WHERE {")
    assert out.returncode == 2 and "syntax error" in out.stderr
    out = spinekg("sparql", "missing.rq")
    assert out.returncode == 2 and "missing.rq: query file not found" in out.stderr
