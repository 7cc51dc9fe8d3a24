# gate: violations same-course-condition
# names: sk:condition_FailedTreatment_physical_therapy
# A failed-treatment condition on physical therapy, a class the KB says is the same course as exercise therapy: the condition rules would not count a failed exercise course for it, while the plan's already-tried logic does.
PREFIX sk: <https://w3id.org/spinekg/>
PREFIX rdfs: <http://www.w3.org/2000/01/rdf-schema#>
INSERT DATA {
  sk:condition_FailedTreatment_physical_therapy a sk:FailedTreatment ; sk:treatment sk:physical_therapy .
  sk:rec_001_08 sk:hasCondition sk:condition_FailedTreatment_physical_therapy .
}
