"""The knowledge base's normal form of Turtle: prefixes, the ``owl:Ontology`` header, then subjects in id order."""

from __future__ import annotations

import io
import re
from pathlib import Path

from rdflib import Graph, URIRef
from rdflib.compare import isomorphic, to_canonical_graph
from rdflib.plugins.serializers.longturtle import LongTurtleSerializer

from ..consts import OWL, RDF
from ..errors import KBLoadError

_NUMBER = re.compile(r"(\d+)")


def id_order(node: object) -> tuple:
    """A sort key that reads numbers as numbers, so ``ev_000_2`` comes before ``ev_000_10``.

    >>> sorted(["ev_000_10", "ev_000_9", "ev_000_22", "ev_001_01"], key=id_order)
    ['ev_000_9', 'ev_000_10', 'ev_000_22', 'ev_001_01']
    """
    parts = _NUMBER.split(str(node))
    return tuple((0, int(p), p) if p.isdigit() else (1, 0, p) for p in parts)


class _CuratorTurtle(LongTurtleSerializer):
    """``longturtle`` with the module's ``owl:Ontology`` header first and named subjects in id order.

    rdflib's own order puts typed top classes first and the rest by reference count, so a module's header
    landed hundreds of lines down and ``ev_000_01`` came after ``ev_000_22``. Blank nodes referenced once
    stay nested under their subject, as ``longturtle`` writes them.
    """

    def orderSubjects(self) -> list:  # noqa: N802 (rdflib's name)
        base = super().orderSubjects()  # keeps rdflib's order of the blank nodes, which its list writing relies on
        headers = sorted((s for s in base if (s, RDF.type, OWL.Ontology) in self.store), key=id_order)
        named = sorted((s for s in base if isinstance(s, URIRef) and s not in headers), key=id_order)
        return [*headers, *named, *(s for s in base if not isinstance(s, URIRef))]


def _strip_trailing_space(text: str) -> str:
    """Every line without trailing spaces, and no whitespace-only lines, outside triple-quoted literals."""
    out: list[str] = []
    in_long = False
    for line in text.split("\n"):
        if not in_long:
            stripped = line.rstrip()
            if stripped or not line:
                out.append(stripped)
        else:
            out.append(line)
        if line.count('"""') % 2 == 1:
            in_long = not in_long
    return "\n".join(out)


def normal_form(graph: Graph, path: Path | str = "<graph>") -> str:
    """``graph`` as normalised Turtle: blank nodes relabelled canonically (``rdflib.compare``), the prefixes of
    the graph, the ``owl:Ontology`` header first, subjects in id order, no trailing spaces. The text parses back
    to a graph isomorphic to ``graph`` (checked: a serialiser change that altered content raises).
    """
    g = Graph(bind_namespaces="none")
    for prefix, ns in graph.namespaces():
        g.bind(prefix, ns)
    for triple in to_canonical_graph(graph):
        g.add(triple)
    stream = io.BytesIO()
    _CuratorTurtle(g).serialize(stream, encoding="utf-8")
    text = _strip_trailing_space(stream.getvalue().decode("utf-8"))
    back = Graph().parse(data=text, format="turtle")
    if not isomorphic(back, graph):
        raise KBLoadError(f"{path}: the normalised Turtle does not parse back to the same graph")
    return text
