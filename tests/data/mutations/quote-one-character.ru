# gate: quotes
# names: sk:ev_002_02
# A quote changed by one character.
PREFIX sk: <https://w3id.org/spinekg/>
PREFIX prov: <http://www.w3.org/ns/prov#>
PREFIX rdfs: <http://www.w3.org/2000/01/rdf-schema#>
PREFIX rdf: <http://www.w3.org/1999/02/22-rdf-syntax-ns#>
PREFIX owl: <http://www.w3.org/2002/07/owl#>
PREFIX skos: <http://www.w3.org/2004/02/skos/core#>
PREFIX dcterms: <http://purl.org/dc/terms/>
PREFIX oa: <http://www.w3.org/ns/oa#>
DELETE { ?s oa:exact ?x } INSERT { ?s oa:exact "NSAIDs are the first-line analgesic for pain control in lumbosacral radiculopathY" } WHERE { sk:ev_002_02 oa:hasTarget/oa:hasSelector ?s . ?s oa:exact ?x }
