"""Issue 15: a cohort's outputs gzip-compressed when their names end in .gz: the same bytes once decompressed, a
gzip member per batch that any gzip reader takes as one stream, and an interrupted run resumed at a member boundary."""

from __future__ import annotations

import gzip
import json
import shutil
import subprocess
import zlib
from pathlib import Path

import pytest
from rdflib import Graph

from bench.generate import generate
from reasoner.cohort import run as cohort
from reasoner.cohort.run import run_cohort


@pytest.fixture(scope="module")
def cases(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("gz") / "cases.jsonl"
    path.write_text("".join(json.dumps(doc) + "\n" for doc in generate(40, seed=15)), encoding="utf-8")
    return path


def members(path: Path) -> int:
    """How many gzip members the file holds (each one checked whole: its CRC and length)."""
    data, n = path.read_bytes(), 0
    while data:
        d = zlib.decompressobj(31)
        d.decompress(data)
        assert d.eof, f"{path}: a member is cut short"
        data, n = d.unused_data, n + 1
    return n


def timeless(text: str) -> list[str]:
    return sorted(x for x in text.splitlines() if "AtTime" not in x)


@pytest.mark.parametrize("syntax", ["nt", "ttl"])
def test_gzip_outputs_are_the_plain_outputs_compressed_a_member_per_batch(cases, tmp_path, syntax):
    plain = {"output": tmp_path / "plans.jsonl", "provenance": tmp_path / f"p.{syntax}", "summary": tmp_path / "s.csv"}
    packed = {k: v.with_name(v.name + ".gz") for k, v in plain.items()}
    run_cohort(cases, plain["output"], provenance=plain["provenance"], summary=plain["summary"], batch_size=10)
    run_cohort(cases, packed["output"], provenance=packed["provenance"], summary=packed["summary"], batch_size=10)

    assert gzip.decompress(packed["output"].read_bytes()) == plain["output"].read_bytes()
    assert gzip.decompress(packed["summary"].read_bytes()) == plain["summary"].read_bytes()
    prov = gzip.decompress(packed["provenance"].read_bytes()).decode()
    assert timeless(prov) == timeless(plain["provenance"].read_text())
    # the KB part is named after the plans, compressed too, and is the same part
    part = gzip.decompress((tmp_path / "plans.jsonl.gz").with_name("plans.kb.json.gz").read_bytes())
    assert part == (tmp_path / "plans.kb.json").read_bytes()
    # the header and first batch, then one member for each of the other three batches
    assert members(packed["output"]) == members(packed["provenance"]) == 4
    assert len(packed["provenance"].read_bytes()) * 5 < len(prov.encode())
    g = Graph().parse(gzip.open(packed["provenance"]), format="nt" if syntax == "nt" else "turtle")
    assert len(g) == len(Graph().parse(plain["provenance"], format="nt" if syntax == "nt" else "turtle"))
    if shutil.which("gzip"):
        out = subprocess.run(["gzip", "-dc", str(packed["output"])], capture_output=True, check=True)
        assert out.stdout == plain["output"].read_bytes()


def test_an_interrupted_gzip_run_resumes_at_a_member_boundary(cases, tmp_path, monkeypatch):
    whole = tmp_path / "whole.jsonl.gz"
    run_cohort(cases, whole, provenance=tmp_path / "whole.nt.gz", batch_size=10)

    real, calls = cohort.reason_batch, []

    def dying(r, raws, source, kind, *rest):
        calls.append(len(raws))
        out = real(r, raws, source, kind, *rest)
        if len(calls) == 3:
            raise KeyboardInterrupt(out)
        return out

    monkeypatch.setattr(cohort, "reason_batch", dying)
    out, prov = tmp_path / "plans.jsonl.gz", tmp_path / "p.nt.gz"
    with pytest.raises(KeyboardInterrupt):
        run_cohort(cases, out, provenance=prov, batch_size=10)
    partial = tmp_path / ".plans.jsonl.gz.partial"
    assert members(partial) == 2  # two batches recorded
    with partial.open("ab") as f:
        f.write(gzip.compress(b'{"case": "half')[:20])  # a member cut short by a kill

    calls.clear()
    monkeypatch.setattr(cohort, "reason_batch", lambda *a: (calls.append(len(a[1])), real(*a))[1])
    stats = run_cohort(cases, out, provenance=prov, batch_size=10, resume=True)
    assert stats.resumed_from == 20 and sum(calls) == 20
    assert gzip.decompress(out.read_bytes()) == gzip.decompress(whole.read_bytes())
    assert timeless(gzip.decompress(prov.read_bytes()).decode()) == timeless(
        gzip.decompress((tmp_path / "whole.nt.gz").read_bytes()).decode()
    )
    assert members(out) == 4


def test_a_gzip_output_with_nothing_to_say_is_still_a_gzip_file(tmp_path):
    src = tmp_path / "in.jsonl"
    src.write_text('{"id": "a", "age": -1}\n')
    out = tmp_path / "plans.jsonl.gz"
    stats = run_cohort(src, out, errors=open(tmp_path / "err.txt", "w"))
    assert stats.rejected == 1 and members(out) == 1 and gzip.decompress(out.read_bytes()) == b""


@pytest.mark.parametrize("name", ["p.rdf.gz", "p.gz", "p.nt.gzip"])
def test_a_provenance_name_of_no_syntax_is_refused_before_anything_is_written(spinekg, tmp_path, name):
    src = tmp_path / "in.jsonl"
    src.write_text('{"id": "a"}\n')
    out = spinekg("cohort", src, "--output", tmp_path / "p.jsonl", "--provenance", tmp_path / name)
    assert out.returncode == 2 and f"{name} must end in .nt" in out.stderr and "with .gz after it" in out.stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == ["in.jsonl"]


def test_a_gzip_input_gives_the_plans_of_the_plain_one(cases, tmp_path):
    packed = tmp_path / "cases.jsonl.gz"
    packed.write_bytes(gzip.compress(cases.read_bytes()))
    run_cohort(cases, tmp_path / "plain.jsonl", batch_size=15)
    stats = run_cohort(packed, tmp_path / "packed.jsonl", batch_size=15)
    assert stats.planned == 40 and (tmp_path / "packed.jsonl").read_bytes() == (tmp_path / "plain.jsonl").read_bytes()


@pytest.mark.parametrize("damage", ["cut", "not gzip"])
def test_a_damaged_gzip_input_is_refused_before_any_output_is_made(spinekg, cases, tmp_path, damage):
    data = gzip.compress(cases.read_bytes())
    src = tmp_path / "in.jsonl.gz"
    src.write_bytes(data[: len(data) // 2] if damage == "cut" else cases.read_bytes())
    out = spinekg("cohort", src, "--output", tmp_path / "p.jsonl", "--provenance", tmp_path / "p.nt.gz")
    assert out.returncode == 2 and f"{src}: is not a whole gzip file" in out.stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == ["in.jsonl.gz"]  # no partial or state file either
