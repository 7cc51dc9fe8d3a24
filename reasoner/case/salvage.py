"""What a rejected case still records: its clean entries, and each entry with a bad field with that field left out
where what remains is a valid entry that cannot say more than the record did; the graph its red flags are read on."""

from __future__ import annotations

import functools
import re
from collections.abc import Mapping

from rdflib import Graph, URIRef

from ..consts import RDFS, SK
from ..kb.cache import cached
from ..kb.load import kb_version, shared_kb
from .graph import CASE_BASE, MEASURED, Vocabulary, _typed, document_graph

__all__ = ["salvage_graph"]

#: Fields of a symptom or imaging finding left out when bad, the entry kept: no rule reads their absence as a fact
#: that raises a red flag (a side must be recorded to be bilateral; a progression, an MRC grade of 3 or less or a new
#: height loss must be recorded to count; a level or zone only places a root compression). A bad ``type``,
#: ``present`` or ``severity`` (``none`` is an absence), or a key the case does not know (it may be a misspelt
#: ``present``), takes the whole entry with it, as does any bad field of an entry that records an absence.
_LEAVE_OUT = frozenset(
    {"laterality", "side", "progressive", "strength_mrc", "new", "zone", "level", "duration_weeks"}
    | {"dermatomes", "body_regions"}
)
#: Where a symptom or finding is: a bad member is left out, the others kept; an entry left with no place goes (a
#: place never recorded is read as a fact: a radicular pain or weakness at no place is of the legs,
#: derive-bilateral-sciatica-by-side, derive-bilateral-leg-weakness-by-side; an axial pain at none is low back pain)
_PLACES = ("dermatomes", "body_regions")
#: Fields of an imaging study left out when bad, its findings kept (they only date or describe the study)
_STUDY_LEAVE_OUT = frozenset({"modality", "contrast", "weeks_ago"})
#: Symptoms whose duration a red flag reads (without one, a retention, incontinence, sexual dysfunction or severe
#: weakness is new: derive-new-urinary-retention, -urinary-incontinence, -sexual-dysfunction, -severe-motor-deficit),
#: and the pains the others are measured against: a bad duration takes these entries with it
_DATED = (SK.urinary_retention, SK.urinary_incontinence, SK.sexual_dysfunction, SK.weakness, SK.PainSymptom)
#: Symptoms a place can take out of a red flag (a radicular pain in a dermatome above L1 or in the hands is not
#: lumbosacral: derive-lumbosacral-radicular-pain): a bad place takes these entries with it, whatever remains
_PLACE_READ = (SK.radicular_pain,)
_FIELD = re.compile(r"\.([A-Za-z_][A-Za-z0-9_]*)(?:\[(\d+)\])?")


def _related(a: str, b: str) -> bool:
    """Whether one path is the other or inside it."""
    return a == b or any(x.startswith(y + sep) for x, y in ((a, b), (b, a)) for sep in ".[")


@functools.lru_cache(maxsize=1)
def _kinds() -> tuple[frozenset[str], frozenset[str]]:
    """(the classes under :data:`_DATED`, the classes under :data:`_PLACE_READ`), as IRIs, read from the KB once."""

    def read() -> tuple[frozenset[str], frozenset[str]]:
        kb = shared_kb()

        def under(roots: tuple[URIRef, ...]) -> frozenset[str]:
            return frozenset(str(c) for root in roots for c in kb.transitive_subjects(RDFS.subClassOf, root))

        return under(_DATED), under(_PLACE_READ)

    return cached("salvage-kinds", kb_version(), read)


def _pruned(entry: object, path: str, problems: list[str], kinds: Mapping[str, URIRef]) -> dict | None:
    """``entry`` (a symptom or imaging finding at ``path``) with the fields its ``problems`` name left out, or None
    when it must go whole (see :data:`_LEAVE_OUT`, :data:`_PLACES`, :data:`_DATED`, :data:`_PLACE_READ`)."""
    if not isinstance(entry, dict) or entry.get("present", True) is not True or entry.get("severity") == "none":
        return None  # an absence, or a presence that cannot be read: never turned into a finding
    dropped: dict[str, set[int] | None] = {}  # field -> the bad members (None: the whole field)
    for problem in problems:
        match = _FIELD.fullmatch(problem[len(path) :]) if problem.startswith(path + ".") else None
        if match is None or match[1] not in _LEAVE_OUT:
            return None
        field, index = match[1], match[2]
        if index is not None and field in _PLACES and isinstance(entry.get(field), list):
            members = dropped.setdefault(field, set())
            if members is not None:
                members.add(int(index))
        else:
            dropped[field] = None
    out = dict(entry)
    for field, members in dropped.items():
        if members is None or field not in _PLACES:
            del out[field]
        else:
            out[field] = [m for n, m in enumerate(entry[field]) if n not in members]
    cls = _typed(entry["type"], kinds)[0] if "type" in entry else None
    dated, place_read = _kinds()
    if any(f in dropped for f in _PLACES) and (str(cls) in place_read or not any(out.get(f) for f in _PLACES)):
        return None
    if "duration_weeks" in dropped and str(cls) in dated:
        return None
    return out


def _prune(doc: Mapping, vocab: Vocabulary, bad: list[str]) -> tuple[dict, list[str]]:
    """The document with each symptom, imaging finding and study that :func:`_pruned` can keep rewritten without its
    bad fields, and the problem paths left (those of the entries that go whole)."""
    left = list(bad)
    out = dict(doc)

    def rewrite(entry: object, path: str, kinds: Mapping[str, URIRef]) -> object:
        problems = [p for p in left if _related(p, path)]
        if not problems:
            return entry
        kept = _pruned(entry, path, problems, kinds)
        if kept is None:
            return entry
        left[:] = [p for p in left if p not in problems]
        return kept

    if isinstance(doc.get("symptoms"), list):
        out["symptoms"] = [rewrite(s, f"symptoms[{i}]", vocab.symptom_types) for i, s in enumerate(doc["symptoms"])]
    if isinstance(doc.get("imaging"), list):
        studies = []
        for j, study in enumerate(doc["imaging"]):
            path = f"imaging[{j}]"
            if isinstance(study, dict):
                found = [(p, _FIELD.fullmatch(p[len(path) :])) for p in left if p.startswith(path + ".")]
                gone = {p: m[1] for p, m in found if m is not None and m[2] is None and m[1] in _STUDY_LEAVE_OUT}
                study = {k: v for k, v in study.items() if k not in gone.values()}
                left[:] = [p for p in left if p not in gone]
                if isinstance(study.get("findings"), list):
                    study["findings"] = [
                        rewrite(f, f"{path}.findings[{k}]", vocab.imaging_finding_types)
                        for k, f in enumerate(study["findings"])
                    ]
            studies.append(study)
        out["imaging"] = studies
    return out, left


def salvage_graph(doc: Mapping, vocab: Vocabulary, bad: list[str]) -> Graph | None:
    """The graph of what a rejected case still records: the symptoms, imaging findings of clean studies, risk
    factors, measurements, age and sex that no problem path in ``bad`` touches, and the symptoms, findings and
    studies whose bad fields can be left out (:func:`_pruned`; list indexes kept as given); None when none is left.

    The case IRI is the case's own when its id was clean, else ``CASE_BASE + "unidentified"`` (no identifier).

    >>> from reasoner.case.model import vocabulary
    >>> doc = {"id": "s1", "symptoms": [{"type": "urinary_retention"}, {"type": "numbness", "dermatomes": ["L9"]}]}
    >>> g = salvage_graph(doc, vocabulary(), ["symptoms[1].dermatomes[0]"])
    >>> [str(s).removeprefix(CASE_BASE) for s in g.subjects(SK.inCase, None)]
    ['s1/symptom/0']
    >>> doc = {"id": "s2", "symptoms": [{"type": "numbness", "dermatomes": ["S3", "S9"], "laterality": "bilateral"}]}
    >>> g = salvage_graph(doc, vocabulary(), ["symptoms[0].dermatomes[1]"])
    >>> sorted(str(d).removeprefix(str(SK)) for d in g.objects(None, SK.inDermatome))
    ['dermatome_S3']
    """
    doc, bad = _prune(doc, vocab, bad)

    def clean(path: str, ignore: str | None = None) -> bool:
        return not any(_related(p, path) for p in bad if not (ignore and p.startswith(ignore)))

    def keep(path: str) -> bool:
        if path in ("age", "sex") or path.startswith(("symptoms[", "risk_factors[", "vitals.", "labs.")):
            return clean(path)
        if path.startswith("imaging["):
            study = path.split(".")[0]
            return clean(study, ignore=study + ".findings[") and (path == study or clean(path))
        return False

    def listed(key: str) -> list:
        return doc[key] if isinstance(doc.get(key), list) else []

    def recorded(key: str) -> dict:  # only the known keys: their paths are plain (an unknown key is a problem)
        known = getattr(vocab, key)
        return {k: v for k, v in doc[key].items() if k in known} if isinstance(doc.get(key), dict) else {}

    imaging = [s if isinstance(s, dict) and keep(f"imaging[{j}]") else {} for j, s in enumerate(listed("imaging"))]
    findings = [
        f"imaging[{j}].findings[{k}]"
        for j, study in enumerate(imaging)
        if isinstance(study.get("findings"), list)
        for k in range(len(study["findings"]))
    ]
    wanted = [f"symptoms[{i}]" for i in range(len(listed("symptoms")))] + findings
    wanted += [f"risk_factors[{m}]" for m in range(len(listed("risk_factors")))] + [
        k for k in ("age", "sex") if k in doc
    ]
    wanted += [f"{field}.{key}" for field in MEASURED for key in recorded(field)]
    if not any(keep(path) for path in wanted):
        return None
    partial = {**doc, "symptoms": listed("symptoms"), "imaging": imaging, "risk_factors": listed("risk_factors")}
    partial["prior_treatments"] = listed("prior_treatments")  # never kept, but walked: a list, whatever was given
    for field in MEASURED:
        partial[field] = recorded(field)
    identified = "id" in doc and clean("id")
    case = URIRef(CASE_BASE + (doc["id"] if identified else "unidentified"))
    return document_graph(partial, vocab, case, keep=keep, identify=identified)
