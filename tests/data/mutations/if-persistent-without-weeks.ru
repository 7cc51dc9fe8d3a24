# gate: shacl
# names: sk:rec_000_15
# 'If persistent' with no number of weeks and no failed-treatment condition.
PREFIX sk: <https://w3id.org/spinekg/>
PREFIX prov: <http://www.w3.org/ns/prov#>
PREFIX rdfs: <http://www.w3.org/2000/01/rdf-schema#>
PREFIX rdf: <http://www.w3.org/1999/02/22-rdf-syntax-ns#>
PREFIX owl: <http://www.w3.org/2002/07/owl#>
PREFIX skos: <http://www.w3.org/2004/02/skos/core#>
PREFIX dcterms: <http://purl.org/dc/terms/>
PREFIX oa: <http://www.w3.org/ns/oa#>
DELETE WHERE { sk:rec_000_15 sk:afterWeeks ?w }
