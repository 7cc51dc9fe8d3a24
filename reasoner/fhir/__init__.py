"""FHIR R4: a case read from a Bundle, a plan written as one, and the codes both use."""
