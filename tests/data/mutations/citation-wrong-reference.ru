# gate: violations citation-status
# names: sk:ev_000_02
# A citation given another article's reference (no article's list resolves a marker now: 000 and 003 miss entries,
# the others print none; the check still fails any sk:citesReference that is not the marker's own entry).
PREFIX sk: <https://w3id.org/spinekg/>
PREFIX prov: <http://www.w3.org/ns/prov#>
PREFIX rdfs: <http://www.w3.org/2000/01/rdf-schema#>
PREFIX rdf: <http://www.w3.org/1999/02/22-rdf-syntax-ns#>
PREFIX owl: <http://www.w3.org/2002/07/owl#>
PREFIX skos: <http://www.w3.org/2004/02/skos/core#>
PREFIX dcterms: <http://purl.org/dc/terms/>
PREFIX oa: <http://www.w3.org/ns/oa#>
INSERT { ?c sk:citesReference sk:ref_003_1 } WHERE { sk:ev_000_02 sk:citation ?c }
