"""Hypothesis strategies for RDF cases (issue 13): typed literals of every XSD type, valid, ill-typed and huge, and
XML/HTML literals, put on a field of a valid case written as Turtle or JSON-LD (``fuzz_strategies`` imports them)."""

from __future__ import annotations

import json
import math
from decimal import Decimal

import pyoxigraph as ox
from hypothesis import strategies as st

from reasoner.case.rdf import MAX_LITERAL_CHARS, MAX_NUMBER_CHARS
from reasoner.case.validate import case_graph, parse_case

XSD = "http://www.w3.org/2001/XMLSchema#"
RDF = "http://www.w3.org/1999/02/22-rdf-syntax-ns#"
SK = "https://w3id.org/spinekg/"
#: The integer types of XSD with their value ranges (None: unbounded on that side).
INTEGERS = {
    "integer": (None, None),
    "nonNegativeInteger": (0, None),
    "positiveInteger": (1, None),
    "nonPositiveInteger": (None, 0),
    "negativeInteger": (None, -1),
    "long": (-(2**63), 2**63 - 1),
    "int": (-(2**31), 2**31 - 1),
    "short": (-(2**15), 2**15 - 1),
    "byte": (-128, 127),
    "unsignedLong": (0, 2**64 - 1),
    "unsignedInt": (0, 2**32 - 1),
    "unsignedShort": (0, 2**16 - 1),
    "unsignedByte": (0, 255),
}
NUMERIC = [*INTEGERS, "decimal", "double", "float"]
#: Other XSD types rdflib converts (or not), each with a valid lexical form: none is a value a case field holds.
OTHER = {
    "date": "2020-01-31",
    "dateTime": "2020-01-31T10:00:00Z",
    "time": "10:00:00",
    "duration": "P3W",
    "dayTimeDuration": "P21D",
    "yearMonthDuration": "P1Y",
    "gYear": "2020",
    "gYearMonth": "2020-01",
    "base64Binary": "QUJD",
    "hexBinary": "0F",
    "anyURI": "https://example.org/",
    "token": "left",
    "normalizedString": "left",
    "string": "left",
}
#: Lexical forms no numeric type reads as a finite number.
ILL_TYPED = ["", " 45", "45 ", "4 5", "0x10", "forty", "+-1", ".", "1.2.3", "NaN", "INF", "-INF", "1E999999999"]
#: Fields with a literal value: (template path, subject under the case IRI, predicate, kind, range of valid values).
FIELDS = [
    ("age", "patient", "age", "number", (0, 120)),
    ("symptoms[0].duration_weeks", "symptom/0", "durationWeeks", "number", (0, 50)),
    ("symptoms[0].strength_mrc", "symptom/0", "mrcGrade", "integer", (0, 5)),
    ("symptoms[0].progressive", "symptom/0", "progressive", "boolean", None),
    ("imaging[0].weeks_ago", "imaging/0", "weeksAgo", "number", (0, 50)),
    ("imaging[0].contrast", "imaging/0", "contrast", "boolean", None),
    ("prior_treatments[0].weeks", "treatment/0", "weeks", "number", (0, 50)),
    ("prior_treatments[0].weeks_ago", "treatment/0", "treatmentWeeksAgo", "number", (0, 50)),
    ("scores.mjoa", "score/mjoa", "scoreValue", "integer", (0, 18)),
    ("vitals.temperature_c", "vital/temperature_c", "measuredValue", "number", (36, 37)),
    ("id", "", "http://purl.org/dc/terms/identifier", "id", None),
]


def _valid_number(draw, kind: str, bounds: tuple[int, int]) -> tuple[str, str, bool]:
    """(datatype, lexical form, whether a plan follows) of a number in the field's range, as some XSD type."""
    low, high = bounds
    whole = draw(st.booleans())
    # a fraction is not whole: 30/10 is 3.0, which "3.0"^^xsd:decimal reads as the integer 3 (a plan, where the
    # strategy expected a refusal: the full suite of 2026-12-07 drew 0/10 for an MRC grade)
    tenths = st.integers(low * 10, high * 10 - 1).filter(lambda k: k % 10 != 0)
    value: int | float = draw(st.integers(low, high)) if whole else draw(tenths) / 10
    datatype = draw(st.sampled_from(NUMERIC))
    if datatype in INTEGERS:
        if not whole:
            return datatype, repr(value), False  # "4.5"^^xsd:integer is ill-typed
        lo, hi = INTEGERS[datatype]
        return datatype, str(value), (lo is None or value >= lo) and (hi is None or value <= hi)
    if datatype == "decimal":
        return datatype, format(Decimal(repr(value)), "f"), kind == "number" or whole
    lexical = draw(st.sampled_from([repr(float(value)), f"{float(value):E}"]))
    return datatype, lexical, kind == "number"  # a double is never an integer, not even 3.0E0


def _huge(draw, numeric: bool) -> str:
    limit = MAX_NUMBER_CHARS if numeric else MAX_LITERAL_CHARS
    size = draw(st.one_of(st.integers(limit + 1, limit + 5), st.integers(limit + 1, 200_000)))
    unit = draw(st.sampled_from(["9", "1E9", "0.", "AB", "-"]))
    return (unit * (size // len(unit) + 1))[:size]


def _markup(draw) -> str:
    depth = draw(st.one_of(st.integers(1, 5), st.sampled_from([1000, 50_000])))
    tag = draw(st.sampled_from(["b", "div", "x:y", "script"]))
    close = draw(st.booleans())
    return f"<{tag}>" * depth + "x" + (f"</{tag}>" * depth if close else "")


@st.composite
def rdf_literal(draw, documents, case_file):
    """A valid case as Turtle or JSON-LD with one field's literal replaced by a typed literal: a number of some XSD
    type in range (a plan, when the type can hold it), an ill-typed or huge lexical form of any XSD type, or an
    XML/HTML literal (a rejection naming the field)."""
    doc = draw(documents)
    doc.pop("red_flag_screen", None)  # a new temperature must not contradict a screen
    path, subject, predicate, kind, bounds = draw(st.sampled_from(FIELDS))
    _make_room(doc, path)
    if path == "age":  # an age the case's weeks fit in: the reader refuses weeks longer than the patient has lived
        # (the full suite of 2026-12-07 drew age 0 beside a treatment 53 weeks ago and expected a plan)
        weeks = [s.get("duration_weeks", 0) for s in doc.get("symptoms", [])]
        weeks += [i.get("weeks_ago", 0) for i in doc.get("imaging", [])]
        weeks += [t.get(k, 0) for t in doc.get("prior_treatments", []) for k in ("weeks", "weeks_ago")]
        bounds = (math.ceil(max(weeks, default=0) / (365.25 / 7)), bounds[1])
    how = draw(st.sampled_from(["valid", "ill-typed", "huge", "other", "markup"][kind == "id" and 2 :]))
    plan = False
    if how == "valid" and kind == "boolean":
        lexical = draw(st.sampled_from(["true", "false", "1", "0", "True", "yes", " true"]))
        datatype, plan = "boolean", lexical in ("true", "false", "1", "0")
    elif how == "valid":
        datatype, lexical, plan = _valid_number(draw, kind, bounds)
    elif how == "ill-typed":
        datatype, lexical = draw(st.sampled_from([*NUMERIC, "boolean"])), draw(st.sampled_from(ILL_TYPED))
    elif how == "huge":
        datatype = draw(st.sampled_from([*NUMERIC, "boolean", *[t for t in OTHER if t != "string"]]))
        lexical = _huge(draw, datatype in NUMERIC)
    elif how == "other":
        datatype = draw(st.sampled_from([t for t in OTHER if t not in ("string", "token", "normalizedString")]))
        lexical = OTHER[datatype]
    else:
        datatype, lexical = draw(st.sampled_from(["XMLLiteral", "HTML"])), _markup(draw)
    iri = RDF + datatype if datatype in ("XMLLiteral", "HTML") else XSD + datatype
    case = str(case_graph(parse_case(doc)).serialize(format="nt"))
    base = f"{SK}case/{doc['id']}"
    s, p = f"<{base}/{subject}>" if subject else f"<{base}>", f"<{predicate if ':' in predicate else SK + predicate}>"
    lines = [line for line in case.splitlines() if line and not line.startswith(f"{s} {p} ")]
    assert len(lines) == len(case.splitlines()) - 1, f"no single {s} {p} in\n{case}"
    lines.append(f"{s} {p} {json.dumps(lexical)}^^<{iri}> .")
    text = "\n".join(lines) + "\n"
    if draw(st.booleans()):
        quads = list(ox.parse(text.encode(), ox.RdfFormat.N_TRIPLES))
        text = ox.serialize(quads, format=ox.RdfFormat.JSON_LD).decode()
    suffix = ".jsonld" if text.startswith("[") else ".ttl"
    return case_file("rdf_literal", suffix, text.encode(), "plan" if plan else "reject", (path,), doc=doc)


def _make_room(doc: dict, path: str) -> None:
    """Give ``doc`` the field at ``path`` with a valid value (the literal is replaced in the RDF); a list field's
    entry is the only one, so nothing else in the case can contradict it."""
    head, key = path.split("[")[0].split(".")[0], path.split(".")[-1]
    entry = {"symptoms": {"type": "axial_pain"}, "imaging": {"modality": "MRI"}, "prior_treatments": {"type": "nsaid"}}
    if head in entry:
        doc[head] = [{**entry[head], key: {"progressive": True, "contrast": False}.get(key, 3)}]
    elif head == "scores":
        doc["scores"] = {"mjoa": 15}
    elif head == "vitals":
        doc["vitals"] = {**doc.get("vitals", {}), "temperature_c": 36.5}
    if head == "age" or not math.isfinite(doc.get("age", 0)):
        doc["age"] = 60
