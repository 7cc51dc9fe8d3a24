"""The reasoning rules as SPARQL files, each with an id and an "if … then …" summary, read by the engine.

One file a rule, in four folders: ``conditions/`` decide the recommendations' conditions for every case
(each row, ``?case ?cond`` with the ``?fact`` or ``?missing`` field, speaks for a ``#+ status:`` of a ``#+ kind:``
of condition, in every recommendation that has it), ``collect/`` gather what the plan
needs, ``classify/`` and ``derive/`` are updates run to a fixpoint with the class definitions compiled from
the ontology (``derive/`` rules infer a class OWL cannot define, ``#+ infers:``). The id is the file name;
the tests (one per id), the documentation and the provenance of each decided condition use it.

Writing a rule that pyoxigraph runs fast (with these, and with rules that cannot match skipped, reasoning one
case went from 34 ms to 8 ms): start from the case's records and join the knowledge base's conditions after them;
keep a broad pattern (``?x a ?t``) inside each ``UNION`` branch rather than after the ``UNION``; bind a variable
predicate by a triple pattern, not by ``BIND`` (after a ``BIND``, ``?level ?via ?root`` read every triple of the
store); find the few fields a case lacks in a sub-``SELECT`` before joining the conditions that need them. Compare
the rows before and after on generated cases alone and in batches: a rewrite must give the same rows, as a
multiset.

The same texts also run in process (:mod:`reasoner.reasoning.inproc`), which implements only the SPARQL the rules
use: basic graph patterns with property paths, OPTIONAL, UNION, MINUS, FILTER (with EXISTS and the functions
``isIRI``, ``isNumeric``, ``isLiteral``, ``isBlank``, ``BOUND``, ``STR``, ``STRSTARTS``, ``COALESCE``, ``IN``),
BIND, VALUES, sub-SELECT, DISTINCT, GROUP BY with COUNT, MAX, MIN and SAMPLE, and ``INSERT … WHERE``. A rule using
anything else is refused when the rules are compiled (``Unsupported``, naming it): add it there, with a case in
``tests/test_issue15_inproc.py`` comparing it with pyoxigraph.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path

from ..consts import SK

RULES_DIR = Path(__file__).resolve().parent
GROUPS = ("conditions", "collect", "classify", "derive")
_HEADER = re.compile(r"^#\+ (\w+): (.*)$")


@dataclass(frozen=True)
class RuleFile:
    """One rule: its id, group, summary, the other ``#+`` header fields, and its SPARQL text."""

    id: str
    group: str
    summary: str
    text: str
    meta: dict[str, str] = field(default_factory=dict, compare=False)

    @property
    def iri(self) -> str:
        """The rule's IRI, as the provenance of a decision names it."""
        return f"{SK}rule/{self.id}"

    @property
    def body(self) -> str:
        """The SPARQL without the ``#+`` header (``PREFIX`` lines kept)."""
        return "\n".join(line for line in self.text.splitlines() if not line.startswith("#")).strip()


def _read(path: Path, group: str) -> RuleFile:
    meta: dict[str, str] = {}
    text = path.read_text(encoding="utf-8")
    for line in text.splitlines():
        m = _HEADER.match(line)
        if not m:
            break
        meta[m.group(1)] = m.group(2).strip()
    if meta.get("id") != path.stem or not meta.get("summary", "").startswith("if "):
        raise ValueError(f"{path}: a rule opens with '#+ id: {path.stem}' and '#+ summary: if … then …'")
    return RuleFile(path.stem, group, meta["summary"], text, meta)


@cache
def load(group: str) -> tuple[RuleFile, ...]:
    """The rules of one group, in id order.

    >>> ids = [r.id for r in load("derive")]
    >>> ids == sorted(ids) and {"derive-low-back-axial-pain", "infer-root-compression"} <= set(ids)
    True
    >>> {p.stem for p in (RULES_DIR / "derive").glob("*.rq")} == set(ids)  # every file of the group, no other
    True
    """
    if group not in GROUPS:
        raise ValueError(f"{group!r} is not one of {', '.join(GROUPS)}")
    return tuple(_read(p, group) for p in sorted((RULES_DIR / group).glob("*.rq")))


def all_rules() -> tuple[RuleFile, ...]:
    """Every rule of every group."""
    return tuple(r for g in GROUPS for r in load(g))


def rule(rule_id: str) -> RuleFile:
    """The rule with this id, in whichever group.

    >>> rule("finding-present-holds").meta["status"]
    'holds'
    """
    for r in all_rules():
        if r.id == rule_id:
            return r
    raise KeyError(f"no rule {rule_id!r} in {RULES_DIR}")


def text(rule_id: str) -> str:
    """A rule's SPARQL text as a query engine takes it (the ``#+`` lines are comments)."""
    return rule(rule_id).text
