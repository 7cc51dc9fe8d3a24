"""``python -m bench.statements`` names and times every statement a batch runs in the embedded store, and leaves the
store as it found it."""

from __future__ import annotations

from bench import statements
from reasoner.reasoning import stores


def test_every_rule_statement_of_a_batch_is_timed_by_its_id_and_the_store_is_restored(capsys):
    update, rows = stores.LocalStore.update, stores.LocalStore.rows
    total, spent = statements.statements(30)
    assert (stores.LocalStore.update, stores.LocalStore.rows) == (update, rows)
    # rules are named by their "#+ id:" line where the store is given it (condition and collection rules)
    assert {"no-prior-imaging-fails", "finding-present-holds", "fact-types"} <= set(spent)
    assert all(seconds >= 0 for seconds in spent.values()) and 0 < sum(spent.values()) <= total
    assert statements.main(["--n", "10", "--top", "3"]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[0].startswith("10 cases, one batch, embedded store:") and len(out) == 4


def test_a_statement_without_an_id_is_named_by_its_first_words():
    assert statements.name("#+ id: finding-present-holds\nSELECT ?x WHERE { ?x ?p ?o }") == "finding-present-holds"
    assert statements.name("PREFIX sk: <https://w3id.org/spinekg/>\n  INSERT { ?x a sk:A }") == ("INSERT { ?x a sk:A }")
