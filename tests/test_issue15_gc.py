"""Issue 15: while a batch is reasoned, Python's cyclic collector runs every GC_THRESHOLD allocations instead of 700,
and the caller's setting is back afterwards, also after an error."""

from __future__ import annotations

import gc

import pytest

from reasoner.api import default_reasoner, reason
from reasoner.cohort import run as cohort
from reasoner.reasoning import engine
from reasoner.reasoning.engine import GC_THRESHOLD, fewer_collections


@pytest.fixture
def default_threshold():
    saved = gc.get_threshold()
    gc.set_threshold(700, 10, 10)
    yield
    gc.set_threshold(*saved)


def test_the_threshold_is_raised_for_the_block_and_put_back_after_an_error(default_threshold):
    with pytest.raises(KeyError):
        with fewer_collections():
            assert gc.get_threshold() == (GC_THRESHOLD, 10, 10)
            with fewer_collections():  # nested: left as the outer block set it
                assert gc.get_threshold()[0] == GC_THRESHOLD
            assert gc.get_threshold()[0] == GC_THRESHOLD
            raise KeyError("x")
    assert gc.get_threshold() == (700, 10, 10)


def test_a_collector_set_higher_or_turned_off_is_left_alone(default_threshold):
    gc.set_threshold(500_000, 5, 5)
    with fewer_collections():
        assert gc.get_threshold() == (500_000, 5, 5)
    gc.set_threshold(700, 10, 10)
    gc.disable()
    try:
        with fewer_collections():
            assert gc.get_threshold() == (700, 10, 10) and not gc.isenabled()
    finally:
        gc.enable()


def test_reasoning_and_the_cohort_batch_run_with_the_raised_threshold(default_threshold, monkeypatch):
    seen: list[tuple[str, int]] = []
    collect, assemble = engine.Reasoner._collect, cohort.assemble

    def collecting(self, *args):
        seen.append(("rules", gc.get_threshold()[0]))
        return collect(self, *args)

    def assembling(r, run):
        seen.append(("plan", gc.get_threshold()[0]))
        return assemble(r, run)

    monkeypatch.setattr(engine.Reasoner, "_collect", collecting)
    monkeypatch.setattr(cohort, "assemble", assembling)
    plan = reason([{"id": "gc-1", "symptoms": [{"type": "axial_pain", "duration_weeks": 2}]}])[0].plan
    assert plan.steps and seen == [("rules", GC_THRESHOLD)] and gc.get_threshold() == (700, 10, 10)

    seen.clear()
    records = cohort.reason_batch(default_reasoner(), [(0, "line 1", b'{"id": "gc-2", "age": 50}')], "x.jsonl", None)
    assert records[0].plan is not None and gc.get_threshold() == (700, 10, 10)
    assert seen == [("rules", GC_THRESHOLD), ("plan", GC_THRESHOLD)]  # the assembly too, outside the rules
