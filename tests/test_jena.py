"""The query library is portable (issue 14): every query, its parameters bound by a standard VALUES clause, gives
the same rows on Apache Jena ARQ (Debian's libapache-jena-java) as in spinekg, over the same data."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import time
import zipfile
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from reasoner.sparql import library as queries
from reasoner.sparql import results

pytestmark = pytest.mark.jena

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = sorted((ROOT / "examples").glob("*.yaml"))
JARS = Path(os.environ.get("SPINEKG_JENA_JARS", "/usr/share/java"))
# arq.sparql and what it loads: Jena's own jars and the Debian libraries libapache-jena-java depends on
CLASSPATH = (
    "jena-cmds jena-arq jena-core jena-base jena-iri jena-shacl jena-shex jena-tdb jena-tdb2 jena-dboe-base "
    "jena-dboe-index jena-dboe-storage jena-dboe-trans-data jena-dboe-transaction jena-rdfconnection commons-cli "
    "commons-codec commons-compress commons-csv commons-io commons-lang3 dexx.collection gson guava "
    "jackson-annotations jackson-core jackson-databind jsonld-java slf4j-api slf4j-nop thrift protobuf httpclient "
    "httpcore"
).split()
# jena-core's copy of Xerces looks its regex messages up under their original package name
MESSAGES = "org/apache/jena/ext/xerces/impl/xpath/regex/message.properties"
# each query with its example parameters, plus the other side of the ones that have two
EXTRA = {"term-mappings": [{"mapped": "true"}]}
CASES = [(q, params) for q in queries.list_queries() for params in [q.example_params, *EXTRA.get(q.name, [])]]


def case_id(case) -> str:
    query, params = case
    return "-".join([query.name, *(v.rsplit(":", 1)[-1] for v in params.values())])


def needs_jena() -> list[Path]:
    """The classpath, or a skip that says what is missing (a failure on CI, where .ci/run installs it)."""
    missing = ["java"] if shutil.which("java") is None else []
    missing += [f"{JARS}/{j}.jar" for j in CLASSPATH if not (JARS / f"{j}.jar").is_file()]
    if missing:
        why = f"Jena ARQ needs {', '.join(missing)}: apt-get install libapache-jena-java (.ci/run does)"
        if os.environ.get("CI"):
            pytest.fail(why)
        pytest.skip(why)
    return [JARS / f"{j}.jar" for j in CLASSPATH]


def arq(classpath: str, data: Path, query: Path) -> dict:
    """One query on Jena ARQ (one JVM each: arq.sparql takes one query), its SPARQL 1.1 JSON results."""
    done = subprocess.run(
        ["java", "-XX:TieredStopAtLevel=1", "-XX:+UseSerialGC", "-cp", classpath, "arq.sparql", "--strict"]
        + ["--data", str(data), "--query", str(query), "--results=json"],
        capture_output=True,
        text=True,
        timeout=120,
    )
    if done.returncode != 0:
        return {"error": f"exit status {done.returncode}: {done.stderr.strip()[-2000:]}"}
    return json.loads(done.stdout)


@pytest.fixture(scope="module")
def answers(tmp_path_factory) -> dict:
    """Every library query run on Jena over the KB and the example cases, two JVMs at a time."""
    jars = needs_jena()
    folder = tmp_path_factory.mktemp("jena")
    with zipfile.ZipFile(JARS / "jena-core.jar") as jar:
        target = folder / "classes" / MESSAGES.removeprefix("org/apache/jena/ext/")
        target.parent.mkdir(parents=True)
        target.write_bytes(jar.read(MESSAGES))
    classpath = os.pathsep.join([str(folder / "classes"), *map(str, jars)])
    data = queries.dataset(EXAMPLES)
    (folder / "data.nt").write_bytes(data.graph.serialize(format="nt", encoding="utf-8"))
    files = {}
    for case in CASES:
        files[case_id(case)] = folder / f"{case_id(case)}.rq"
        files[case_id(case)].write_text(queries.bound_text(*case), encoding="utf-8")
    started = time.monotonic()
    with ThreadPoolExecutor(max_workers=2) as pool:
        ran = pool.map(lambda f: arq(classpath, folder / "data.nt", f), files.values())
        results = dict(zip(files, ran, strict=True))
    print(f"\nJena ARQ: {len(files)} queries in {time.monotonic() - started:.1f} s")
    return {"data": data, "jena": results}


def normal(kind: str, value: str, datatype: str | None, lang: str | None) -> tuple:
    """A term to compare: blank nodes by kind only (their labels are each engine's own); a plain literal is an
    xsd:string one (RDF 1.1); a language tag in lower case."""
    if kind == "bnode":
        return ("bnode",)
    if kind in ("literal", "typed-literal"):
        plain = datatype in (None, "http://www.w3.org/2001/XMLSchema#string")
        return ("literal", value, None if plain else datatype, lang.lower() if lang else None)
    return (kind, value)


def jena_rows(doc: dict, columns: tuple[str, ...]) -> Counter:
    def cell(b: dict | None):
        return b and normal(b["type"], b["value"], b.get("datatype"), b.get("xml:lang"))

    return Counter(tuple(cell(row.get(c)) for c in columns) for row in doc["results"]["bindings"])


def spinekg_rows(table: results.ResultTable) -> Counter:
    return Counter(tuple(t and normal(t.kind, t.value, t.datatype, t.lang) for t in row) for row in table.terms)


@pytest.mark.parametrize("case", CASES, ids=case_id)
def test_issue14_library_query_gives_the_same_rows_on_jena_arq(case, answers):
    query, params = case
    doc = answers["jena"][case_id(case)]
    assert "error" not in doc, f"Jena ARQ could not run {query.name}: {doc.get('error')}"
    ours = queries.run(query.name, params, data=answers["data"])
    assert tuple(doc["head"]["vars"]) == ours.columns
    theirs = jena_rows(doc, ours.columns)
    assert len(ours) > 0
    assert theirs == spinekg_rows(ours), f"only on Jena: {theirs - spinekg_rows(ours)}"
