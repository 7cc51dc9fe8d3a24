# gate: dl
# names: ontology
# An individual that is both a finding and an intervention, which core declares disjoint.
PREFIX sk: <https://w3id.org/spinekg/>
PREFIX prov: <http://www.w3.org/ns/prov#>
PREFIX rdfs: <http://www.w3.org/2000/01/rdf-schema#>
PREFIX rdf: <http://www.w3.org/1999/02/22-rdf-syntax-ns#>
PREFIX owl: <http://www.w3.org/2002/07/owl#>
PREFIX skos: <http://www.w3.org/2004/02/skos/core#>
PREFIX dcterms: <http://purl.org/dc/terms/>
PREFIX oa: <http://www.w3.org/ns/oa#>
INSERT DATA { sk:bad_individual a owl:NamedIndividual, sk:Finding, sk:Intervention ; rdfs:label "bad individual" ; skos:definition "x" }
