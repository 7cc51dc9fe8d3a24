# gate: violations disjoint-types
# names: sk:bad_individual
# An inconsistent axiom, named: an individual that is both a finding and an intervention, which core declares disjoint.
PREFIX sk: <https://w3id.org/spinekg/>
PREFIX rdfs: <http://www.w3.org/2000/01/rdf-schema#>
PREFIX owl: <http://www.w3.org/2002/07/owl#>
PREFIX skos: <http://www.w3.org/2004/02/skos/core#>
INSERT DATA { sk:bad_individual a owl:NamedIndividual, sk:Finding, sk:Intervention ; rdfs:label "bad individual" ; skos:definition "x" }
