# gate: violations citation-status
# names: sk:ev_001_02
# A marker of an article with no reference list recorded as dangling instead of unresolved.
PREFIX sk: <https://w3id.org/spinekg/>
PREFIX prov: <http://www.w3.org/ns/prov#>
PREFIX rdfs: <http://www.w3.org/2000/01/rdf-schema#>
PREFIX rdf: <http://www.w3.org/1999/02/22-rdf-syntax-ns#>
PREFIX owl: <http://www.w3.org/2002/07/owl#>
PREFIX skos: <http://www.w3.org/2004/02/skos/core#>
PREFIX dcterms: <http://purl.org/dc/terms/>
PREFIX oa: <http://www.w3.org/ns/oa#>
DELETE { ?c sk:citationStatus ?s } INSERT { ?c sk:citationStatus sk:dangling } WHERE { sk:ev_001_02 sk:citation ?c . ?c sk:citationStatus ?s }
