"""A broken copy of the knowledge base is caught, by the right gate, with a message naming the term.

Each file in tests/data/mutations/ is a SPARQL Update that breaks one thing; its header says which gate
must catch it (``# gate: shacl`` or ``# gate: violations CHECK``) and which term the message must name.
That the unbroken KB passes every gate is tested in test_gates.py.
"""

from __future__ import annotations

import pytest

from reasoner.quality import gates as v

from constants import MUTATIONS

CASES = sorted(MUTATIONS.glob("*.ru"))


def header(path, key):
    for line in path.read_text(encoding="utf-8").splitlines():
        if line.startswith(f"# {key}:"):
            return line.split(":", 1)[1].strip()
    raise AssertionError(f"{path.name}: no '# {key}:' header")


def run_gate(gate: str, graph, seeds_dir=None):
    if gate == "shacl":
        return v.run_shacl(graph)
    if gate == "violations":
        return v.run_violation_checks(graph)
    if gate == "quotes":
        return v.check_quotes(graph, seeds_dir)
    if gate == "dl":
        return v.check_dl(graph)
    raise AssertionError(gate)


@pytest.mark.parametrize("path", [p for p in CASES if not header(p, "gate").startswith("dl")], ids=lambda p: p.stem)
def test_mutation_is_caught(path, kb_copy, seeds_dir):
    gate, *check = header(path, "gate").split()
    names = header(path, "names")
    kb_copy.update(path.read_text(encoding="utf-8"))
    problems = run_gate(gate, kb_copy, seeds_dir)
    if check:
        problems = [p for p in problems if p.check == check[0]]
    assert problems, f"{path.name}: gate {gate} {check} did not catch the mutation"
    assert any(names == p.entity or names in p.message for p in problems), [str(p) for p in problems]


@pytest.mark.java
@pytest.mark.parametrize("path", [p for p in CASES if header(p, "gate") == "dl"], ids=lambda p: p.stem)
def test_dl_mutation_is_caught(path, kb_copy, java):
    names = header(path, "names")
    kb_copy.update(path.read_text(encoding="utf-8"))
    problems = v.check_dl(kb_copy)
    assert problems and any(names == p.entity for p in problems), [str(p) for p in problems]


def test_every_violation_check_has_a_mutation_that_fires_it():
    """No check that cannot fail: each *-violation.rq is the expected catcher of some mutation file."""
    covered = {header(p, "gate").split()[1] for p in CASES if header(p, "gate").startswith("violations")}
    checks = {p.name.removesuffix("-violation.rq") for p in v.check_paths()}
    assert checks <= covered, f"violation checks with no mutation test: {sorted(checks - covered)}"
