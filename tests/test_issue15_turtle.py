"""Issue 15: a cohort's provenance as Turtle (``.ttl``) or TriG (``.trig``): the triples and graphs of the N-Triples
and N-Quads output of the same run, in a fraction of the bytes (prefixes once, case IRIs relative, subjects grouped).

The run's start and end times are frozen, so that four runs (``.nt``, ``.nq``, ``.ttl``, ``.trig``) of one input
write the same provenance and can be compared as sets of triples or quads, parsed by rdflib and by pyoxigraph.
"""

from __future__ import annotations

import json
import shutil
from datetime import datetime, timezone
from pathlib import Path

import pyoxigraph as ox
import pytest
from rdflib import BNode, Dataset, Graph
from rdflib.compare import isomorphic

from bench.generate import generate
from reasoner.api import default_reasoner
from reasoner.cohort import run as cohort
from reasoner.cohort.run import run_cohort
from reasoner.consts import SK
from reasoner.plan.turtle import COHORT, Prefixes, turtle

from constants import EXAMPLE_CASES

KINDS = ("nt", "nq", "ttl", "trig")
#: Case ids the schema allows that a prefixed name could not hold ('.' inside and last, '-' and '_', a digit first).
ODD_IDS = ("x.", "a..b", "0", "Z-_.9", "v1.2.3", "e.-_")
GENERATED = 200


class _Frozen(datetime):
    """``datetime`` whose ``now`` is one fixed moment: every run writes the same start and end times."""

    @classmethod
    def now(cls, tz=None):
        return datetime(2025, 1, 2, 3, 4, 5, 678901, tzinfo=timezone.utc)


def _cohort_folder(folder: Path, generated: int) -> Path:
    """The example cases and ``generated`` bench cases (some with odd ids) as one folder of case files."""
    folder.mkdir()
    for path in EXAMPLE_CASES:
        shutil.copy(path, folder / path.name)
    for n, doc in enumerate(generate(generated, seed=15)):
        if n < len(ODD_IDS):
            doc["id"] = ODD_IDS[n]
        (folder / f"gen-{n:04d}.json").write_text(json.dumps(doc), encoding="utf-8")
    return folder


def _run_all(source: Path, out: Path, **options) -> dict[str, Path]:
    """One cohort run per provenance syntax, the times frozen; the provenance files by syntax."""
    reasoner = default_reasoner()
    files = {}
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(cohort, "datetime", _Frozen)
        for kind in KINDS:
            files[kind] = out / f"prov.{kind}"
            run_cohort(
                source,
                out / f"plans-{kind}.jsonl",
                provenance=files[kind],
                reasoner=reasoner,
                progress=False,
                **options,
            )
    return files


@pytest.fixture(scope="module")
def runs(tmp_path_factory) -> dict[str, Path]:
    base = tmp_path_factory.mktemp("turtle")
    return _run_all(_cohort_folder(base / "cases", GENERATED), base, batch_size=50)


@pytest.fixture(scope="module")
def examples(tmp_path_factory) -> dict[str, Path]:
    base = tmp_path_factory.mktemp("examples")
    return _run_all(_cohort_folder(base / "cases", 0), base)


@pytest.fixture(scope="module")
def ttl_quads(runs) -> set:
    return _oxigraph(runs["ttl"], ox.RdfFormat.TURTLE)


def _oxigraph(path: Path, fmt) -> set:
    return set(ox.parse(path=path, format=fmt))


def _rdflib_graph(path: Path, fmt: str) -> Graph:
    return Graph().parse(path, format=fmt)


def _rdflib_quads(path: Path, fmt: str) -> set:
    ds = Dataset()
    ds.parse(path, format=fmt)
    return {(s, p, o, g.identifier if isinstance(g, Graph) else g) for s, p, o, g in ds.quads()}


def test_issue15_the_runs_planned_every_case_and_wrote_provenance_for_each(runs):
    plans = (runs["nt"].parent / "plans-ttl.jsonl").read_text(encoding="utf-8").splitlines()
    assert len(plans) >= GENERATED + 5
    text = runs["ttl"].read_text(encoding="utf-8")
    assert all(f"<{json.loads(line)['case']}> a sk:Case" in text for line in plans)


def test_issue15_turtle_parses_to_the_ntriples_of_the_same_run_rdflib(runs):
    nt, ttl = _rdflib_graph(runs["nt"], "nt"), _rdflib_graph(runs["ttl"], "turtle")
    assert len(nt) > 50_000
    if any(isinstance(t, BNode) for triple in nt for t in triple):
        assert isomorphic(nt, ttl)
    else:
        assert set(nt) == set(ttl)


def test_issue15_turtle_parses_to_the_ntriples_of_the_same_run_pyoxigraph(runs, ttl_quads):
    nt = _oxigraph(runs["nt"], ox.RdfFormat.N_TRIPLES)
    assert ttl_quads == nt and len(nt) > 50_000


def test_issue15_trig_parses_to_the_nquads_of_the_same_run_rdflib(runs):
    nq, trig = _rdflib_quads(runs["nq"], "nquads"), _rdflib_quads(runs["trig"], "trig")
    assert trig == nq
    names = {str(g) for *_, g in nq}
    assert f"{SK}case/x./provenance" in names and any(n.startswith(f"{SK}kb/") for n in names)


def test_issue15_trig_parses_to_the_nquads_of_the_same_run_pyoxigraph(runs):
    nq = _oxigraph(runs["nq"], ox.RdfFormat.N_QUADS)
    assert _oxigraph(runs["trig"], ox.RdfFormat.TRIG) == nq
    assert len({q.graph_name for q in nq}) >= GENERATED + 5 + 1  # a graph per case, and the KB's


@pytest.mark.parametrize("case_id", ODD_IDS)
def test_issue15_a_case_id_no_prefixed_name_can_hold_round_trips(runs, ttl_quads, case_id):
    text = runs["ttl"].read_text(encoding="utf-8")
    assert f"\n<{case_id}> a sk:Case ;" in text and f"\n<{case_id}/plan> a sk:Plan ;" in text  # relative to @base
    case = ox.NamedNode(f"{SK}case/{case_id}")
    assert ox.Quad(case, ox.NamedNode("http://purl.org/dc/terms/identifier"), ox.Literal(case_id)) in ttl_quads


def test_issue15_prefixes_are_declared_once_at_the_top(runs):
    for kind in ("ttl", "trig"):
        text = runs[kind].read_text(encoding="utf-8")
        assert text.startswith(f"@base <{SK}case/> .\n@prefix sk: <{SK}> .\n")
        assert all(text.count(f"@prefix {name}: ") == 1 for name in COHORT.names)
        assert text.count("@base") == 1 and text.count(f"<{SK}case/") == 1  # every case IRI relative to the base


@pytest.mark.parametrize(("small", "big"), [("ttl", "nt"), ("trig", "nq")])
def test_issue15_a_cases_turtle_is_at_most_40_percent_of_its_ntriples(examples, small, big):
    r = default_reasoner()
    cases = len((examples[big].parent / f"plans-{big}.jsonl").read_text(encoding="utf-8").splitlines())
    per_case = {k: (examples[k].stat().st_size - len(cohort._kb_part(r, k))) / cases for k in (small, big)}
    assert cases >= 5 and per_case[small] <= 0.4 * per_case[big], per_case


def test_issue15_a_resumed_turtle_run_writes_the_header_once_and_the_same_file(tmp_path, monkeypatch):
    source = _cohort_folder(tmp_path / "cases", 40)
    monkeypatch.setattr(cohort, "datetime", _Frozen)
    whole = tmp_path / "whole.trig"
    run_cohort(source, tmp_path / "whole.jsonl", provenance=whole, batch_size=10, progress=False)

    real, calls = cohort.reason_batch, []

    def dying(*args):
        calls.append(1)
        if len(calls) == 3:
            raise KeyboardInterrupt
        return real(*args)

    monkeypatch.setattr(cohort, "reason_batch", dying)
    prov = tmp_path / "prov.trig"
    with pytest.raises(KeyboardInterrupt):
        run_cohort(source, tmp_path / "plans.jsonl", provenance=prov, batch_size=10, progress=False)
    assert not prov.exists() and (tmp_path / ".prov.trig.partial").exists()
    monkeypatch.setattr(cohort, "reason_batch", real)
    stats = run_cohort(source, tmp_path / "plans.jsonl", provenance=prov, batch_size=10, resume=True, progress=False)
    assert stats.resumed_from == 20
    assert prov.read_bytes() == whole.read_bytes()
    assert prov.read_text(encoding="utf-8").count("@prefix sk:") == 1


def test_issue15_cli_writes_turtle_and_names_the_syntaxes(spinekg, tmp_path):
    source = _cohort_folder(tmp_path / "cases", 3)
    out = spinekg("cohort", source, "--output", tmp_path / "p.jsonl", "--provenance", tmp_path / "p.ttl")
    assert out.returncode == 0, out.stderr
    assert len(_oxigraph(tmp_path / "p.ttl", ox.RdfFormat.TURTLE)) > 1000
    out = spinekg("cohort", source, "--output", tmp_path / "q.jsonl", "--provenance", tmp_path / "p.rdf")
    assert out.returncode == 2 and ".ttl (Turtle) or .trig (TriG)" in out.stderr
    assert not (tmp_path / "q.jsonl").exists()
    out = spinekg("cohort", "--help")
    assert "FILE.ttl" in out.stdout and "FILE.trig" in out.stdout


# --- the conversion itself -------------------------------------------------------------------------------------

P = "<http://example.org/p>"


@pytest.mark.parametrize(
    ("iri", "written"),
    [
        ("https://w3id.org/spinekg/nsaid", "sk:nsaid"),
        ("https://w3id.org/spinekg/disc_L4-L5", "sk:disc_L4-L5"),
        ("https://w3id.org/spinekg/0.1.0", "sk:0.1.0"),  # a digit first, '.' inside: a PN_LOCAL of Turtle 1.1
        ("https://w3id.org/spinekg/", "sk:"),
        ("https://w3id.org/spinekg/x.", "<https://w3id.org/spinekg/x.>"),  # '.' last
        ("https://w3id.org/spinekg/-x", "<https://w3id.org/spinekg/-x>"),  # '-' first
        ("https://w3id.org/spinekg/kb/0.1.0+3ef8", "<https://w3id.org/spinekg/kb/0.1.0+3ef8>"),  # '+'
        ("https://w3id.org/spinekg/a%20b", "<https://w3id.org/spinekg/a%20b>"),  # '%'
        ("https://w3id.org/spinekg/a:b", "<https://w3id.org/spinekg/a:b>"),  # ':' (valid, but kept plain)
        ("https://w3id.org/spinekg/\\u00E9", "<https://w3id.org/spinekg/\\u00E9>"),  # an escape
        ("https://w3id.org/spinekg/rule/default", "rule:default"),
        ("https://w3id.org/spinekg/case/a..b/step/1", "<a..b/step/1>"),
        ("https://w3id.org/spinekg/case/x./plan", "<x./plan>"),
        ("https://w3id.org/spinekg/case/x/../y", "<https://w3id.org/spinekg/case/x/../y>"),  # a dot segment
        ("https://w3id.org/spinekg/case/./y", "<https://w3id.org/spinekg/case/./y>"),
        ("https://w3id.org/spinekg/case/a//b", "<https://w3id.org/spinekg/case/a//b>"),  # an empty segment
        ("https://w3id.org/spinekg/case/a?b", "<https://w3id.org/spinekg/case/a?b>"),
        ("https://w3id.org/spinekg/case/", "<https://w3id.org/spinekg/case/>"),
        ("http://www.w3.org/ns/oa#hasTarget", "oa:hasTarget"),
        ("http://www.w3.org/ns/oa#a/b", "<http://www.w3.org/ns/oa#a/b>"),
        ("urn:x:y", "<urn:x:y>"),
    ],
)
def test_issue15_an_iri_is_shortened_only_where_turtle_reads_it_back(iri, written):
    nt = f"<{iri}> {P} <{iri}> .\n"
    assert turtle(nt) == f"{written} {P} {written} .\n"
    _same(nt)


@pytest.mark.parametrize(
    "literal",
    [
        '"plain"',
        '"tab\\t quote\\" backslash\\\\ newline\\n \\u00E9 \\U0001F600 é"',
        '"ending in a backslash\\\\"',
        '"with . and ;, and <https://w3id.org/spinekg/nsaid> inside"',
        '"chat"@fr',
        '"colour"@en-GB',
        '"3"^^<http://www.w3.org/2001/XMLSchema#integer>',
        '"x"^^<http://example.org/dt#a.>',
        '""',
    ],
)
def test_issue15_a_literal_is_written_as_ntriples_writes_it(literal):
    nt = f"<https://w3id.org/spinekg/s> {P} {literal} .\n"
    lexical = literal[: literal.rfind('"') + 1]
    assert turtle(nt).startswith(f"sk:s {P} {lexical}")
    _same(nt)


def test_issue15_subjects_and_objects_are_grouped_blank_nodes_kept_and_repeats_dropped():
    s, t = "<https://w3id.org/spinekg/case/c/step/1>", "<http://www.w3.org/1999/02/22-rdf-syntax-ns#type>"
    nt = (
        f"{s} {t} <https://w3id.org/spinekg/PlanStep> .\n{s} {P} _:b1 .\n_:b1 {P} {s} .\n"
        f'{s} {t} <http://www.w3.org/ns/prov#Entity> .\n{s} {P} _:b1 .\n{s} {P} "x" .\n'
    )
    assert turtle(nt) == f'<c/step/1> a sk:PlanStep, prov:Entity ;\n  {P} _:b1, "x" .\n_:b1 {P} <c/step/1> .\n'
    _same(nt)


def test_issue15_blank_lines_comments_and_other_spacing_are_read_line_by_line():
    nt = f"# a comment\n\n<urn:a>  {P}\t<urn:b> . # why\r\n<urn:a> {P} <urn:c> .\n   \n"
    assert turtle(nt) == f"<urn:a> {P} <urn:b>, <urn:c> .\n"


@pytest.mark.parametrize(
    "line",
    [
        f"<urn:a> {P} .",
        f"<urn:a> {P} <urn:b>",
        f'"lit" {P} <urn:b> .',
        "<urn:a> _:p <urn:b> .",
        f'<urn:a> {P} "open .',
        f"<urn:a> {P} <urn:b> <urn:c> .",
        f"<urn:a b> {P} <urn:c> .",
    ],
)
def test_issue15_text_that_is_not_ntriples_is_refused_naming_the_line(line):
    with pytest.raises(ValueError, match="line 2"):
        turtle(f"<urn:x> {P} <urn:y> .\n{line}\n")


def test_issue15_a_trig_graph_and_a_prefix_table_of_ones_own():
    p = Prefixes({"ex": "http://example.org/"}, base="http://example.org/case/")
    block = turtle(f"<http://example.org/case/1/a> {P} <http://example.org/b> .\n", p, "http://example.org/case/1/g")
    assert block == "<1/g> {\n<1/a> ex:p ex:b .\n}\n"
    quads = set(ox.parse(p.header() + block, ox.RdfFormat.TRIG))
    g = ox.NamedNode("http://example.org/case/1/g")
    assert quads == {
        ox.Quad(
            ox.NamedNode("http://example.org/case/1/a"), ox.NamedNode(P[1:-1]), ox.NamedNode("http://example.org/b"), g
        )
    }
    with pytest.raises(ValueError, match="must be an IRI ending"):
        Prefixes({"ex": "http://example.org/x"})
    with pytest.raises(ValueError, match="not a Turtle prefix"):
        Prefixes({"1x": "http://example.org/"})


def _same(nt: str) -> None:
    """``nt`` and its Turtle (under the cohort header) parse to the same graph in rdflib and in pyoxigraph."""
    doc = COHORT.header() + turtle(nt)
    a, b = Graph().parse(data=nt, format="nt"), Graph().parse(data=doc, format="turtle")
    assert isomorphic(a, b), doc
    assert set(ox.parse(nt, ox.RdfFormat.N_TRIPLES)) == set(ox.parse(doc, ox.RdfFormat.TURTLE)), doc
