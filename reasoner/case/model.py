"""Read a patient case (YAML, JSON, Turtle, JSON-LD), validate it against the KB vocabulary, and give its RDF."""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass
from pathlib import Path

from rdflib import URIRef

from ..errors import CaseError
from ..kb.cache import cached
from ..kb.load import kb_version, shared_kb
from . import graph as casegraph
from .graph import CASE_BASE, Vocabulary

__all__ = [
    "Case",
    "CaseError",
    "CaseProblem",
    "Vocabulary",
    "case_iri",
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
    """The ids a case may use, read from the shared knowledge base (``reasoner.kb.load.shared_kb()``), once.

    >>> v = vocabulary()
    >>> v.dermatomes["L5"]
    rdflib.term.URIRef('https://w3id.org/spinekg/dermatome_L5')
    >>> sorted(v.laterality)
    ['bilateral', 'left', 'midline', 'right']
    """

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
