"""Facts the case implies but no user types, derived by the SPARQL rules of ``rules/derive/``.

Each rule is a file with an id and an "if … then …" summary (``#+ infers:`` names the class it adds); the
engine runs them to a fixpoint together with the compiled class definitions (:mod:`reasoner.reasoning.classify`), so a
presentation defined on a derived fact sees it. They are rules, not OWL axioms (joins of imaging, anatomy and
symptoms on the same side; a closed-world reading of where a pain is recorded), so the HermiT agreement test
gives HermiT the classes they infer as asserted. (The episode length the duration phases rest on is written by
the case reader, ``case.episode``: its pain first.)
"""

from __future__ import annotations

from .. import rules
from ..consts import SK
from .classify import Rule


def _infers(rule: rules.RuleFile) -> str:
    return str(SK) + rule.meta["infers"].removeprefix("sk:")


#: The derivation rules, as the engine runs them (the class each infers, its update).
RULES: tuple[Rule, ...] = tuple(Rule(_infers(r), r.body) for r in rules.load("derive"))

#: The classes only these rules infer (the HermiT agreement test gives them to HermiT as asserted).
DERIVED_CLASSES = frozenset(rule.cls for rule in RULES)
