"""Hypothesis strategies for case files: valid cases, and one strategy per class of broken input.

Each strategy draws a :class:`CaseFile`: the bytes of a file, what must become of it (a plan, or a
rejection), and the field paths a rejection must name. The tests in ``test_fuzz_case.py`` use them, and a
benchmark may import them too (``from fuzz_strategies import STRATEGIES``).
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path

from fuzz_rdf import rdf_literal
from hypothesis import strategies as st

from reasoner.case.files import BOM
from reasoner.case.graph import is_absent
from reasoner.case.model import MAX_BYTES, MAX_STRING, MAX_WEEKS, vocabulary
from reasoner.case.validate import _red_flag_features, case_graph, parse_case


class _Terms(Mapping):
    """The ids of each vocabulary field, sorted; read from the knowledge base on first use, not at import (so
    collecting the tests loads no KB)."""

    def __init__(self) -> None:
        self._terms: dict[str, list[str]] | None = None

    def _load(self) -> dict[str, list[str]]:
        if self._terms is None:
            v = vocabulary()
            self._terms = {name: sorted(getattr(v, name)) for name in v.__dataclass_fields__}
            self._terms["levels"] = sorted(v.levels)
        return self._terms

    def __getitem__(self, name: str) -> list[str]:
        return self._load()[name]

    def __iter__(self) -> Iterator[str]:
        return iter(self._load())

    def __len__(self) -> int:
        return len(self._load())


TERMS = _Terms()

#: Every class of input, in the order the report lists them.
CLASSES = (
    "valid",
    "malformed_yaml",
    "malformed_json",
    "wrong_type",
    "missing_required",
    "unknown_id",
    "out_of_range",
    "nan_inf",
    "duplicate_key",
    "long_string",
    "deep_nesting",
    "unicode_control",
    "injection",
    "huge_file",
    "duplicate_entry",
    "rdf_literal",
)


@dataclass(frozen=True)
class CaseFile:
    """One generated case file and what the reader owes it.

    ``expect`` is "plan" or "reject"; ``paths`` are the field paths of which a rejection must name one ("" is
    the document as a whole; a path ending in "*" matches every path it begins). ``size``, when set, is the
    length the file is written to, by repeating ``content``.
    """

    kind: str
    suffix: str
    content: bytes
    expect: str
    paths: tuple[str, ...] = ()
    doc: dict | None = None
    size: int = 0

    def write(self, path: Path) -> Path:
        """Write the file (``path`` with this file's suffix) and return its path."""
        path = path.with_suffix(self.suffix)
        if not self.size:
            path.write_bytes(self.content)
            return path
        with path.open("wb") as f:
            whole, rest = divmod(self.size, len(self.content))
            for _ in range(whole):
                f.write(self.content)
            f.write(self.content[:rest])
        return path

    def names(self, path: str) -> bool:
        """Whether a problem at ``path`` is one the rejection must name."""
        return any(path == p or (p.endswith("*") and path.startswith(p[:-1])) for p in self.paths)

    def __repr__(self) -> str:  # hypothesis prints the falsifying example: keep huge ones short
        text = self.content[:600].decode("utf-8", "backslashreplace")
        more = f" (+{len(self.content) - 600} bytes)" if len(self.content) > 600 else ""
        return f"CaseFile({self.kind}, {self.suffix}, expect={self.expect}, paths={self.paths}, {text!r}{more})"


# --- rendering a document as YAML or JSON, with room for text-level damage ----------------------------------------

_PLAIN_KEY = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_YAML_WORDS = {"y", "n", "yes", "no", "on", "off", "true", "false", "null"}


def _scalar(value: object) -> str:
    """A YAML 1.2 scalar: strings double-quoted with JSON escapes, floats in YAML's own words."""
    if isinstance(value, float):
        if math.isnan(value):
            return ".nan"
        if math.isinf(value):
            return ".inf" if value > 0 else "-.inf"
        return repr(value)
    return json.dumps(value)


def _key(key: str) -> str:
    return key if _PLAIN_KEY.fullmatch(key) and key.lower() not in _YAML_WORDS else json.dumps(key)


def _flow(value: object) -> str:
    if isinstance(value, list):
        return "[" + ", ".join(_flow(v) for v in value) + "]"
    if isinstance(value, dict):
        return "{" + ", ".join(f"{_key(k)}: {_flow(v)}" for k, v in value.items()) + "}"
    return _scalar(value)


def _nested(value: object) -> bool:
    """Written in block style: a mapping that is not empty, a list that holds lists or mappings."""
    if isinstance(value, dict):
        return bool(value)
    return isinstance(value, list) and any(isinstance(x, (dict, list)) for x in value)


def _block(value: dict | list, indent: int, dup: tuple | None, at: tuple) -> list[str]:
    pad = " " * indent
    lines = []
    if isinstance(value, dict):
        items = list(value.items()) + ([(dup[1], dup[2])] if dup and dup[0] == at else [])
        for k, v in items:
            if _nested(v):
                lines += [f"{pad}{_key(k)}:", *_block(v, indent + 2, dup, (*at, k))]
            else:
                lines.append(f"{pad}{_key(k)}: {_flow(v)}")
        return lines
    for i, v in enumerate(value):
        if _nested(v):
            inner = _block(v, indent + 2, dup, (*at, i))
            lines += [f"{pad}- {inner[0].lstrip()}", *inner[1:]]
        else:
            lines.append(f"{pad}- {_flow(v)}")
    return lines


def _json(value: object, dup: tuple | None, at: tuple) -> str:
    if isinstance(value, dict):
        items = list(value.items()) + ([(dup[1], dup[2])] if dup and dup[0] == at else [])
        return "{" + ", ".join(f"{json.dumps(k)}: {_json(v, dup, (*at, k))}" for k, v in items) + "}"
    if isinstance(value, list):
        return "[" + ", ".join(_json(v, dup, (*at, i)) for i, v in enumerate(value)) + "]"
    return json.dumps(value)


def render(doc: object, fmt: str, dup: tuple | None = None) -> str:
    """``doc`` as YAML (block style) or JSON; ``dup`` = (location, key, value) writes that key twice there.

    >>> render({"id": "a", "symptoms": [{"type": "axial_pain", "dermatomes": ["L5"]}]}, "yaml")
    'id: "a"\\nsymptoms:\\n  - type: "axial_pain"\\n    dermatomes: ["L5"]\\n'
    """
    if fmt == "json":
        return _json(doc, dup, ())
    if not _nested(doc) or not isinstance(doc, dict):
        return _flow(doc) + "\n"
    return "\n".join(_block(doc, 0, dup, ())) + "\n"


# --- valid cases ------------------------------------------------------------------------------------------------

ids = st.from_regex(r"[A-Za-z0-9][A-Za-z0-9._-]{0,40}", fullmatch=True)


def _term(field: str) -> st.SearchStrategy[str]:
    return st.deferred(lambda: st.sampled_from(TERMS[field]))


def _terms(field: str, unique: bool = True) -> st.SearchStrategy[list[str]]:
    return st.lists(_term(field), unique=unique, max_size=3)


_weeks = st.one_of(st.integers(0, 520), st.floats(0, 520, allow_nan=False))
symptom = st.fixed_dictionaries(
    {"type": _term("symptom_types")},
    optional={
        "body_regions": _terms("body_regions"),
        "dermatomes": _terms("dermatomes"),
        "laterality": _term("laterality"),
        "duration_weeks": _weeks,
        "progressive": st.booleans(),
        "severity": _term("severity"),
        "present": st.booleans(),
        "strength_mrc": st.integers(0, 5),
    },
)
finding = st.fixed_dictionaries(
    {"type": _term("imaging_finding_types")},
    optional={
        "level": _term("levels"),
        "zone": _term("zone"),
        "side": _term("laterality"),
        "severity": _term("severity"),
        "new": st.booleans(),
        "present": st.booleans(),
    },
)
study = st.fixed_dictionaries(
    {},
    optional={
        "modality": _term("modality"),
        "contrast": st.booleans(),
        "weeks_ago": _weeks,
        "findings": st.lists(finding, max_size=3),
    },
)
treatment = st.fixed_dictionaries(
    {"type": _term("interventions")}, optional={"weeks": _weeks, "weeks_ago": _weeks, "outcome": _term("outcome")}
)


def _consistent(doc: dict) -> dict:
    """Make a drawn document one the reader accepts: no ``present: true`` with ``severity: none``; an absence
    (``present: false`` or ``severity: none``) of a finding also recorded present becomes present; no
    ``present: false`` with another severity or a duration; ``both_legs`` or a bilateral leg weakness on both sides, a
    radicular pain not in the midline; a red-flag screen that found none beside a red-flag feature says found."""

    def fix(entries: list[dict], where: str) -> None:
        for e in entries:
            if e.get("present") is True and e.get("severity") == "none":
                del e["present"]
        shown = {(e["type"], e.get(where)) for e in entries if not is_absent(e)}
        for e in entries:
            if is_absent(e) and (e["type"], e.get(where)) in shown:
                e.pop("present", None)
                if e.get("severity") == "none":
                    e["severity"] = "mild"

    weeks = [s.get("duration_weeks", 0) for s in doc.get("symptoms", [])]
    weeks += [s.get("weeks_ago", 0) for s in doc.get("imaging", [])] + [
        t.get(key, 0) for t in doc.get("prior_treatments", []) for key in ("weeks", "weeks_ago")
    ]
    if "age" in doc and max(weeks, default=0) > (doc["age"] + 1) * 365.25 / 7:  # no longer than the patient's life
        doc["age"] = math.ceil(max(weeks) / (365.25 / 7))
    for e in doc.get("symptoms", []):  # a side its place or type contradicts (first: the pairs below see the side kept)
        if e.get("laterality") not in (None, "bilateral") and (
            "both_legs" in e.get("body_regions", []) or e["type"] == "bilateral_leg_weakness"
        ):
            e["laterality"] = "bilateral"
        if e["type"] == "radicular_pain" and e.get("laterality") == "midline":
            del e["laterality"]
    fix(doc.get("symptoms", []), "laterality")
    findings = [f for s in doc.get("imaging", []) for f in s.get("findings", [])]
    fix(findings, "level")
    for e in doc.get("symptoms", []) + findings:  # an absence has no severity other than none, a symptom's no duration
        if e.get("present") is False:
            if e.get("severity") not in (None, "none"):
                del e["severity"]
            e.pop("duration_weeks", None)
    if doc.get("red_flag_screen") == {"result": "none_found"} and _red_flag_features(doc, vocabulary()):
        doc["red_flag_screen"] = {"result": "found"}
    return doc


def _measured(field: str) -> st.SearchStrategy[dict]:
    """``vitals`` or ``labs``: any of their keys, each in its range (a temperature 30 to 45, an ESR 0 to 200, a white
    cell count 0 to 1,000, a CRP >= 0)."""
    ranges = {"temperature_c": (30, 45), "esr_mm_h": (0, 200)}

    def build() -> st.SearchStrategy[dict]:
        values = {
            k: st.one_of(st.integers(*ranges.get(k, (0, 500))), st.floats(*ranges.get(k, (0, 500))))
            for k in TERMS[field]
        }
        return st.fixed_dictionaries({}, optional=values)

    return st.deferred(build)


documents = st.fixed_dictionaries(
    {"id": ids},
    optional={
        "age": st.one_of(st.integers(0, 120), st.floats(0, 120, allow_nan=False)),
        "sex": _term("sex"),
        "symptoms": st.lists(symptom, max_size=4),
        "imaging": st.lists(study, max_size=2),
        "risk_factors": _terms("risk_factors"),
        "prior_treatments": st.lists(treatment, max_size=3),
        "scores": st.fixed_dictionaries({}, optional={"mjoa": st.integers(0, 18)}),
        "candidate_for": _terms("candidacy"),
        "vitals": _measured("vitals"),
        "labs": _measured("labs"),
        "red_flag_screen": st.fixed_dictionaries({"result": _term("screen_result")}),
    },
).map(_consistent)


@st.composite
def valid(draw) -> CaseFile:
    """A case the reader must accept and the reasoner must plan for, as YAML, JSON, Turtle or JSON-LD."""
    doc = draw(documents)
    fmt = draw(st.sampled_from(["yaml", "yaml", "json", "json-indented", "turtle", "json-ld"]))
    bom = BOM.encode() if draw(st.integers(0, 9)) == 0 else b""  # a leading byte order mark is skipped in every format
    if fmt in ("turtle", "json-ld"):
        text = case_graph(parse_case(doc)).serialize(format=fmt)
        return CaseFile("valid", ".ttl" if fmt == "turtle" else ".jsonld", bom + text.encode(), "plan", doc=doc)
    if fmt == "json-indented":
        return CaseFile("valid", ".json", bom + json.dumps(doc, indent=2).encode(), "plan", doc=doc)
    return CaseFile("valid", f".{fmt}", bom + render(doc, fmt).encode(), "plan", doc=doc)


# --- where a document can be damaged ------------------------------------------------------------------------------

#: Each field of the case contract: its template path and what it holds.
FIELDS = {
    "id": "id",
    "age": "number",
    "sex": "term:sex",
    "symptoms[].type": "term:symptom_types",
    "symptoms[].body_regions[]": "term:body_regions",
    "symptoms[].dermatomes[]": "term:dermatomes",
    "symptoms[].laterality": "term:laterality",
    "symptoms[].duration_weeks": "number",
    "symptoms[].progressive": "boolean",
    "symptoms[].severity": "term:severity",
    "symptoms[].present": "boolean",
    "symptoms[].strength_mrc": "integer",
    "imaging[].modality": "term:modality",
    "imaging[].contrast": "boolean",
    "imaging[].weeks_ago": "number",
    "imaging[].findings[].type": "term:imaging_finding_types",
    "imaging[].findings[].level": "term:levels",
    "imaging[].findings[].side": "term:laterality",
    "imaging[].findings[].zone": "term:zone",
    "imaging[].findings[].severity": "term:severity",
    "imaging[].findings[].new": "boolean",
    "imaging[].findings[].present": "boolean",
    "risk_factors[]": "term:risk_factors",
    "prior_treatments[].type": "term:interventions",
    "prior_treatments[].weeks": "number",
    "prior_treatments[].weeks_ago": "number",
    "prior_treatments[].outcome": "term:outcome",
    "scores.mjoa": "integer",
    "candidate_for[]": "term:candidacy",
    "vitals.temperature_c": "number",
    "labs.crp_mg_l": "number",
    "labs.esr_mm_h": "number",
    "labs.wbc_10e9_l": "number",
    "red_flag_screen.result": "term:screen_result",
    "symptoms": "list",
    "imaging": "list",
    "risk_factors": "list",
    "prior_treatments": "list",
    "candidate_for": "list",
    "symptoms[].dermatomes": "list",
    "symptoms[].body_regions": "list",
    "imaging[].findings": "list",
    "scores": "record",
    "symptoms[]": "record",
    "imaging[]": "record",
    "imaging[].findings[]": "record",
    "prior_treatments[]": "record",
    "vitals": "record",
    "labs": "record",
    "red_flag_screen": "record",
}
SCALARS = [f for f, kind in FIELDS.items() if kind not in ("list", "record")]
TEXT_FIELDS = [f for f, kind in FIELDS.items() if kind == "id" or kind.startswith("term:")]
NUMBERS = [f for f, kind in FIELDS.items() if kind in ("number", "integer")]
RECORDS = ["", "symptoms[]", "imaging[]", "imaging[].findings[]", "prior_treatments[]", "scores", "vitals", "labs"]
RECORDS += ["red_flag_screen"]


def _minimal(key: str) -> dict:
    """The smallest valid entry of a list or record (a fresh copy)."""
    return {
        "symptoms": {"type": TERMS["symptom_types"][0]},
        "imaging": {"modality": TERMS["modality"][0]},
        "findings": {"type": TERMS["imaging_finding_types"][0]},
        "prior_treatments": {"type": TERMS["interventions"][0]},
        "vitals": {"temperature_c": 37.0},
        "labs": {"crp_mg_l": 5},
        "red_flag_screen": {"result": "found"},
    }[key]


def _record(draw, doc: dict, template: str) -> tuple[dict, str, tuple]:
    """The mapping at a record template (made when missing or not a mapping): (mapping, path, location)."""
    container, where, path, at = _place(draw, doc, template)
    if where is None:
        return container, path, at
    target = container.get(where) if isinstance(container, dict) else container[where]
    if not isinstance(target, dict) or not target:
        target = container[where] = {"mjoa": 10} if template == "scores" else _minimal(_list_key(template))
    return target, path, (*at, where)


def _list_key(template: str) -> str:
    return re.findall(r"[a-z_][a-z0-9_]*", template)[-1]


def _shown_key(key: str) -> str:
    """How a path shows a key (printable as it is, else escaped), cut to 20 characters: a prefix to match."""
    return (key if key.isprintable() else repr(key))[:20]


def _place(draw, doc: dict, template: str) -> tuple[object, object, str, tuple]:
    """Make room for ``template`` in ``doc``: (container, key or index, concrete path, location of the container)."""
    parts = re.findall(r"[a-z_][a-z0-9_]*|\[\]", template)
    cur: object = doc
    path, at = "", ()
    for n, part in enumerate(parts):
        last = n == len(parts) - 1
        if part == "[]":
            assert isinstance(cur, list)
            if last and not cur:
                cur.append(None)
            elif not cur:
                cur.append(_minimal(parts[n - 1]))
            i = draw(st.integers(0, len(cur) - 1))
            if last:
                return cur, i, f"{path}[{i}]", at
            cur, path, at = cur[i], f"{path}[{i}]", (*at, i)
        else:
            assert isinstance(cur, dict)
            if last:
                return cur, part, f"{path}.{part}" if path else part, at
            if part not in cur:
                cur[part] = [] if parts[n + 1] == "[]" else {}
            cur, path, at = cur[part], f"{path}.{part}" if path else part, (*at, part)
    return cur, None, path, at  # the document itself (template "")


@st.composite
def _damaged(draw, kind: str, fields: list[str], values) -> CaseFile:
    """A valid document with one field set to a value drawn from ``values(field_kind)``."""
    doc = draw(documents)
    field = draw(st.sampled_from(fields))
    container, key, path, _ = _place(draw, doc, field)
    container[key] = draw(values(FIELDS[field]))
    fmt = draw(st.sampled_from(["yaml", "json"]))
    return CaseFile(kind, f".{fmt}", render(doc, fmt).encode(), "reject", (path,), doc=doc)


# --- one strategy per class of broken input -----------------------------------------------------------------------

_any_scalar = st.one_of(st.none(), st.booleans(), st.integers(-5, 5), st.floats(allow_nan=False), st.text(max_size=8))


def _wrong(kind: str) -> st.SearchStrategy:
    numeric_text = st.sampled_from(["6", "6.0", " 6", "1e3", "-1", "0x10", "six", "", "NaN"])
    containers = st.one_of(st.lists(st.integers(0, 9), max_size=2), st.dictionaries(st.sampled_from("ab"), _any_scalar))
    if kind == "number":
        return st.one_of(numeric_text, st.booleans(), st.none(), containers)
    if kind == "integer":  # a float is not an integer, not even 17.0
        return st.one_of(st.floats(0, 18), numeric_text, st.booleans(), st.none(), containers)
    if kind == "boolean":
        words = st.sampled_from(["true", "false", "yes", "no", "on", "off", "1", "0", "True"])
        return st.one_of(words, st.integers(0, 1), st.floats(0, 1), st.none(), containers)
    if kind == "list":
        return st.one_of(st.sampled_from(TERMS["dermatomes"]), st.integers(), st.none(), st.just({"0": "L5"}))
    if kind == "record":
        return st.one_of(st.text(max_size=10), st.integers(), st.none(), st.lists(st.text(max_size=5), max_size=2))
    # an id or a term: anything but a string
    return st.one_of(st.integers(), st.floats(allow_nan=False), st.booleans(), st.none(), containers)


@st.composite
def wrong_type(draw) -> CaseFile:
    if draw(st.integers(0, 19)) == 0:  # the whole document is not a mapping
        root = draw(st.one_of(st.lists(_any_scalar, max_size=3), st.integers(), st.text(max_size=10), st.none()))
        fmt = draw(st.sampled_from(["yaml", "json"]))
        return CaseFile("wrong_type", f".{fmt}", json.dumps(root).encode(), "reject", ("",))
    return draw(_damaged("wrong_type", list(FIELDS), _wrong))


@st.composite
def missing_required(draw) -> CaseFile:
    doc = draw(documents)
    required = [
        "id",
        "symptoms[].type",
        "imaging[].findings[].type",
        "prior_treatments[].type",
        "red_flag_screen.result",
    ]
    field = draw(st.sampled_from(required))
    container, key, path, _ = _place(draw, doc, field)
    container.pop(key, None)
    fmt = draw(st.sampled_from(["yaml", "json"]))
    return CaseFile("missing_required", f".{fmt}", render(doc, fmt).encode(), "reject", (path,), doc=doc)


def _near_misses(term: str) -> list[str]:
    return [term.upper(), term.lower() + "x", term[:-1], term + " ", " " + term, term.replace("_", " "), term + "s"]


@st.composite
def unknown_id(draw) -> CaseFile:
    """A term not in its vocabulary (a near miss or any text), or a key the contract does not have."""
    doc = draw(documents)
    fmt = draw(st.sampled_from(["yaml", "json"]))
    if draw(st.booleans()):
        target, path, _ = _record(draw, doc, draw(st.sampled_from(RECORDS)))
        key = draw(st.one_of(st.sampled_from(["dermatome", "Age", "symptom", "oswestry", "@id", "type "]), ids))
        known = ("type", "findings", "level", "side", "new", "zone", "strength_mrc", "result")
        known += (*TERMS["vitals"], *TERMS["labs"])
        key = key if key not in FIELDS and key not in known else key + "_x"
        target[key] = draw(_any_scalar)
        full = f"{path}.{key}" if path else key
        return CaseFile("unknown_id", f".{fmt}", render(doc, fmt).encode(), "reject", (full,), doc=doc)
    field = draw(st.sampled_from([f for f in TEXT_FIELDS if f != "id"]))
    allowed = TERMS[FIELDS[field].split(":")[1]]
    guess = draw(st.sampled_from(allowed).flatmap(lambda t: st.sampled_from(_near_misses(t))) | st.text(max_size=20))
    value = guess if guess not in allowed else guess + "?"
    container, key, path, _ = _place(draw, doc, field)
    container[key] = value
    return CaseFile("unknown_id", f".{fmt}", render(doc, fmt).encode(), "reject", (path,), doc=doc)


def _out_of_range(kind: str) -> st.SearchStrategy:
    negative = st.one_of(st.integers(max_value=-1), st.floats(max_value=-1e-9, allow_infinity=False))
    return negative if kind == "number" else st.one_of(negative, st.integers(19, 10**6))


_NAMED_BOUNDS = [("age", -1), ("age", 300), ("age", 121), ("age", 120.5), ("scores.mjoa", 19), ("scores.mjoa", -1)]
_NAMED_BOUNDS += [("symptoms[].strength_mrc", 6), ("vitals.temperature_c", 29.9), ("vitals.temperature_c", 45.5)]
_NAMED_BOUNDS += [("labs.esr_mm_h", 201), ("labs.wbc_10e9_l", 1000.5), ("labs.wbc_10e9_l", 14000)]
_NAMED_BOUNDS += [
    (w, v)
    for w in (
        "symptoms[].duration_weeks",
        "imaging[].weeks_ago",
        "prior_treatments[].weeks",
        "prior_treatments[].weeks_ago",
    )
    for v in (MAX_WEEKS + 0.5, MAX_WEEKS + 1, 1e308)
]  # at most 100 years, the same in every format


@st.composite
def out_of_range(draw) -> CaseFile:
    # the bounds the contract names: age 0-120, mJOA 0-18, MRC 0-5, temperature 30-45, ESR 0-200, WBC 0-1000
    if draw(st.booleans()):
        doc = draw(documents)
        field, value = draw(st.sampled_from(_NAMED_BOUNDS))
        container, key, path, _ = _place(draw, doc, field)
        container[key] = value
        fmt = draw(st.sampled_from(["yaml", "json"]))
        return CaseFile("out_of_range", f".{fmt}", render(doc, fmt).encode(), "reject", (path,), doc=doc)
    if draw(st.integers(0, 3)) == 0:
        return draw(longer_than_life())
    return draw(_damaged("out_of_range", NUMBERS, _out_of_range))


@st.composite
def longer_than_life(draw) -> CaseFile:
    """A duration, time since imaging or treatment length longer than the patient's age (plus a year) in weeks."""
    doc = draw(documents)
    weeks = [
        "symptoms[].duration_weeks",
        "imaging[].weeks_ago",
        "prior_treatments[].weeks",
        "prior_treatments[].weeks_ago",
    ]
    field = draw(st.sampled_from(weeks))
    container, key, path, _ = _place(draw, doc, field)
    age = draw(st.integers(0, 90))
    doc["age"], container[key] = age, draw(st.integers(math.floor((age + 1) * 365.25 / 7) + 1, MAX_WEEKS))
    fmt = draw(st.sampled_from(["yaml", "json"]))
    return CaseFile("out_of_range", f".{fmt}", render(doc, fmt).encode(), "reject", (path,), doc=doc)


@st.composite
def duplicate_entry(draw) -> CaseFile:
    """A list of ids that names one twice (body regions, dermatomes, risk factors, candidacies): refused at the
    second, in every format (YAML, JSON, and Turtle, where the RDF would hold it once)."""
    doc = draw(documents)
    field, terms = draw(
        st.sampled_from(
            [("symptoms[].body_regions", "body_regions"), ("symptoms[].dermatomes", "dermatomes")]
            + [("risk_factors", "risk_factors"), ("candidate_for", "candidacy")]
        )
    )
    container, key, path, _ = _place(draw, doc, field)
    items = draw(st.lists(_term(terms), min_size=1, max_size=3, unique=True))
    again = draw(st.integers(0, len(items) - 1))
    container[key] = [*items, items[again]]
    fmt = draw(st.sampled_from(["yaml", "json"] + (["turtle"] if field == "risk_factors" else [])))
    if fmt == "turtle":  # risk factors are nodes of their own: the same one twice is two nodes
        read = {**doc, field: items}
        if read.get("red_flag_screen") == {"result": "none_found"} and _red_flag_features(read, vocabulary()):
            del read["red_flag_screen"]  # the risk factors drawn here may be red-flag features: no contradiction
        text = case_graph(parse_case(read)).serialize(format="nt")
        m = len(items)
        text += (
            f"<https://w3id.org/spinekg/case/{doc['id']}/risk/{m}> a <{vocabulary().risk_factors[items[again]]}> ;\n"
        )
        text += f"  <https://w3id.org/spinekg/inCase> <https://w3id.org/spinekg/case/{doc['id']}> .\n"
        return CaseFile("duplicate_entry", ".ttl", text.encode(), "reject", ("risk_factors*",))
    return CaseFile("duplicate_entry", f".{fmt}", render(doc, fmt).encode(), "reject", (f"{path}[{len(items)}]",))


@st.composite
def nan_inf(draw) -> CaseFile:
    return draw(_damaged("nan_inf", NUMBERS, lambda kind: st.sampled_from([math.nan, math.inf, -math.inf])))


@st.composite
def duplicate_key(draw) -> CaseFile:
    doc = draw(documents)
    target, path, at = _record(draw, doc, draw(st.sampled_from(RECORDS)))
    key = draw(st.sampled_from(sorted(target)))
    again = draw(st.one_of(st.just(target[key]), _any_scalar))  # the same value again, or another one
    fmt = draw(st.sampled_from(["yaml", "json"]))
    full = f"{path}.{key}" if path else key
    return CaseFile("duplicate_key", f".{fmt}", render(doc, fmt, (at, key, again)).encode(), "reject", (full,))


@st.composite
def long_string(draw) -> CaseFile:
    doc = draw(documents)
    text = draw(st.one_of(st.sampled_from(TERMS["dermatomes"]), st.text(min_size=1, max_size=3)))
    size = draw(st.one_of(st.integers(MAX_STRING + 1, MAX_STRING + 10), st.integers(MAX_STRING + 1, 60_000)))
    value = (text * (size // len(text) + 1))[:size]
    fmt = draw(st.sampled_from(["yaml", "json"]))
    if draw(st.booleans()):  # a long key (PyYAML refuses a plain key over 1024 characters: the document then)
        target, path, _ = _record(draw, doc, draw(st.sampled_from(RECORDS)))
        value = re.sub(r"[^A-Za-z0-9_]", "k", value)  # YAML writes other characters as escapes, astral ones as pairs
        target[value] = 1
        prefix = f"{path}.{_shown_key(value)}" if path else _shown_key(value)
        return CaseFile("long_string", f".{fmt}", render(doc, fmt).encode(), "reject", ("", prefix + "*"))
    container, key, path, _ = _place(draw, doc, draw(st.sampled_from(TEXT_FIELDS)))
    container[key] = value
    return CaseFile("long_string", f".{fmt}", render(doc, fmt).encode(), "reject", (path,))


_SENTINEL = "@@SPINEKG-FUZZ@@"


@st.composite
def deep_nesting(draw) -> CaseFile:
    """A field whose value is lists or mappings nested from 2 to 100,000 levels deep (written as text)."""
    doc = draw(documents)
    container, key, path, _ = _place(draw, doc, draw(st.sampled_from(list(FIELDS))))
    container[key] = _SENTINEL
    depth = draw(st.one_of(st.integers(2, 40), st.integers(41, 3000), st.sampled_from([10_000, 100_000])))
    shape = draw(st.sampled_from(["list", "mapping"]))
    nested = "[" * depth + "]" * depth if shape == "list" else '{"a": ' * depth + "1" + "}" * depth
    fmt = draw(st.sampled_from(["yaml", "json"]))
    text = render(doc, fmt).replace(json.dumps(_SENTINEL), nested, 1)
    return CaseFile("deep_nesting", f".{fmt}", text.encode(), "reject", ("", path + "*"))


_ODD = [chr(c) for c in [*range(0, 32), 127, *range(0x80, 0xA0)]]  # C0, DEL, C1
_ODD += ["\u200b", "\u200d", "\u202e", "\u2028", "\u2029", "\ufeff", "\ufffe", "\uffff", "\ud800", "\udfff"]
_ODD += ["é", "\u0301", "Ｌ", "\u0430", "😀", "\U0010fffd", "\xa0"]  # accents, combining, fullwidth, Cyrillic a


@st.composite
def unicode_control(draw) -> CaseFile:
    """Control and odd Unicode characters in a term, an id or a key: escaped, written raw, or bad UTF-8."""
    doc = draw(documents)
    field = draw(st.sampled_from(TEXT_FIELDS))
    container, key, path, _ = _place(draw, doc, field)
    current = container.get(key) if isinstance(container, dict) else container[key]
    base = current if isinstance(current, str) else TERMS["dermatomes"][0]
    odd = draw(st.lists(st.sampled_from(_ODD), min_size=1, max_size=3))
    cut = draw(st.integers(0, len(base)))
    value = base[:cut] + "".join(odd) + base[cut:]
    fmt = draw(st.sampled_from(["yaml", "json"]))
    how = draw(st.sampled_from(["escaped", "raw", "bad-utf8"]))
    if how == "escaped":
        container[key] = value
        return CaseFile("unicode_control", f".{fmt}", render(doc, fmt).encode(), "reject", (path,))
    container[key] = _SENTINEL
    text = render(doc, fmt)
    if how == "raw":
        raw = text.replace(_SENTINEL, value, 1).encode("utf-8", "surrogatepass")
    else:
        raw = text.encode().replace(_SENTINEL.encode(), base.encode() + draw(st.sampled_from(_BAD_UTF8)), 1)
    return CaseFile("unicode_control", f".{fmt}", raw, "reject", ("", path))


_BAD_UTF8 = [b"\xff", b"\xc3", b"\xed\xa0\x80", b"\xc0\xaf", b"\xf8\x88\x80\x80\x80", b"\x80"]
INJECTIONS = [
    "foo> } DROP ALL #",
    'x" . } ; DELETE WHERE { ?s ?p ?o } #',
    "<https://w3id.org/spinekg/nsaid>",
    "https://w3id.org/spinekg/nsaid",
    "sk:nsaid",
    "_:b0",
    "?x",
    "} UNION { ?s ?p ?o",
    "file:///etc/passwd",
    "http://192.0.2.1/sparql",
    "../../etc/passwd",
    "$(touch /tmp/spinekg-pwned)",
    "<script>alert(1)</script>",
    "{{7*7}}",
    "L5\nS1",
]
_TAGS = [
    '!!python/object/apply:os.system ["touch /tmp/spinekg-pwned"]',
    "!!python/name:os.system",
    '!!python/object/new:subprocess.Popen [["touch", "/tmp/spinekg-pwned"]]',
    "!<tag:yaml.org,2002:python/none> x",
]


@st.composite
def injection(draw) -> CaseFile:
    """IRIs, SPARQL and shell fragments in ids, terms and keys; YAML tags that construct Python objects;
    a JSON-LD context on another host; an injected case id in Turtle."""
    doc = draw(documents)
    how = draw(st.sampled_from(["value", "value", "key", "yaml-tag", "turtle-id", "remote-context"]))
    payload = draw(st.sampled_from(INJECTIONS))
    fmt = draw(st.sampled_from(["yaml", "json"]))
    if how == "key":
        doc[payload] = "x"
        return CaseFile("injection", f".{fmt}", render(doc, fmt).encode(), "reject", (_shown_key(payload) + "*",))
    if how == "yaml-tag":
        container, key, path, _ = _place(draw, doc, draw(st.sampled_from(SCALARS)))
        container[key] = _SENTINEL
        text = render(doc, "yaml").replace(json.dumps(_SENTINEL), draw(st.sampled_from(_TAGS)), 1)
        return CaseFile("injection", ".yaml", text.encode(), "reject", ("", path))
    if how == "turtle-id":
        good = case_graph(parse_case(doc)).serialize(format="turtle")
        literal = json.dumps(payload)  # a Turtle string with the same escapes as JSON
        pattern = r'(dcterms:identifier|<http://purl.org/dc/terms/identifier>) "[^"]*"'
        text = re.sub(pattern, lambda m: f"{m[1]} {literal}", good)
        if text == good:
            raise AssertionError(f"no dcterms:identifier in the Turtle of the case:\n{good}")
        return CaseFile("injection", ".ttl", text.encode(), "reject", ("id",))
    if how == "remote-context":
        body = {"@context": draw(st.sampled_from(["http://192.0.2.1/ctx.jsonld", "file:///etc/passwd"])), "@id": "x"}
        return CaseFile("injection", ".jsonld", json.dumps(body).encode(), "reject", ("@context",))
    container, key, path, _ = _place(draw, doc, draw(st.sampled_from(TEXT_FIELDS)))
    container[key] = payload
    return CaseFile("injection", f".{fmt}", render(doc, fmt).encode(), "reject", (path,))


_BAD_YAML_LINES = ["\tx: 1", "]", "}", "- x", ": x", "@x: 1", "`x: 1", "%YAML 1.2", "---\nid: b", "y: *nope"]
_BAD_YAML_ENDINGS = ['x: "abc', "x: [a, b", "x: {a: 1", "x: &a [1]\ny: *a"]


@st.composite
def malformed_yaml(draw) -> CaseFile:
    """YAML that cannot be read: a stray token at the top level, an unclosed quote or bracket, an alias."""
    doc = draw(documents)
    text = render({"id": doc.pop("id"), **doc}, "yaml")  # the id first: the stray line goes in at the top level
    if draw(st.booleans()):
        first, _, rest = text.partition("\n")
        text = f"{first}\n{draw(st.sampled_from(_BAD_YAML_LINES))}\n{rest}"
    else:
        text += draw(st.sampled_from(_BAD_YAML_ENDINGS)) + "\n"
    return CaseFile("malformed_yaml", ".yaml", text.encode(), "reject", ("", "x", "y"))


@st.composite
def malformed_json(draw) -> CaseFile:
    """JSON that cannot be read: cut short, a trailing comma, single quotes, a comment, data after the end."""
    text = json.dumps(draw(documents), indent=draw(st.sampled_from([None, 2])))
    how = draw(st.sampled_from(["cut", "trailing-comma", "single-quotes", "comment", "extra", "unquoted-key"]))
    if how == "cut":
        text = text[: draw(st.integers(0, len(text) - 1))]
    elif how == "trailing-comma":
        text = text[:-1].rstrip() + ",}"
    elif how == "single-quotes":
        text = text.replace('"', "'")
    elif how == "comment":
        text = "// a case\n" + text
    elif how == "extra":
        text += draw(st.sampled_from(["}", "x", "{}", "[]", ",", "\x00"]))
    else:
        text = "{id: " + text[1:]
    return CaseFile("malformed_json", ".json", text.encode(), "reject", ("",))


@st.composite
def huge_file(draw) -> CaseFile:
    """A file over the reader's size limit (just over it, up to 3 MB): rejected before it is parsed."""
    line = draw(st.sampled_from([b"  - {type: axial_pain}\n", b"a" * 64, b'{"type": "numbness"}, ']))
    head = draw(st.sampled_from([b"id: big\nsymptoms:\n", b"id: ", b'{"id": "big", "symptoms": [']))
    size = draw(st.one_of(st.just(MAX_BYTES + 1), st.integers(MAX_BYTES + 1, 3 * MAX_BYTES)))
    suffix = ".json" if head.startswith(b"{") else ".yaml"
    return CaseFile("huge_file", suffix, head + line * 64, "reject", ("",), size=size)


def huge_file_of(size: int) -> CaseFile:
    """A YAML case of ``size`` bytes of symptom lines (the 50 MB file of the tests)."""
    return CaseFile("huge_file", ".yaml", b"  - {type: axial_pain}\n" * 1000, "reject", ("",), size=size)


STRATEGIES = {
    "valid": valid(),
    "malformed_yaml": malformed_yaml(),
    "malformed_json": malformed_json(),
    "wrong_type": wrong_type(),
    "missing_required": missing_required(),
    "unknown_id": unknown_id(),
    "out_of_range": out_of_range(),
    "nan_inf": nan_inf(),
    "duplicate_key": duplicate_key(),
    "long_string": long_string(),
    "deep_nesting": deep_nesting(),
    "unicode_control": unicode_control(),
    "injection": injection(),
    "huge_file": huge_file(),
    "duplicate_entry": duplicate_entry(),
    "rdf_literal": rdf_literal(documents, CaseFile),
}
assert tuple(STRATEGIES) == CLASSES
