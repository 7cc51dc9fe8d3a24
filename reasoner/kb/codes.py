"""External code systems: their CURIE prefixes and IRIs, and the checks a code passes (Verhoeff, LOINC mod-10, form)."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

__all__ = [
    "CURIE_PATTERN",
    "SYSTEMS",
    "System",
    "code_problem",
    "curie_of_iri",
    "icd10cm_problem",
    "loinc_check_digit",
    "loinc_valid",
    "split_curie",
    "verhoeff_check_digit",
    "verhoeff_valid",
]

# --- Verhoeff (SNOMED CT check digit) ------------------------------------------------------------------------

_D = (
    (0, 1, 2, 3, 4, 5, 6, 7, 8, 9),
    (1, 2, 3, 4, 0, 6, 7, 8, 9, 5),
    (2, 3, 4, 0, 1, 7, 8, 9, 5, 6),
    (3, 4, 0, 1, 2, 8, 9, 5, 6, 7),
    (4, 0, 1, 2, 3, 9, 5, 6, 7, 8),
    (5, 9, 8, 7, 6, 0, 4, 3, 2, 1),
    (6, 5, 9, 8, 7, 1, 0, 4, 3, 2),
    (7, 6, 5, 9, 8, 2, 1, 0, 4, 3),
    (8, 7, 6, 5, 9, 3, 2, 1, 0, 4),
    (9, 8, 7, 6, 5, 4, 3, 2, 1, 0),
)
#: Verhoeff's permutations: row i is the i-th power of (1 5 8 9 4 2 7 0)(3 6), computed rather than typed in
#: (a mistyped row passes the textbook vectors and fails real SNOMED CT ids).
_P1 = (1, 5, 7, 6, 2, 8, 3, 0, 9, 4)
_P = [tuple(range(10))]
for _ in range(7):
    _P.append(tuple(_P1[x] for x in _P[-1]))
_INV = (0, 4, 3, 2, 1, 5, 6, 7, 8, 9)


def _verhoeff(digits: str, offset: int) -> int:
    c = 0
    for i, ch in enumerate(reversed(digits)):
        c = _D[c][_P[(i + offset) % 8][int(ch)]]
    return c


def verhoeff_check_digit(digits: str) -> str:
    """The Verhoeff check digit to append to ``digits`` (a string of decimal digits).

    >>> verhoeff_check_digit("13887500")
    '5'
    """
    if not digits.isascii() or not digits.isdigit():
        raise ValueError(f"{digits!r} is not a string of digits")
    return str(_INV[_verhoeff(digits, 1)])


def verhoeff_valid(code: str) -> bool:
    """Whether the last digit of ``code`` is its Verhoeff check digit (SNOMED CT ids carry one).

    >>> verhoeff_valid("138875005"), verhoeff_valid("138875006"), verhoeff_valid("1388750O5")
    (True, False, False)
    """
    return isinstance(code, str) and code.isascii() and code.isdigit() and _verhoeff(code, 0) == 0


# --- LOINC mod-10 --------------------------------------------------------------------------------------------


def loinc_check_digit(number: str) -> str:
    """The LOINC mod-10 check digit of a LOINC code number (the part before the hyphen).

    LOINC's rule: double the digits in odd positions counted from the right, add up the digits of
    everything, and the check digit takes the sum to the next multiple of ten.

    >>> loinc_check_digit("30679")
    '5'
    """
    if not number.isascii() or not number.isdigit():
        raise ValueError(f"{number!r} is not a string of digits")
    total = 0
    for i, ch in enumerate(reversed(number)):
        d = int(ch) * (2 if i % 2 == 0 else 1)
        total += d // 10 + d % 10
    return str((10 - total % 10) % 10)


_LOINC = re.compile(r"([1-9][0-9]{0,6})-([0-9])")


def loinc_valid(code: str) -> bool:
    """Whether ``code`` is a LOINC code (``NNNNN-C``) whose check digit is right.

    >>> loinc_valid("30679-5"), loinc_valid("30797-1")
    (True, False)
    """
    m = _LOINC.fullmatch(code) if isinstance(code, str) else None
    return m is not None and loinc_check_digit(m[1]) == m[2]


# --- ICD-10-CM format ----------------------------------------------------------------------------------------

_ICD10CM = re.compile(r"[A-Z][0-9][0-9A-Z](?:\.[0-9A-Z]{1,4})?")


def icd10cm_problem(code: str) -> str | None:
    """What is wrong with the form of an ICD-10-CM code, or None: a letter, a digit, a digit or letter, then
    optionally a dot and one to four digits or capital letters (``M51.369``, ``M80.08XA``). The form only: whether
    the code exists is the mapping tables' business.

    >>> icd10cm_problem("M51.369") is None, icd10cm_problem("M5136")
    (True, 'an ICD-10-CM code has a dot after its third character (M51.36)')
    """
    if _ICD10CM.fullmatch(code):
        return None
    if re.fullmatch(r"[A-Z][0-9][0-9A-Z][0-9A-Z]{1,4}", code):
        return f"an ICD-10-CM code has a dot after its third character ({code[:3]}.{code[3:]})"
    if _ICD10CM.fullmatch(code.upper()):
        return f"an ICD-10-CM code is written in capital letters ({code.upper()})"
    return "not the form of an ICD-10-CM code (a letter, a digit, a digit or letter, then '.' and up to 4 more)"


# --- the systems ---------------------------------------------------------------------------------------------


def _pattern(rx: str, form: str) -> Callable[[str], str | None]:
    compiled = re.compile(rx)
    return lambda code: None if compiled.fullmatch(code) else f"not the form of {form}"


def _sctid_problem(code: str) -> str | None:
    if not re.fullmatch(r"[1-9][0-9]{5,17}", code):
        return "not the form of a SNOMED CT id (6 to 18 digits, no leading zero)"
    if code[-3:-1] not in ("00", "10"):
        return f"not a SNOMED CT concept id (partition identifier {code[-3:-1]!r}: concepts have 00 or 10)"
    if not verhoeff_valid(code):
        return "the Verhoeff check digit of this SNOMED CT id fails"
    return None


def _loinc_problem(code: str) -> str | None:
    if not _LOINC.fullmatch(code):
        return "not the form of a LOINC code (digits, '-', one check digit)"
    return None if loinc_valid(code) else "the mod-10 check digit of this LOINC code fails"


@dataclass(frozen=True)
class System:
    """An external code system: CURIE prefix, name, the IRI a code is appended to, its concept-scheme IRI, and
    the check of a code's form (None when the code passes)."""

    prefix: str
    name: str
    iri: str
    scheme: str
    check: Callable[[str], str | None]
    obo: bool = False  # an OBO ontology: its ids are written with the prefix (HP:0008419)

    def problem(self, code: str) -> str | None:
        """What is wrong with ``code`` in this system, or None."""
        return self.check(code)

    def notation(self, code: str) -> str:
        """The code as the system writes it: ``26538006``, ``M51.36``, but ``HP:0008419`` for an OBO ontology.

        >>> SYSTEMS["HP"].notation("0008419"), SYSTEMS["SCTID"].notation("26538006")
        ('HP:0008419', '26538006')
        """
        return f"{self.prefix}:{code}" if self.obo else code


#: The systems the mappings use, by CURIE prefix. Codes get the system's own IRIs where it publishes them
#: (SNOMED CT, LOINC, OBO), else the BioPortal PURL (ICD-10-CM, RxNorm, ATC). Concept schemes are the FHIR
#: system URIs (SNOMED CT, ICD-10-CM, LOINC, RxNorm, ATC), the OBO ontology IRIs, and the RadLex Playbook's site.
SYSTEMS: dict[str, System] = {
    s.prefix: s
    for s in (
        System("SCTID", "SNOMED CT", "http://snomed.info/id/", "http://snomed.info/sct", _sctid_problem),
        System(
            "ICD10CM",
            "ICD-10-CM",
            "http://purl.bioontology.org/ontology/ICD10CM/",
            "http://hl7.org/fhir/sid/icd-10-cm",
            icd10cm_problem,
        ),
        System("LOINC", "LOINC", "https://loinc.org/", "http://loinc.org", _loinc_problem),
        System(
            "RPID",
            "RadLex Playbook",
            "http://radlex.org/RPID/",
            "http://playbook.radlex.org",
            _pattern(r"RPID[1-9][0-9]*", "a RadLex Playbook id (RPID and digits)"),
        ),
        System(
            "UBERON",
            "UBERON",
            "http://purl.obolibrary.org/obo/UBERON_",
            "http://purl.obolibrary.org/obo/uberon.owl",
            _pattern(r"[0-9]{7}", "an UBERON id (7 digits)"),
            obo=True,
        ),
        System(
            "FMA",
            "FMA",
            "http://purl.obolibrary.org/obo/FMA_",
            "http://purl.obolibrary.org/obo/fma.owl",
            _pattern(r"[1-9][0-9]*", "an FMA id (digits)"),
            obo=True,
        ),
        System(
            "HP",
            "HPO",
            "http://purl.obolibrary.org/obo/HP_",
            "http://purl.obolibrary.org/obo/hp.owl",
            _pattern(r"[0-9]{7}", "an HPO id (7 digits)"),
            obo=True,
        ),
        System(
            "RXNORM",
            "RxNorm",
            "http://purl.bioontology.org/ontology/RXNORM/",
            "http://www.nlm.nih.gov/research/umls/rxnorm",
            _pattern(r"[1-9][0-9]*", "an RxNorm id (digits)"),
        ),
        System(
            "ATC",
            "ATC",
            "http://purl.bioontology.org/ontology/ATC/",
            "http://www.whocc.no/atc",
            _pattern(r"[A-Z](?:[0-9]{2}(?:[A-Z](?:[A-Z](?:[0-9]{2})?)?)?)?", "an ATC code (such as M01AE01)"),
        ),
    )
}

#: What a case may give instead of a spinekg id: a known prefix, a colon, and a code (checked further by its system).
CURIE_PATTERN = "^(" + "|".join(SYSTEMS) + "):[A-Za-z0-9][A-Za-z0-9.-]*$"


def split_curie(text: object) -> tuple[System, str] | None:
    """``(system, code)`` when ``text`` is ``PREFIX:code`` with a known prefix, else None.

    >>> system, code = split_curie("SCTID:26538006")
    >>> system.name, code
    ('SNOMED CT', '26538006')
    >>> split_curie("radicular_pain") is None and split_curie("sctid:26538006") is None
    True
    """
    if not isinstance(text, str) or ":" not in text:
        return None
    prefix, code = text.split(":", 1)
    system = SYSTEMS.get(prefix)
    return (system, code) if system is not None else None


def code_problem(curie: str) -> str | None:
    """What is wrong with the code of a CURIE of a known system, or None.

    >>> code_problem("SCTID:138875005") is None, code_problem("SCTID:138875006")
    (True, 'the Verhoeff check digit of this SNOMED CT id fails')
    """
    found = split_curie(curie)
    if found is None:
        return f"{curie!r} is not PREFIX:code with a known prefix ({', '.join(SYSTEMS)})"
    system, code = found
    return system.problem(code)


def curie_of_iri(iri: str) -> str | None:
    """The CURIE of a code IRI of a known system, or None.

    >>> curie_of_iri("http://snomed.info/id/26538006"), curie_of_iri("https://w3id.org/spinekg/nsaid")
    ('SCTID:26538006', None)
    """
    for system in SYSTEMS.values():
        if iri.startswith(system.iri) and len(iri) > len(system.iri):
            return f"{system.prefix}:{iri[len(system.iri) :]}"
    return None
