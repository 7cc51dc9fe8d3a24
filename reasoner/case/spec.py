"""The shape of a case document, each field with its check and its JSON Schema: the one place both come from."""

from __future__ import annotations

import difflib
import math
import re
from dataclasses import dataclass
from typing import Protocol

from ..kb.codes import CURIE_PATTERN, split_curie
from ..kb.mappings import case_code_problem
from .graph import Vocabulary
from .model import _ID, _ID_MESSAGE, _WEEKS_NOTE, MAX_STRING, MAX_WEEKS, CaseProblem, vocabulary
from .rdf import RefusedLiteral

__all__ = ["json_schema"]

# --- the document's shape: one spec drives both validation and the JSON Schema ----------------------------------


class _Spec(Protocol):
    """A node of the document's shape: it checks a value and gives its JSON Schema."""

    def check(self, value, path, ck): ...

    def schema(self, vocab): ...


class _Checker:
    """Collects problems while a document is walked."""

    def __init__(self, vocab: Vocabulary) -> None:
        self.vocab = vocab
        self.problems: list[CaseProblem] = []
        self.dirty: set[str] = set()
        self.keep_unmapped = False  # the case says unmapped_codes: warn

    def add(self, path: str, value: object, message: str) -> None:
        self.problems.append(CaseProblem(path, value, message))


def _join(path: str, key: object) -> str:
    text = str(key) if isinstance(key, str) and key.isprintable() else repr(key)  # no raw escapes on a terminal
    text = text if len(text) <= 40 else text[:40] + "…"
    return f"{path}.{text}" if path else text


def _hint(value: str, allowed) -> str:
    """``did you mean 'L4-L5'?`` for a near miss: another case, a short level form, or a close spelling."""
    guesses = [a for a in allowed if a.lower() == value.lower()]
    level = re.fullmatch(r"([CTLS]\d+)-(\d+)", value, re.IGNORECASE)
    if level:
        guesses += [a for p in "CTLS" if (a := f"{level[1].upper()}-{p}{level[2]}") in allowed]
    guesses += difflib.get_close_matches(value, list(allowed), n=1, cutoff=0.8)
    return f"did you mean {guesses[0]!r}?" if guesses else ""


def _notes(*notes: str) -> str:
    """`` (a; b)`` for the notes that are not empty."""
    kept = [n for n in notes if n]
    return f" ({'; '.join(kept)})" if kept else ""


def _refused(value, path, ck) -> bool:
    """Report a literal of an RDF case that was not read (too long, not of its type's form, XML or HTML)."""
    if isinstance(value, RefusedLiteral):
        ck.add(path, value.shown, value.reason)
        return True
    return False


@dataclass(frozen=True)
class _Number:
    minimum: float = 0
    maximum: float | None = None
    integer: bool = False
    note: str = ""  # the schema's description

    def check(self, value, path, ck):
        kind = "an integer" if self.integer else "a number"
        if isinstance(value, bool):
            ck.add(path, value, f"is a boolean, not {kind}")
        elif not isinstance(value, (int, float)):
            ck.add(path, value, f"is not {kind}")
        elif isinstance(value, float) and not math.isfinite(value):
            ck.add(path, value, "is not a finite number")
        elif self.integer and not isinstance(value, int):
            ck.add(path, value, "is not an integer")
        elif value < self.minimum or (self.maximum is not None and value > self.maximum):
            bounds = f"from {self.minimum} to {self.maximum}" if self.maximum is not None else f">= {self.minimum}"
            ck.add(path, value, f"is out of range (must be {bounds})")

    def schema(self, vocab):
        out = {"type": "integer" if self.integer else "number", "minimum": self.minimum}
        out = out if self.maximum is None else {**out, "maximum": self.maximum}
        return {**out, "description": self.note} if self.note else out


@dataclass(frozen=True)
class _Boolean:
    def check(self, value, path, ck):
        if not isinstance(value, bool):
            ck.add(path, value, "is not a boolean (true or false)")

    def schema(self, vocab):
        return {"type": "boolean"}


def _string(value, path, ck, what: str) -> bool:
    if not isinstance(value, str):
        ck.add(path, value, f"is not {what} (not a string)")
        return False
    if len(value) > MAX_STRING:
        ck.add(path, value, f"is longer than {MAX_STRING} characters ({len(value)})")
        return False
    return True


@dataclass(frozen=True)
class _Id:
    def check(self, value, path, ck):
        if _string(value, path, ck, "a valid case id") and not _ID.fullmatch(value):
            ck.add(path, value, _ID_MESSAGE)

    def schema(self, vocab):
        return {"type": "string", "pattern": f"^{_ID.pattern}$"}


@dataclass(frozen=True)
class _Term:
    field: str  # a Vocabulary field, or "levels"
    noun: str

    def check(self, value, path, ck):
        allowed = getattr(ck.vocab, self.field)
        if _string(value, path, ck, self.noun) and value not in allowed:
            listed = f"one of {', '.join(allowed)}" if len(allowed) <= 8 else ""
            ck.add(path, value, f"is not {self.noun}{_notes(listed, _hint(value, allowed))}")

    def schema(self, vocab):
        return {"$ref": f"#/$defs/{self.field}"}


@dataclass(frozen=True)
class _Coded(_Term):
    """A finding type given as a spinekg id or as an external code (``SCTID:…``, ``ICD10CM:…``) that the SSSOM
    mappings resolve to one (``reasoner/kb/mappings.py``: exact and narrower mappings only)."""

    def check(self, value, path, ck):
        if split_curie(value) is None:
            return super().check(value, path, ck)
        if _string(value, path, ck, self.noun):
            problem = case_code_problem(value, getattr(ck.vocab, self.field), self.noun, ck.keep_unmapped)
            if problem is not None:
                ck.add(path, value, problem)

    def schema(self, vocab):
        return {"anyOf": [super().schema(vocab), {"type": "string", "pattern": CURIE_PATTERN, "maxLength": MAX_STRING}]}


@dataclass(frozen=True)
class _Choice:
    values: tuple[str, ...]
    noun: str

    def check(self, value, path, ck):
        if not isinstance(value, str) or value not in self.values:
            ck.add(path, value, f"is not {self.noun} (one of {', '.join(self.values)})")

    def schema(self, vocab):
        return {"enum": list(self.values)}


@dataclass(frozen=True)
class _List:
    item: _Spec
    unique: bool = False  # a set in RDF: the same id twice would be lost, so it is refused

    def check(self, value, path, ck):
        if not isinstance(value, list):
            ck.add(path, value, "is not a list")
            return
        for i, item in enumerate(value):
            if _refused(item, f"{path}[{i}]", ck):
                continue
            self.item.check(item, f"{path}[{i}]", ck)
            if self.unique and isinstance(item, str) and item in value[:i]:
                ck.add(f"{path}[{i}]", item, f"is listed twice (first at {path}[{value.index(item)}])")

    def schema(self, vocab):
        out = {"type": "array", "items": self.item.schema(vocab)}
        return {**out, "uniqueItems": True} if self.unique else out


@dataclass(frozen=True)
class _Record:
    noun: str
    fields: dict
    required: tuple[str, ...] = ()

    def check(self, value, path, ck):
        if not isinstance(value, dict):
            ck.add(path, value, "is not a mapping")
            return
        for key in self.required:
            if key not in value:
                ck.add(_join(path, key), None, f"is missing ({key} is required in {self.noun})")
        for key, item in value.items():
            if key in self.fields:
                if not _refused(item, _join(path, key), ck):
                    self.fields[key].check(item, _join(path, key), ck)
            else:
                hint = _hint(key, self.fields) if isinstance(key, str) and len(key) <= MAX_STRING else ""
                known = f"known keys: {', '.join(self.fields)}"
                ck.add(_join(path, key), key, f"is not a key of {self.noun}{_notes(hint, known)}")

    def schema(self, vocab):
        out = {"type": "object", "additionalProperties": False}
        if self.required:
            out["required"] = list(self.required)
        out["properties"] = {k: f.schema(vocab) for k, f in self.fields.items()}
        return out


_SCORE_RANGES: dict[str, tuple[float, float | None]] = {"mjoa": (0, 18)}
#: The range of a measurement of ``vitals`` or ``labs`` (the unit is in the key); any other is a number >= 0.
#: Upper bounds catch a value in another unit (a white cell count of 14,000 is per microlitre, not 10^9/L): no
#: white cell count reaches 1,000 × 10^9/L, and the Westergren tube an ESR is read in is 200 mm long.
_MEASUREMENT_RANGES: dict[str, tuple[float, float | None]] = {
    "temperature_c": (30, 45),
    "wbc_10e9_l": (0, 1000),
    "esr_mm_h": (0, 200),
}
_LEVEL = "a disc level or vertebra"


def _spec(vocab: Vocabulary) -> _Record:
    """The shape of a case document, with the id sets of ``vocab``."""
    severity = _Term("severity", "a severity")
    laterality = _Term("laterality", "a laterality")
    symptom = _Record(
        "a symptom",
        {
            "type": _Coded("symptom_types", "a symptom type"),
            "body_regions": _List(_Term("body_regions", "a body region"), unique=True),
            "dermatomes": _List(_Term("dermatomes", "a dermatome"), unique=True),
            "laterality": laterality,
            "duration_weeks": _Number(0, MAX_WEEKS, note=_WEEKS_NOTE),
            "progressive": _Boolean(),
            "severity": severity,
            "present": _Boolean(),
            "strength_mrc": _Number(0, 5, integer=True),
        },
        ("type",),
    )
    finding = _Record(
        "an imaging finding",
        {
            "type": _Coded("imaging_finding_types", "an imaging finding type"),
            "level": _Term("levels", _LEVEL),
            "zone": _Term("zone", "an imaging zone"),
            "side": laterality,
            "severity": severity,
            "new": _Boolean(),
            "present": _Boolean(),
        },
        ("type",),
    )
    study = _Record(
        "an imaging study",
        {
            "modality": _Term("modality", "a modality"),
            "contrast": _Boolean(),
            "weeks_ago": _Number(0, MAX_WEEKS, note=_WEEKS_NOTE),
            "findings": _List(finding),
        },
    )
    treatment = _Record(
        "a prior treatment",
        {
            "type": _Term("interventions", "an intervention"),
            "weeks": _Number(0, MAX_WEEKS, note=_WEEKS_NOTE),
            "weeks_ago": _Number(0, MAX_WEEKS, note=_WEEKS_NOTE),
            "outcome": _Term("outcome", "an outcome"),
        },
        ("type",),
    )
    scores: dict[str, object] = {key: _Number(*_SCORE_RANGES.get(key, (0, None)), integer=True) for key in vocab.scores}
    scores["start_back"] = _Term("start_back", "a STarT Back risk group")
    vitals = {key: _Number(*_MEASUREMENT_RANGES.get(key, (0, None))) for key in vocab.vitals}
    labs = {key: _Number(*_MEASUREMENT_RANGES.get(key, (0, None))) for key in vocab.labs}
    screen = {"result": _Term("screen_result", "a red-flag screen result")}
    return _Record(
        "the case",
        {
            "id": _Id(),
            "age": _Number(0, 120, note="years"),
            "sex": _Term("sex", "a sex"),
            "symptoms": _List(symptom),
            "imaging": _List(study),
            "risk_factors": _List(_Coded("risk_factors", "a risk factor"), unique=True),
            "prior_treatments": _List(treatment),
            "scores": _Record("scores", scores),
            "vitals": _Record("vitals", vitals),
            "labs": _Record("labs", labs),
            "red_flag_screen": _Record("the red-flag screen", screen, ("result",)),
            "candidate_for": _List(_Term("candidacy", "a candidacy"), unique=True),
            "red_flags_excluded": _List(_Term("red_flags", "a red flag"), unique=True),
            "unmapped_codes": _Choice(("error", "warn"), "what to do with a code that maps to no spinekg term"),
        },
        ("id",),
    )


def json_schema() -> dict:
    """The JSON Schema (draft 2020-12) of a case document, its id sets read from the KB.

    ``reasoner/case/schema/case.schema.json`` is the committed copy (``SPINEKG_REGENERATE=1 pytest`` rewrites it).
    The schema cannot say what the reader also refuses across fields: a finding both present and absent
    (``severity: none`` is an absence, ``present: true`` with it a contradiction, ``present: false`` with another
    severity one too), a symptom said ``present: false`` with a duration, a laterality its region or type contradicts
    (``both_legs`` on one side, a radicular pain in the midline), a red-flag screen that found none beside a red-flag
    feature, weeks longer than the patient's age, and a duplicate key.

    >>> s = json_schema()
    >>> s["required"], s["$defs"]["laterality"]["enum"]
    (['id'], ['bilateral', 'left', 'midline', 'right'])
    """
    vocab = vocabulary()
    fields = [f.name for f in vocab.__dataclass_fields__.values() if f.metadata.get("schema", True)]
    defs = {name: {"enum": list(getattr(vocab, name))} for name in sorted([*fields, "levels"])}
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": "https://w3id.org/spinekg/schema/case.schema.json",
        "title": "spinekg case",
        "description": "One patient's findings in the spinekg vocabulary (generated from the knowledge base).",
        **_spec(vocab).schema(vocab),
        "$defs": defs,
    }
