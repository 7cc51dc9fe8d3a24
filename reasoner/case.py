"""Read a patient case (YAML, JSON, Turtle, JSON-LD), validate it against the KB vocabulary, and give its RDF."""

from __future__ import annotations

import copy
import difflib
import functools
import math
import re
from dataclasses import dataclass
from pathlib import Path

from rdflib import Graph, URIRef

from . import casegraph
from .casegraph import CASE_BASE, Vocabulary
from .caserdf import RefusedLiteral
from .codes import CURIE_PATTERN, split_curie
from .consts import SK
from .errors import CaseError

__all__ = [
    "Case",
    "CaseError",
    "CaseProblem",
    "Vocabulary",
    "case_graph",
    "case_iri",
    "json_schema",
    "load_case",
    "loads",
    "parse_case",
    "vocabulary",
]

#: The committed copy of :func:`json_schema` (a test fails when it differs).
SCHEMA_PATH = Path(__file__).resolve().parent / "schema" / "case.schema.json"
#: The longest string a case may hold; a longer one is rejected and shown by its first 40 characters.
MAX_STRING = 200
#: The largest case file read: a case is a few kilobytes, and PyYAML reads about 130 kB a second.
MAX_BYTES = 1_000_000
#: The deepest nesting of lists and mappings read (a case needs seven levels).
MAX_DEPTH = 32
#: The most digits an integer may have (Python's own limit on converting text to int).
MAX_DIGITS = 4300
#: The most weeks a duration, a time since imaging or a treatment's length may give: 100 years (and never more
#: than the patient's life when the case gives an age). The same in every format: a FHIR date gives weeks too.
MAX_WEEKS = 5_200
#: Weeks in a year of the calendar (365.25 days), to hold durations to the patient's age.
_WEEKS_PER_YEAR = 365.25 / 7
_WEEKS_NOTE = f"weeks: at most {MAX_WEEKS} (100 years), and no more than the patient's age plus one year"
_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,127}")
_FORMATS = {".yaml": "yaml", ".yml": "yaml", ".json": "json", ".ttl": "turtle", ".jsonld": "json-ld"}


def _shown(value: object) -> str:
    """``repr`` of a value, a long one cut to its first 40 characters."""
    if isinstance(value, str) and len(value) > MAX_STRING:
        return repr(value[:40]) + "…"
    text = repr(value)
    return text if len(text) <= MAX_STRING else text[:40] + "…"


@dataclass(frozen=True)
class CaseProblem:
    """One problem with a case: the field path, the value as given, and what is wrong with it.

    >>> str(CaseProblem("symptoms[1].dermatomes[0]", "L9", "is not a dermatome"))
    "symptoms[1].dermatomes[0]: 'L9' is not a dermatome"
    """

    path: str
    value: object
    message: str

    def __str__(self) -> str:
        return f"{self.path}: {_shown(self.value)} {self.message}"


@dataclass(frozen=True)
class Case:
    """A validated case: its id, the document exactly as given, and where it came from."""

    id: str
    data: dict
    source: str


@functools.lru_cache(maxsize=1)
def vocabulary() -> Vocabulary:
    """The ids a case may use, read from the shared knowledge base (``reasoner.kb.shared_kb()``), once.

    >>> v = vocabulary()
    >>> v.dermatomes["L5"]
    rdflib.term.URIRef('https://w3id.org/spinekg/dermatome_L5')
    >>> sorted(v.laterality)
    ['bilateral', 'left', 'midline', 'right']
    """
    from .cache import cached
    from .kb import kb_version, shared_kb

    fields = cached("vocabulary", kb_version(), lambda: casegraph.read_vocabulary(shared_kb()).as_dicts())
    return casegraph.Vocabulary.from_dicts(fields)


def case_iri(case_id: str) -> URIRef:
    """The IRI of a case; the id must be a valid case id (so nothing can be smuggled into the IRI).

    >>> case_iri("example-radiculopathy")
    rdflib.term.URIRef('https://w3id.org/spinekg/case/example-radiculopathy')
    >>> case_iri("foo> } DROP ALL #")
    Traceback (most recent call last):
    ...
    reasoner.errors.CaseError: <case_iri>: 1 problem in the case
      id: 'foo> } DROP ALL #' is not a valid case id (letters, digits, '.', '_', '-'; at most 128 characters)
    """
    if not (isinstance(case_id, str) and _ID.fullmatch(case_id)):
        raise CaseError([CaseProblem("id", case_id, _ID_MESSAGE)], source="<case_iri>")
    return URIRef(CASE_BASE + case_id)


_ID_MESSAGE = "is not a valid case id (letters, digits, '.', '_', '-'; at most 128 characters)"


# --- the document's shape: one spec drives both validation and the JSON Schema ----------------------------------


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
    mappings resolve to one (``reasoner/mappings.py``: exact and narrower mappings only)."""

    def check(self, value, path, ck):
        if split_curie(value) is None:
            return super().check(value, path, ck)
        if _string(value, path, ck, self.noun):
            from .mappings import case_code_problem

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
    item: object
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


_SCORE_RANGES = {"mjoa": (0, 18)}
#: The range of a measurement of ``vitals`` or ``labs`` (the unit is in the key); any other is a number >= 0.
_MEASUREMENT_RANGES = {"temperature_c": (30, 45)}
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
            "outcome": _Term("outcome", "an outcome"),
        },
        ("type",),
    )
    scores = {key: _Number(*_SCORE_RANGES.get(key, (0, None)), integer=True) for key in vocab.scores}
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
            "unmapped_codes": _Choice(("error", "warn"), "what to do with a code that maps to no spinekg term"),
        },
        ("id",),
    )


def json_schema() -> dict:
    """The JSON Schema (draft 2020-12) of a case document, its id sets read from the KB.

    ``reasoner/schema/case.schema.json`` is the committed copy (``SPINEKG_REGENERATE=1 pytest`` rewrites it).
    The schema cannot say what the reader also refuses across fields: a finding both present and absent
    (``severity: none`` is an absence, ``present: true`` with it a contradiction), a red-flag screen that found
    none beside a red-flag feature, weeks longer than the patient's age, and a duplicate key.

    >>> s = json_schema()
    >>> s["required"], s["$defs"]["laterality"]["enum"]
    (['id'], ['bilateral', 'left', 'midline', 'right'])
    """
    vocab = vocabulary()
    fields = [f.name for f in vocab.__dataclass_fields__.values()]
    defs = {name: {"enum": list(getattr(vocab, name))} for name in sorted([*fields, "levels"])}
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": "https://w3id.org/spinekg/schema/case.schema.json",
        "title": "spinekg case",
        "description": "One patient's findings in the spinekg vocabulary (generated from the knowledge base).",
        **_spec(vocab).schema(vocab),
        "$defs": defs,
    }


# --- semantic checks ------------------------------------------------------------------------------------------


def _contradictions(doc: dict, ck: _Checker) -> None:
    """What the case says twice, differently: the same finding recorded present and absent (symptoms with one
    laterality, imaging at one level; ``severity: none`` is an absence); a finding said ``present: true`` with
    ``severity: none``; a red-flag screen that found none beside a red-flag feature the case records."""

    def scan(entries, where: str, field: str) -> None:
        seen: dict[tuple, str] = {}
        for path, entry in entries:
            if not isinstance(entry, dict):
                continue
            ftype, present, place = entry.get("type"), entry.get("present", True), entry.get(where)
            if not (isinstance(ftype, str) and isinstance(present, bool) and isinstance(place, (str, type(None)))):
                continue
            if present and entry.get("severity") == "none":
                if "present" in entry:
                    why = "severity none records the finding as absent"
                    ck.add(f"{path}.severity", "none", f"contradicts {path}.present: true ({why})")
                    ck.dirty.add(path)
                    continue
                present = False
            key = _type_key(ftype, ck.vocab, field)  # a code and the id it resolves to are one finding
            other = seen.get((key, place, not present))
            if other is not None:
                at = f"{where} {place!r}" if place is not None else f"no {where}"
                ck.add(path, ftype, f"contradicts {other}: recorded both present and absent (with {at})")
                ck.dirty.update({path, other})
            seen.setdefault((key, place, present), path)

    symptoms = doc.get("symptoms")
    if isinstance(symptoms, list):
        scan([(f"symptoms[{i}]", s) for i, s in enumerate(symptoms)], "laterality", "symptom_types")
    scan(_imaging_findings(doc), "level", "imaging_finding_types")
    screen = doc.get("red_flag_screen")
    if isinstance(screen, dict) and screen.get("result") == "none_found":
        for path, value, flags in _red_flag_features(doc, ck.vocab):
            named = " and ".join(f.removeprefix(str(SK)) for f in flags)
            ck.add(
                "red_flag_screen.result",
                "none_found",
                f"contradicts {path} ({_shown(value)}): the screen found no red flag, "
                f"but the case records a feature of {named}",
            )
            # the screen is refused, not the feature: a rejected case still reports its red flags
            ck.dirty.add("red_flag_screen")


def _number(value: object) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)


def _beyond_lifetime(doc: dict, ck: _Checker) -> None:
    """Weeks longer than the patient has lived: a duration, a time since imaging or a treatment's length of more
    than the case's age in weeks (an age in whole years may be up to a year short, so a year is added)."""
    age = doc.get("age")
    if not (_number(age) and 0 <= age <= 120):
        return
    life = (age + 1) * _WEEKS_PER_YEAR
    places = [("symptoms", "duration_weeks"), ("imaging", "weeks_ago"), ("prior_treatments", "weeks")]
    for field, key in places:
        entries = doc.get(field)
        for i, entry in enumerate(entries if isinstance(entries, list) else []):
            weeks = entry.get(key) if isinstance(entry, dict) else None
            if _number(weeks) and life < weeks <= MAX_WEEKS:
                ck.add(
                    f"{field}[{i}].{key}", weeks, f"is longer than the patient has lived (age {age}: {life:.0f} weeks)"
                )


def _imaging_findings(doc: dict) -> list[tuple[str, object]]:
    """(path, entry) of every imaging finding of a document, however malformed around them."""
    imaging = doc.get("imaging")
    if not isinstance(imaging, list):
        return []
    return [
        (f"imaging[{j}].findings[{k}]", f)
        for j, study in enumerate(imaging)
        if isinstance(study, dict) and isinstance(study.get("findings"), list)
        for k, f in enumerate(study["findings"])
    ]


@functools.lru_cache(maxsize=1)
def red_flag_features() -> casegraph.RedFlagFeatures:
    """What a case can record that is a red-flag feature by itself, read from the shared KB once."""
    from .cache import cached
    from .kb import kb_version, shared_kb

    return cached("red-flag-features", kb_version(), lambda: casegraph.read_red_flag_features(shared_kb()))


def _red_flag_features(doc: dict, vocab: Vocabulary) -> list[tuple[str, object, tuple[str, ...]]]:
    """(path, value, red flags) of each red-flag feature a document records: a risk factor, present symptom or
    present imaging finding whose type is a subclass of a red flag, or a vital sign or laboratory value past a
    threshold the KB defines as a red flag (``sk:fever_measured``). Flags that only classification infers from
    several facts (a bilateral weakness, a saddle-pattern numbness, an mJOA of 11) are not seen here."""
    features = red_flag_features()
    out = []

    def typed(path: str, value: object, field: str) -> None:
        if not isinstance(value, str):
            return
        term = getattr(vocab, field).get(_type_key(value, vocab, field))
        flags = features.types.get(str(term)) if term is not None else None
        if flags:
            out.append((path, value, flags))

    risk_factors = doc.get("risk_factors")
    for m, rf in enumerate(risk_factors if isinstance(risk_factors, list) else []):
        typed(f"risk_factors[{m}]", rf, "risk_factors")
    symptoms = doc.get("symptoms")
    entries = [
        (f"symptoms[{i}]", s, "symptom_types") for i, s in enumerate(symptoms if isinstance(symptoms, list) else [])
    ]
    entries += [(path, f, "imaging_finding_types") for path, f in _imaging_findings(doc)]
    for path, entry, field in entries:
        if isinstance(entry, dict) and not casegraph.is_absent(entry):
            typed(path, entry.get("type"), field)
    for field in casegraph.MEASURED:
        values = doc.get(field)
        for key, value in (values if isinstance(values, dict) else {}).items():
            term = getattr(vocab, field).get(key) if isinstance(key, str) else None
            if term is None or isinstance(value, bool) or not isinstance(value, (int, float)):
                continue
            if isinstance(value, float) and not math.isfinite(value):
                continue
            flags = features.flags_of_value(str(term), value)
            if flags:
                out.append((f"{field}.{key}", value, flags))
    return out


def _type_key(ftype: object, vocab: Vocabulary, field: str) -> object:
    """A finding type as the spinekg id a code resolves to (so ``SCTID:44077006`` and ``numbness`` are one)."""
    if split_curie(ftype) is None:
        return ftype
    from .mappings import resolve_for

    term = resolve_for(ftype, getattr(vocab, field), "").term
    return vocab.id_of(field, term) if term is not None else ftype


def parse_case(data: dict, source: str = "<dict>") -> Case:
    """Validate a case document; every problem is collected, then the case is rejected with all of them.

    >>> parse_case({"id": "c1", "age": 45, "symptoms": [{"type": "axial_pain"}]}).id
    'c1'
    >>> try:
    ...     parse_case({"id": "c2", "age": True, "symptoms": [{"type": "numbness", "dermatomes": ["L9"]}]})
    ... except CaseError as exc:
    ...     print(*exc.problems, sep="\\n")
    age: True is a boolean, not a number
    symptoms[0].dermatomes[0]: 'L9' is not a dermatome
    """
    return _validate(data, source, [], copy_data=True)


def _validate(data: object, source: str, found: list[CaseProblem], copy_data: bool = False) -> Case:
    """Validate ``data``; ``found`` are the problems the reader already met (duplicate keys).

    A caller's dict is copied (``copy_data``: the Case must not change when the caller's dict does); what a
    parser of ours made from text belongs to the Case already.
    """
    ck = _Checker(vocabulary())
    ck.problems.extend(found)
    if not isinstance(data, dict):
        ck.add("", data, "is not a mapping (a case is a mapping of fields such as id, age, symptoms)")
        raise CaseError(ck.problems, source=source)
    ck.keep_unmapped = data.get("unmapped_codes") == "warn"
    _spec(ck.vocab).check(data, "", ck)
    _contradictions(data, ck)
    _beyond_lifetime(data, ck)
    if ck.problems:
        bad = [p.path for p in ck.problems if p.path] + sorted(ck.dirty)
        raise CaseError(ck.problems, salvage=casegraph.salvage_graph(data, ck.vocab, bad), source=source)
    return Case(id=data["id"], data=copy.deepcopy(data) if copy_data else data, source=source)


def case_graph(case: Case) -> Graph:
    """The RDF of a case (``sk:Case``, its patient, findings, absences, studies, treatments and scores).

    >>> from reasoner.consts import RDF, SK
    >>> g = case_graph(parse_case({"id": "c3", "symptoms": [{"type": "urinary_retention"}]}))
    >>> (URIRef(case_iri("c3") + "/symptom/0"), RDF.type, SK.urinary_retention) in g
    True
    """
    return casegraph.document_graph(case.data, vocabulary(), case_iri(case.id))


from .casefile import load_case, loads  # noqa: E402  (the file readers validate with this module)
