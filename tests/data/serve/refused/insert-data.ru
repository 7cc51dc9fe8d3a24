# status: 403
# says: read-only
INSERT DATA { <https://w3id.org/spinekg/nsaid> <http://www.w3.org/2000/01/rdf-schema#label> "changed" }
