"""Facts the case implies but no user types, derived by SPARQL rules that run with the OWL classification.

Each rule has an id and an "if … then …" summary; the engine runs them to a fixpoint together with the
compiled class definitions (:mod:`reasoner.classify`), so a presentation defined on a derived fact sees it.
They are rules, not OWL axioms (joins of imaging, anatomy and symptoms on the same side; a closed-world reading
of where a pain is recorded), so the HermiT agreement test gives HermiT the classes they infer as asserted. (The
episode length the duration phases rest on is written by the case reader, ``casegraph.episode_weeks``.)
"""

from __future__ import annotations

from .classify import Rule
from .consts import SK

S = f"<{SK}"

ROOT_COMPRESSION = Rule(
    str(SK.nerve_root_compression),
    f"""INSERT {{ ?f a {S}nerve_root_compression> ; {S}compressesRoot> ?root ; {S}concordantWith> ?s }} WHERE {{
  ?f {S}inCase> ?case ; {S}atDiscLevel> ?level ; a ?type .
  VALUES ?type {{ {S}disc_protrusion> {S}disc_extrusion> {S}disc_herniation> {S}foraminal_stenosis>
                 {S}lateral_recess_stenosis> {S}canal_stenosis> }}
  FILTER(?type IN ({S}disc_protrusion>, {S}disc_extrusion>, {S}disc_herniation>)
         || EXISTS {{ ?f {S}severity> ?sev FILTER(?sev IN ({S}moderate>, {S}severe>)) }})
  ?type {S}rootReach> ?default .
  OPTIONAL {{ ?f {S}zone> ?zone . ?zone {S}rootReach> ?zoneVia }}
  BIND(COALESCE(?zoneVia, ?default) AS ?via)
  ?level ?via ?root .
  ?derm {S}dermatomeOfRoot> ?root .
  ?s {S}inCase> ?case .
  {{ ?s a {S}radicular_pain> }} UNION {{ ?s a {S}SensorySymptom> }} UNION {{ ?s a {S}weakness> }}
  {{ ?s {S}inDermatome> ?derm }} UNION {{ ?s {S}inBodyRegion> ?region . ?region {S}spansDermatome> ?derm }}
  OPTIONAL {{ ?f {S}laterality> ?fside }}
  OPTIONAL {{ ?s {S}laterality> ?sside }}
  FILTER(!(BOUND(?fside) && BOUND(?sside) && ?fside IN ({S}left>, {S}right>) && ?sside IN ({S}left>, {S}right>)
           && ?fside != ?sside))
}}""",
)
"""infer-root-compression: if an imaging finding that can compress a root (a disc herniation, or a moderate or
severe stenosis) sits at a disc level whose zone reaches a root, and a radicular, sensory or motor symptom is
recorded in that root's dermatome on the same side (or either side is not given), then the finding is a nerve
root compression of that root, concordant with that symptom."""

LUMBOSACRAL_RADICULAR_PAIN = Rule(
    str(SK.lumbosacral_radicular_pain),
    f"""INSERT {{ ?s a {S}lumbosacral_radicular_pain> }} WHERE {{
  ?s {S}inCase> ?case ; a {S}radicular_pain> .
  FILTER NOT EXISTS {{ ?s {S}inDermatome> ?d . ?d {S}order> ?o . {S}dermatome_L1> {S}order> ?l1 . FILTER(?o < ?l1) }}
  FILTER NOT EXISTS {{ ?s {S}inBodyRegion> {S}hands> }}
}}""",
)
"""derive-lumbosacral-radicular-pain: if a radicular pain is recorded in no dermatome above L1 and not in the
hands, then it is lumbosacral radicular pain (a closed-world reading of the record: OWL cannot say "in no
cervical or thoracic dermatome")."""

RULES: tuple[Rule, ...] = (ROOT_COMPRESSION, LUMBOSACRAL_RADICULAR_PAIN)

#: The classes only these rules infer (the HermiT agreement test gives them to HermiT as asserted).
DERIVED_CLASSES = frozenset({str(SK.nerve_root_compression), str(SK.lumbosacral_radicular_pain)})
