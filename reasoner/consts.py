"""Namespaces and fixed IRIs of spinekg (namespaces only, no logic)."""

from __future__ import annotations

from rdflib import Namespace
from rdflib.namespace import DCTERMS, OWL, PROV, RDF, RDFS, SKOS, XSD

SK = Namespace("https://w3id.org/spinekg/")
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

__all__ = ["SK", "OA", "SH", "PREFIXES", "DCTERMS", "OWL", "PROV", "RDF", "RDFS", "SKOS", "XSD"]
