"""Read FHIR R4 data types for the case reader: codings to vocabulary terms, spinekg extensions, dates to weeks."""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field
from typing import cast

from ..case.model import CaseProblem
from .codes import (
    CURIE_PREFIX,
    EXT,
    ICD10CM,
    INTERPRETATION,
    LOINC,
    LOINC_MEASUREMENTS,
    LOINC_STUDIES,
    SK_SYSTEM,
    SNOMED,
    curie_term,
    external_problem,
    resolve,
)

_FIELD_NOUN = {
    "symptom_types": "a symptom type",
    "risk_factors": "a risk factor",
    "imaging_finding_types": "an imaging finding type",
    "scores": "a score",
    "start_back": "a STarT Back risk group",
    "candidacy": "a candidacy",
    "body_regions": "a body region",
    "dermatomes": "a dermatome",
    "disc_levels": "a disc level",
    "vertebrae": "a vertebra",
    "laterality": "a laterality",
    "severity": "a severity",
    "modality": "a modality",
    "interventions": "an intervention",
    "outcome": "an outcome",
    "sex": "a sex",
    "zone": "an imaging zone",
    "vitals": "a vital sign",
    "labs": "a laboratory result",
    "screen_result": "a red-flag screen result",
}
#: The extensions whose value is a CodeableConcept (by the vocabulary field it names), and those whose value is an
#: integer; every other spinekg extension is a valueBoolean.
_CODED_EXT = {"laterality": "laterality", "zone": "zone"}
_INTEGER_EXT = ("strength-mrc",)
#: Vocabulary fields whose case field is a ``type``: there the case reader takes ``SCTID:…`` / ``ICD10CM:…`` itself.
CODED_FIELDS = ("symptom_types", "imaging_finding_types", "interventions")
_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
#: The earliest year a date of a Bundle may give (a birth, an onset, a study, a treatment): an onset in year 1 once
#: gave a duration of 105,000 weeks. Durations are held to 100 years by the case reader too (``case.MAX_WEEKS``).
MIN_YEAR = 1900
_WEEK = 7 * 24 * 3600


def weeks(seconds: float) -> int | float:
    """Seconds as weeks, an int when whole.

    >>> weeks(14 * 24 * 3600), weeks(3.5 * 24 * 3600)
    (2, 0.5)
    """
    n = seconds / _WEEK
    return int(n) if n == int(n) else n


@dataclass
class ElementReader:
    """Reads FHIR data types (CodeableConcept, extensions, dates) and collects every problem with its path."""

    bundle: dict
    problems: list = field(default_factory=list)

    def add(self, path: str, value: object, message: str) -> None:

        self.problems.append(CaseProblem(path, value, message))

    # --- codes -----------------------------------------------------------------------------------------------

    def concept(
        self, cc: object, path: str, fields: tuple[str, ...], loinc: bool = False, measures: bool = False
    ) -> tuple[str, str] | None:
        """(vocabulary field, case value) of a CodeableConcept whose codings name one spinekg term of ``fields``.

        ``loinc``: a LOINC coding must be a lumbar spine study code (a modality); ``measures``: a LOINC coding of
        a measurement (``LOINC_MEASUREMENTS``) names its ``vitals``/``labs`` key, any other LOINC code is a
        translation left unread.
        """
        if not isinstance(cc, dict):
            self.add(path, cc, "is not a CodeableConcept")
            return None
        codings = cc.get("coding")
        if not isinstance(codings, list) or not codings:
            self.add(path, cc.get("text", cc), "has no coding (spinekg reads codes, not text)")
            return None
        found: dict[tuple[str, str], str] = {}
        unmapped: list[tuple[str, str, str]] = []
        bad = False
        for i, coding in enumerate(codings):
            at = f"{path}.coding[{i}]"
            system, code = (coding.get("system"), coding.get("code")) if isinstance(coding, dict) else (None, None)
            if not isinstance(code, str) or not isinstance(system, str):
                self.add(at, coding, "needs a system and a code")
                bad = True
                continue
            if loinc and system == LOINC:
                if code not in LOINC_STUDIES:
                    self.add(f"{at}.code", code, f"is not a lumbar spine study code ({', '.join(LOINC_STUDIES)})")
                    bad = True
                else:
                    found[("modality", LOINC_STUDIES[code][0])] = at
                continue
            if measures and system == LOINC:
                if code in LOINC_MEASUREMENTS:
                    found[LOINC_MEASUREMENTS[code]] = at
                continue
            if system not in (SK_SYSTEM, *CURIE_PREFIX):
                continue  # another code system: a translation spinekg does not read
            problem = external_problem(system, code) if system != SK_SYSTEM else None
            if problem:
                self.add(f"{at}.code", code, f"is not a valid code: {problem}")
                bad = True
                continue
            hits = resolve(system, code)
            if not hits and system == SK_SYSTEM:
                self.add(f"{at}.code", code, "is not a spinekg term")
                bad = True
                continue
            if not hits:  # read only when no other coding names the term (codings are translations of one concept)
                unmapped.append((f"{at}.code", code, "is not mapped to a spinekg term (ontology/mappings)"))
                continue
            kept = [(f, v) for f, v in hits if f in fields]
            if not kept:
                nouns = " or ".join(sorted({_FIELD_NOUN[f] for f in fields}))
                what = " and ".join(sorted({_FIELD_NOUN.get(f, f) for f, _ in hits}))
                self.add(f"{at}.code", code, f"is {what}, not {nouns} here")
                bad = True
                continue
            if system != SK_SYSTEM and len({v for f, v in kept}) > 1:
                names = ", ".join(sorted({v for f, v in kept}))
                self.add(f"{at}.code", code, f"maps to several spinekg terms ({names}); give the spinekg code")
                bad = True
                continue
            for f, v in kept:  # a type field keeps the external code for the case reader to resolve and record
                coded = system != SK_SYSTEM and f in CODED_FIELDS
                found[(f, f"{CURIE_PREFIX[system]}:{code}" if coded else v)] = at
        if bad:
            return None
        if not found and unmapped:
            for unread in unmapped:
                self.add(*unread)
            return None
        if not found:
            systems = ", ".join([SK_SYSTEM, SNOMED, ICD10CM] + ([LOINC] if loinc or measures else []))
            self.add(path, [c.get("system") for c in codings], f"has no coding in a system spinekg reads ({systems})")
            return None
        terms = _same_terms(found)
        if len(terms) > 1:
            listed = ", ".join(f"{f}={v}" for f, v in terms)
            self.add(path, [c.get("code") for c in codings], f"has codings for different terms ({listed})")
            return None
        return terms[0]

    def one(self, value: object, path: str, fields: tuple[str, ...]) -> str | None:
        got = self.concept(value, path, fields)
        return got[1] if got else None

    # --- elements --------------------------------------------------------------------------------------------

    def extensions(self, res: dict, path: str, allowed: tuple[str, ...]) -> dict:
        """The spinekg extensions of a resource, by name; an unknown or misplaced one is a problem."""
        out: dict[str, object] = {}
        for i, ext in enumerate(res.get("extension") or []):
            url = ext.get("url") if isinstance(ext, dict) else None
            if not (isinstance(url, str) and url.startswith(EXT)):
                continue  # another party's extension: not a modifier, so it may be left unread
            name = url[len(EXT) :]
            if name not in allowed:
                self.add(f"{path}.extension[{i}].url", url, f"is not read here (spinekg reads {', '.join(allowed)})")
            elif name in _CODED_EXT:
                out[name] = self.one(ext.get("valueCodeableConcept"), f"{path}.extension[{i}]", (_CODED_EXT[name],))
            elif name in _INTEGER_EXT:
                value = ext.get("valueInteger")
                if isinstance(value, int) and not isinstance(value, bool):
                    out[name] = value
                else:
                    self.add(f"{path}.extension[{i}]", ext, "needs a valueInteger")
            elif isinstance(ext.get("valueBoolean"), bool):
                out[name] = ext["valueBoolean"]
            else:
                self.add(f"{path}.extension[{i}]", ext, "needs a valueBoolean")
        return out

    def status(self, res: dict, path: str, allowed: tuple[str, ...]) -> None:
        if res.get("status") not in allowed:
            self.add(f"{path}.status", res.get("status"), f"is not a status spinekg reasons on ({', '.join(allowed)})")

    def presence(self, res: dict, path: str) -> bool | None:
        """An Observation's presence: interpretation POS (present) or NEG (looked for and absent)."""
        codes = []
        for i, cc in enumerate(res.get("interpretation") or []):
            for j, c in enumerate(cc.get("coding") or [] if isinstance(cc, dict) else []):
                if isinstance(c, dict) and c.get("system") == INTERPRETATION:
                    if c.get("code") not in ("POS", "NEG"):
                        at = f"{path}.interpretation[{i}].coding[{j}].code"
                        self.add(at, c.get("code"), "is not read (POS: present, NEG: absent)")
                    codes.append(c.get("code") == "POS")
        if len(set(codes)) > 1:
            self.add(f"{path}.interpretation", "POS, NEG", "says both present and absent")
        return codes[0] if codes else None

    def instant(self, value: object, path: str) -> dt.datetime | dt.date | None:
        """A FHIR date (day precision) or a dateTime with time zone, in or after ``MIN_YEAR``; a partial date cannot
        count weeks."""
        moment: dt.datetime | dt.date | None = None
        if isinstance(value, str) and _DATE.fullmatch(value):
            try:
                moment = dt.date.fromisoformat(value)
            except ValueError:
                pass
        elif isinstance(value, str) and "T" in value and len(value) <= 64:
            try:
                moment = dt.datetime.fromisoformat(value)
            except ValueError:
                pass
            moment = moment if moment is not None and cast(dt.datetime, moment).tzinfo is not None else None
        if moment is None:
            self.add(path, value, "is not a full date (YYYY-MM-DD) or a dateTime with time zone")
        elif moment.year < MIN_YEAR:
            self.add(path, value, f"is before {MIN_YEAR} (the earliest date a case may give)")
            moment = None
        return moment

    def elapsed(self, start: object, end: object, path: str, end_path: str, shown: str = "") -> int | float | None:
        """Weeks from ``start`` to ``end`` (whole days for dates, seconds for dateTimes); ``shown``: end as given."""
        a, b = self.instant(start, path), end if isinstance(end, (dt.date, dt.datetime)) else None
        if b is None and end is not None:
            b = self.instant(end, end_path)
        if a is None or b is None:
            return None
        if isinstance(a, dt.datetime) != isinstance(b, dt.datetime):
            a = a.date() if isinstance(a, dt.datetime) else a
            b = b.date() if isinstance(b, dt.datetime) else b
        seconds = (b - a).total_seconds()
        if seconds < 0:
            self.add(path, start, f"is after {end_path} ({shown or end})")
            return None
        return weeks(seconds)


def _same_terms(found: dict[tuple[str, str], str]) -> list[tuple[str, str]]:
    """Distinct terms among codings; a coded value (``SCTID:…``) agreeing with a project id is one term."""
    plain = {(f, v) for f, v in found if ":" not in v}
    coded = {(f, v) for f, v in found if ":" in v}
    for f, v in list(coded):
        if any((f, t) in plain for t in curie_term(v, f)):
            coded.discard((f, v))
    return sorted(plain) + sorted(coded)
