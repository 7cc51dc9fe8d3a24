"""The code systems spinekg reads and writes in FHIR, and how a coding resolves to a case vocabulary term."""

from __future__ import annotations

import functools
import uuid

from ..case.model import vocabulary
from ..kb.mappings import resolve as resolve_curie

__all__ = [
    "SK_SYSTEM",
    "SNOMED",
    "ICD10CM",
    "LOINC",
    "EXT",
    "LOINC_STUDIES",
    "LOINC_MEASUREMENTS",
    "UCUM",
    "UNITS",
    "curie_term",
    "external_problem",
    "fhir_uuid",
    "resolve",
]

#: The project's own CodeSystem: a code is the local name of a spinekg IRI (``dermatome_S2`` is sk:dermatome_S2).
SK_SYSTEM = "https://w3id.org/spinekg/"
SNOMED = "http://snomed.info/sct"
ICD10CM = "http://hl7.org/fhir/sid/icd-10-cm"
LOINC = "http://loinc.org"
UCUM = "http://unitsofmeasure.org"
#: The project's extensions (no FHIR R4 core element carries laterality, progression or a new imaging finding).
EXT = "https://w3id.org/spinekg/fhir/StructureDefinition/"
CLINICAL = "http://terminology.hl7.org/CodeSystem/condition-clinical"
VERIFICATION = "http://terminology.hl7.org/CodeSystem/condition-ver-status"
INTERPRETATION = "http://terminology.hl7.org/CodeSystem/v3-ObservationInterpretation"
#: Lumbar spine study codes, each a ``verified`` LOINC row of shared/reference/codes.csv: (modality, contrast).
LOINC_STUDIES = {
    "24963-1": ("CT", None),  # CT Lumbar spine
    "30620-9": ("CT", False),  # CT Lumbar spine WO contrast
    "24968-0": ("MRI", None),  # MR Lumbar spine
    "30679-5": ("MRI", False),  # MR Lumbar spine WO contrast
    "24967-2": ("MRI", True),  # MR Lumbar spine WO and W contrast IV
}
#: Measurement codes, each a ``corroborated`` LOINC row of shared/reference/codes.csv (none is ``verified``): the
#: (case field, key) the code records. The first code of a key is the one written.
LOINC_MEASUREMENTS = {
    "8310-5": ("vitals", "temperature_c"),  # Body temperature
    "1988-5": ("labs", "crp_mg_l"),  # C reactive protein [Mass/volume] in Serum or Plasma
    "30341-2": ("labs", "esr_mm_h"),  # Erythrocyte sedimentation rate
    "4537-7": ("labs", "esr_mm_h"),  # Erythrocyte sedimentation rate by Westergren method
    "6690-2": ("labs", "wbc_10e9_l"),  # Leukocytes [#/volume] in Blood by Automated count
}
#: The UCUM unit (code, display) of each measurement key: a value in any other unit is refused, never converted.
UNITS = {
    "temperature_c": ("Cel", "°C"),
    "crp_mg_l": ("mg/L", "mg/L"),
    "esr_mm_h": ("mm/h", "mm/h"),
    "wbc_10e9_l": ("10*9/L", "10*9/L"),
}
#: The prefix a case gives a code of an external system (the case reader resolves it through the SSSOM mappings).
CURIE_PREFIX = {SNOMED: "SCTID", ICD10CM: "ICD10CM"}
_UUID_NS = uuid.UUID("6f3c1d2e-5b4a-5c1e-9d7f-2a8b3c4d5e6f")


def fhir_uuid(*parts: object) -> str:
    """A stable UUID (version 5) for a resource named by ``parts``: the same parts give the same id.

    >>> fhir_uuid("case-1", "step", 1) == fhir_uuid("case-1", "step", 1) != fhir_uuid("case-1", "step", 2)
    True
    """
    return str(uuid.uuid5(_UUID_NS, "/".join(str(p) for p in parts)))


@functools.lru_cache(maxsize=1)
def _by_iri() -> dict[str, tuple[tuple[str, str], ...]]:
    """Every vocabulary IRI with the (field, case id) pairs it stands for."""

    vocab = vocabulary()
    out: dict[str, list[tuple[str, str]]] = {}
    for name in vocab.__dataclass_fields__:
        for case_id, iri in getattr(vocab, name).items():
            out.setdefault(str(iri), []).append((name, case_id))
    return {iri: tuple(pairs) for iri, pairs in out.items()}


def external_problem(system: str, code: str) -> str | None:
    """What is wrong with a SNOMED CT / ICD-10-CM code itself (a failing check digit, a malformed code), or None.

    >>> external_problem(SNOMED, "44077007")
    'the Verhoeff check digit of this SNOMED CT id fails'
    """

    return resolve_curie(f"{CURIE_PREFIX[system]}:{code}").problem


def resolve(system: str, code: str) -> tuple[tuple[str, str], ...]:
    """The (vocabulary field, case id) pairs a coding stands for; empty when it names no spinekg term.

    A SNOMED CT or ICD-10-CM code stands for the terms its exact and narrower mappings establish
    (``ontology/mappings/``); a close or broader mapping establishes nothing.

    >>> resolve(SK_SYSTEM, "dermatome_S2"), resolve(SK_SYSTEM, "disc_L4-L5")
    ((('dermatomes', 'S2'),), (('disc_levels', 'L4-L5'),))
    >>> resolve(SNOMED, "44077006"), resolve(SK_SYSTEM, "nonsense")
    ((('symptom_types', 'numbness'),), ())
    """
    table = _by_iri()
    if system == SK_SYSTEM:
        return table.get(SK_SYSTEM + code, ())
    if system in CURIE_PREFIX:
        terms = resolve_curie(f"{CURIE_PREFIX[system]}:{code}").terms
        return tuple(pair for iri in terms for pair in table.get(str(iri), ()))
    return ()


def curie_term(curie: str, field: str) -> tuple[str, ...]:
    """The case ids of ``field`` that a ``SCTID:…`` / ``ICD10CM:…`` code resolves to."""
    prefix, _, code = curie.partition(":")
    system = next((s for s, p in CURIE_PREFIX.items() if p == prefix), None)
    return tuple(v for f, v in resolve(system, code) if f == field) if system else ()
