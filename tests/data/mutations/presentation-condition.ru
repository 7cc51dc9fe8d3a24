# gate: violations presentation-condition
# names: sk:rec_002_01
# A recommendation conditioned on a presentation that is not a defined clinical presentation (a finding type).
PREFIX sk: <https://w3id.org/spinekg/>
DELETE { ?c sk:presentation ?p } INSERT { ?c sk:presentation sk:radicular_pain } WHERE {
  sk:rec_002_01 sk:hasCondition ?c . ?c a sk:PresentationPresent ; sk:presentation ?p .
}
