"""The rule files run in this process, without a SPARQL store: their algebra compiled once, evaluated over Python
indexes of the knowledge base and of one batch of cases.

The SPARQL rules (``reasoner/rules``) and the compiled class definitions stay the reference semantics: they run
unchanged in pyoxigraph or on any SPARQL 1.1 store (:mod:`..stores`). :class:`PythonStore` is a
:class:`..stores.Backend` that runs *the same texts* another way: each is parsed once by rdflib's SPARQL parser
into its algebra, the algebra is turned into plain tuples (kept with the compiled rules in the KB cache, so a
command does not parse), and the tuples are evaluated over two indexes, the KB's (built once) and the batch's.
What made the store slow for one case was its fixed cost per statement and plans that joined the KB over and over;
here,

- a part of a query that can match only KB triples is evaluated once per store and joined by hash (the
  conditions of the recommendations, the subclass paths): a triple pattern whose predicate or class the batch
  does not hold, and one whose subject such a pattern binds (while no subject of the batch is a KB term);
- a basic graph pattern is joined from what is already bound (index nested loops, most selective pattern first);
- where only which solutions there are matters (``SELECT DISTINCT``, ``INSERT``), a variable only one triple
  pattern names (``?rec`` of ``?rec sk:hasCondition ?cond``) is checked for a match, not bound once per match;
- the solutions of a ``rdfs:subClassOf*`` path from a KB class are remembered.

It pays for a few cases at a time (one case reasons about twice as fast as in pyoxigraph); from a few dozen cases
at a time the store is faster, so the reasoner's default engine, ``auto``, uses each where it is
(:mod:`reasoner.reasoning.engine`).

Only the algebra the rules use is supported (an unsupported operator is an error when a rule is compiled, never a
wrong answer): BGPs with property paths, join, OPTIONAL, UNION, MINUS, FILTER (with EXISTS), BIND, VALUES,
sub-SELECT, DISTINCT, GROUP BY with COUNT/MAX/MIN/SAMPLE, and ``INSERT … WHERE``. Results are bags as SPARQL
defines them; a triple held by both graphs is seen twice, as pyoxigraph's union default graph sees it. Numeric
literals are written as pyoxigraph writes them (``3.0`` as ``3``). rdflib's algebra drops a ``FILTER`` whose
expression is a false constant; the compiler keeps it. The test suite proves the reasoning, plans and provenance
equal to the store's on the examples, the acceptance vignettes and generated cases (and, in a ``long`` test, on
100,000 generated cases).
"""

from __future__ import annotations

from .plans import compile_text, existentials, freeze, thaw
from .store import BATCH_GRAPH, PythonStore
from .terms import Blank, Lit, Unsupported, Var, parse_nt

__all__ = [
    "BATCH_GRAPH",
    "Blank",
    "Lit",
    "PythonStore",
    "Unsupported",
    "Var",
    "compile_text",
    "existentials",
    "freeze",
    "parse_nt",
    "thaw",
]
