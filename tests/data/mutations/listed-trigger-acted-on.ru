# gate: violations listed-trigger
# names: sk:night_pain
# A finding annotated as a red flag's listed trigger that spinekg does not act on alone, made a subclass of that red flag.
PREFIX sk: <https://w3id.org/spinekg/>
PREFIX rdfs: <http://www.w3.org/2000/01/rdf-schema#>
INSERT DATA { sk:night_pain rdfs:subClassOf sk:malignancy_suspected }
