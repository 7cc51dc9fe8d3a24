"""The case field a resource of the case graph stands for: the inverse of the case reader's IRI minting."""

from __future__ import annotations

import re
from functools import lru_cache

PATHS = [
    (re.compile(r"/symptom/(\d+)$"), "symptoms[{0}]"),
    (re.compile(r"/imaging/(\d+)/finding/(\d+)$"), "imaging[{0}].findings[{1}]"),
    (re.compile(r"/imaging/(\d+)$"), "imaging[{0}]"),
    (re.compile(r"/risk/(\d+)$"), "risk_factors[{0}]"),
    (re.compile(r"/treatment/(\d+)$"), "prior_treatments[{0}]"),
    (re.compile(r"/score/(\w+)$"), "scores.{0}"),
    (re.compile(r"/patient$"), "age"),
    (re.compile(r"/vital/(\w+)$"), "vitals.{0}"),
    (re.compile(r"/lab/(\w+)$"), "labs.{0}"),
    (re.compile(r"/red_flag_screen$"), "red_flag_screen"),
]


@lru_cache(maxsize=4096)
def path_key(path: str) -> tuple:
    """Sort key that puts ``findings[2]`` before ``findings[10]``."""
    return tuple(int(p) if p.isdigit() else p for p in re.split(r"(\d+)", path))


def field_path(case_iri: str, iri: str) -> str:
    """The case field a resource of the case graph stands for (``…/symptom/0`` → ``symptoms[0]``).

    >>> field_path("https://w3id.org/spinekg/case/x", "https://w3id.org/spinekg/case/x/imaging/0/finding/2")
    'imaging[0].findings[2]'
    """
    if iri == case_iri:
        return "candidate_for"
    for pattern, template in PATHS:
        m = pattern.search(iri)
        if m and iri.startswith(case_iri + "/"):
            return template.format(*m.groups())
    return iri
