"""SPARQL: the query library, parameter binding, the read-only endpoint and its guard."""
