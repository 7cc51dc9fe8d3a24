"""Namespaces and fixed IRIs of spinekg (namespaces only, no logic)."""

from __future__ import annotations

from rdflib import Namespace, URIRef
from rdflib.namespace import DCTERMS, OWL, PROV, RDF, RDFS, SKOS, XSD


class _Terms(Namespace):
    """A namespace whose terms are made once: ``SK.x`` and ``SK["x"]`` run in the plan's inner loops, and rdflib
    checks and builds a new URIRef on every lookup."""

    _made: dict[tuple[str, str], URIRef] = {}

    def term(self, name: str) -> URIRef:
        key = (str(self), name if isinstance(name, str) else "")
        made = self._made.get(key)
        if made is None:
            if len(self._made) > 50_000:  # names made from case values: keep the memo bounded
                self._made.clear()
            made = self._made[key] = super().term(name)
        return made


SK = _Terms("https://w3id.org/spinekg/")
#: the namespace as a plain string, for IRIs built in loops (``SK_IRI + name``)
SK_IRI = str(SK)
OA = Namespace("http://www.w3.org/ns/oa#")
SH = Namespace("http://www.w3.org/ns/shacl#")

PREFIXES = {
    "sk": SK,
    "oa": OA,
    "prov": PROV,
    "dcterms": DCTERMS,
    "rdfs": RDFS,
    "rdf": RDF,
    "owl": OWL,
    "skos": SKOS,
    "xsd": XSD,
    "sh": SH,
}

__all__ = ["SK", "SK_IRI", "OA", "SH", "PREFIXES", "DCTERMS", "OWL", "PROV", "RDF", "RDFS", "SKOS", "XSD"]
