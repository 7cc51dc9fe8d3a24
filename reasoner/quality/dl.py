"""OWL 2 DL reasoning with owlready2 and HermiT: consistency of the merged ontology and classification."""

from __future__ import annotations

import os
import tempfile
from dataclasses import dataclass

from rdflib import Graph


@dataclass(frozen=True)
class DLResult:
    """The outcome of a HermiT run: whether the ontology is consistent, and the unsatisfiable classes."""

    consistent: bool
    unsatisfiable: tuple[str, ...]
    message: str = ""


def _load(graph: Graph, tmp: str):
    """Write ``graph`` as N-Triples without ``owl:imports`` (the modules are merged already) and load it."""
    import owlready2
    from rdflib.namespace import OWL

    g = Graph()
    for triple in graph:
        if triple[1] != OWL.imports:
            g.add(triple)
    path = os.path.join(tmp, "kb.nt")
    g.serialize(path, format="nt", encoding="utf-8")
    world = owlready2.World()
    onto = world.get_ontology("file://" + path).load(format="ntriples")
    return world, onto


def check_consistency(graph: Graph) -> DLResult:
    """Load ``graph`` into owlready2 (as N-Triples: owlready2 does not read Turtle) and run HermiT.

    Needs a Java runtime (``java`` on the PATH).
    """
    import owlready2

    with tempfile.TemporaryDirectory() as tmp:
        world, onto = _load(graph, tmp)
        try:
            with onto:
                owlready2.sync_reasoner_hermit(world, infer_property_values=False, debug=0)
        except owlready2.OwlReadyInconsistentOntologyError as exc:
            return DLResult(False, (), f"HermiT: the ontology is inconsistent ({exc})")
        unsat = tuple(sorted(c.iri for c in world.inconsistent_classes() if c is not owlready2.Nothing))
        msg = "consistent" if not unsat else "unsatisfiable classes: " + ", ".join(unsat)
        return DLResult(True, unsat, msg)


def classify_individuals(graph: Graph) -> dict[str, set[str]]:
    """Run HermiT over ``graph`` and return, for every named individual, the IRIs of its inferred classes."""
    import owlready2

    with tempfile.TemporaryDirectory() as tmp:
        world, onto = _load(graph, tmp)
        list(world.classes())  # owlready2 applies inferred subclass links only to classes already loaded
        with onto:
            owlready2.sync_reasoner_hermit(world, infer_property_values=False, debug=0)
        out: dict[str, set[str]] = {}
        for ind in world.individuals():
            classes = set()
            for c in ind.is_a:
                if isinstance(c, owlready2.ThingClass):
                    classes.add(c.iri)
                    classes.update(a.iri for a in c.ancestors() if isinstance(a, owlready2.ThingClass))
            out[ind.iri] = classes
        return out


def entails_type(graph: Graph, individual: str, cls: str) -> bool:
    """Whether ``graph`` entails that ``individual`` is a ``cls``, by refutation: HermiT finds ``graph`` plus
    ``individual`` a (not ``cls``) inconsistent.

    :func:`classify_individuals` reads HermiT's realization, which is sound but not always complete: on one and the
    same file it left out ``back_pain_after_50`` (a datatype restriction on the patient's age under a union) in about
    half of the runs, listing ``Finding`` as a direct type instead. Refutation is HermiT's consistency test itself and
    gave the same answer on every run, so use it to settle a type the realization and another engine disagree on.
    """
    from rdflib import BNode, URIRef
    from rdflib.namespace import OWL, RDF

    g = Graph()
    for triple in graph:
        g.add(triple)
    complement = BNode()
    g.add((complement, RDF.type, OWL.Class))
    g.add((complement, OWL.complementOf, URIRef(cls)))
    g.add((URIRef(individual), RDF.type, complement))
    return not check_consistency(g).consistent
