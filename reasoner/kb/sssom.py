"""The SSSOM mapping sets of the knowledge base: read and checked without sssom-py, and given as SKOS."""

from __future__ import annotations

import csv
import functools
import io
import re
from collections.abc import Iterable
from collections.abc import Mapping as Table
from dataclasses import dataclass
from pathlib import Path
from typing import cast

from rdflib import Graph, Literal, URIRef

from ..consts import OWL, RDF, RDFS, SK, SKOS
from ..errors import KBLoadError
from ..locations import knowledge_dir
from .codes import SYSTEMS, System, split_curie

__all__ = ["Mapping", "MappingSet", "all_mappings", "mapping_paths", "mapping_sets", "problems", "read_mapping_set"]
__all__ += ["skos_graph"]

#: The predicates a mapping may have, with the relation they state. Exact and narrow ones *resolve*: a code that
#: is our term, or narrower than it, establishes our term; a close or broader one never does.
PREDICATES = {
    "skos:exactMatch": (SKOS.exactMatch, "exact"),
    "skos:narrowMatch": (SKOS.narrowMatch, "narrow"),
    "skos:broadMatch": (SKOS.broadMatch, "broad"),
    "skos:closeMatch": (SKOS.closeMatch, "close"),
}
RESOLVING = ("skos:exactMatch", "skos:narrowMatch")
#: Prefixes every mapping set binds besides its target system's, with the IRIs they must have.
FIXED_PREFIXES = {"sk": str(SK), "skos": str(SKOS), "semapv": "https://w3id.org/semapv/vocab/"}
#: The justifications a row may give (SEMAPV); not UnspecifiedMatching, what sssom-py fills in when none is given.
JUSTIFICATIONS = {f"semapv:{j}" for j in ("ManualMappingCuration", "MappingReview", "LogicalReasoning")}
REQUIRED_COLUMNS = ("subject_id", "subject_label", "predicate_id", "object_id", "object_label", "mapping_justification")
#: The folder of the mapping sets is ``mappings/`` of the ontology folder.
ONTOLOGY_DIR = knowledge_dir("ontology")
_NAME = re.compile(r"spinekg_(?P<predicate>[a-z]+)_(?P<system>[a-z0-9]+)\.sssom\.tsv")


@dataclass(frozen=True)
class Mapping:
    """One row of a mapping set: a spinekg term, a SKOS predicate, an external code (all strings, as written)."""

    subject_id: str  # sk:numbness
    subject_label: str
    predicate_id: str  # skos:exactMatch
    object_id: str  # SCTID:44077006
    object_label: str
    mapping_justification: str
    comment: str = ""
    source: str = ""  # the file name

    @property
    def term(self) -> str:
        """The spinekg id (local name) of the subject."""
        return self.subject_id.removeprefix("sk:")

    @property
    def subject(self) -> URIRef:
        return SK[self.term]

    @property
    def predicate(self) -> URIRef:
        return PREDICATES[self.predicate_id][0]

    @property
    def object(self) -> URIRef:
        system, code = cast("tuple[System, str]", split_curie(self.object_id))  # checked when the set is read
        return URIRef(system.iri + code)

    @property
    def resolves(self) -> bool:
        """Whether the code establishes the term (exact, or narrower than it)."""
        return self.predicate_id in RESOLVING

    @property
    def relation(self) -> str:
        """``exact``, ``narrow``, ``broad`` or ``close``."""
        return PREDICATES[self.predicate_id][1]

    @property
    def status(self) -> str:
        """The code's verification status in ``shared/reference/codes.csv``, as the comment records it first.

        >>> Mapping("sk:x", "x", "skos:exactMatch", "SCTID:1", "y", "semapv:ManualMappingCuration",
        ...         "codes.csv: corroborated (row 'x'; evidence: z)").status
        'corroborated'
        >>> Mapping("sk:x", "x", "skos:exactMatch", "SCTID:1", "y", "semapv:ManualMappingCuration").status
        'not recorded'
        """
        head, sep, _ = self.comment.partition(" (")
        return head.removeprefix("codes.csv: ") if sep and head.startswith("codes.csv: ") else "not recorded"


@dataclass(frozen=True)
class MappingSet:
    """One SSSOM TSV file: its YAML header and its rows."""

    path: Path
    metadata: Table
    mappings: tuple[Mapping, ...]


def mapping_paths(ontology_dir: Path | None = None) -> list[Path]:
    """The SSSOM files of the knowledge base, in a stable order.

    >>> [p.name for p in mapping_paths()][:2]
    ['spinekg_exactmatch_fma.sssom.tsv', 'spinekg_exactmatch_uberon.sssom.tsv']
    """
    return sorted((Path(ontology_dir or ONTOLOGY_DIR) / "mappings").glob("*.sssom.tsv"))


def _split(text: str) -> tuple[list[str], list[str]]:
    """The header lines (``#`` removed) and the table lines of an SSSOM TSV text."""
    lines = text.splitlines()
    n = next((i for i, line in enumerate(lines) if not line.startswith("#")), len(lines))
    return [line[1:] for line in lines[:n]], lines[n:]


def _parse(path: Path) -> tuple[dict, list[dict[str, str]], list[str]]:
    """Header, rows (every value a string, no type guessing) and the problems met while parsing."""
    found: list[str] = []
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        return {}, [], [f"cannot be read: {exc}"]
    head, table = _split(text)
    import yaml  # here, not at the top: a cold command that reads no mapping set is spared importing PyYAML

    try:
        meta = yaml.safe_load("\n".join(head)) or {}
    except yaml.YAMLError as exc:
        return {}, [], [f"the YAML header does not parse: {exc}"]
    if not isinstance(meta, dict):
        return {}, [], ["the YAML header is not a mapping"]
    reader = csv.reader(io.StringIO("\n".join(table)), delimiter="\t", quoting=csv.QUOTE_NONE)
    rows = list(reader)
    if not rows:
        return meta, [], found + ["has no table (a header line of column names is needed)"]
    columns, rows = rows[0], rows[1:]
    out = []
    first = len(head) + 2  # the line number of the first row
    for n, values in enumerate(rows):
        if len(values) != len(columns):
            found.append(f"line {first + n}: {len(values)} fields, the header names {len(columns)}")
            continue
        out.append({"_line": str(first + n), **dict(zip(columns, values, strict=True))})
    missing = [c for c in REQUIRED_COLUMNS if c not in columns]
    if missing:
        found.append(f"the table has no column {', '.join(missing)}")
    return meta, out, found


def problems(path: Path) -> list[str]:
    """Everything wrong with one mapping file, checked more strictly than ``sssom validate`` (which fills a
    missing license or justification with defaults): the header's license, mapping_set_id, creator and
    curie_map (the project's own prefix IRIs); every row's justification, predicate, a ``sk:`` subject and a
    code that passes its system's check; one target system per file, named as ``spinekg_<predicate>_<system>``.

    >>> problems(mapping_paths()[0])
    []
    """
    meta, rows, found = _parse(Path(path))
    if not meta and found:
        return found
    for key in ("license", "mapping_set_id"):
        if not isinstance(meta.get(key), str) or not meta[key].strip():
            found.append(f"the header has no {key}")
    if not meta.get("creator_label") and not meta.get("creator_id"):
        found.append("the header has no creator_label or creator_id (who made the mappings)")
    curie_map = meta.get("curie_map")
    if not isinstance(curie_map, dict):
        found.append("the header has no curie_map")
        curie_map = {}
    for prefix, iri in curie_map.items():
        want = FIXED_PREFIXES.get(prefix) or (SYSTEMS[prefix].iri if prefix in SYSTEMS else None)
        if want is None:
            found.append(f"curie_map: prefix {prefix!r} is not one the project uses ({', '.join(SYSTEMS)})")
        elif iri != want:
            found.append(f"curie_map: {prefix} is {iri!r}; the project's IRI is {want!r}")
    systems, preds, pairs = set(), set(), set()
    for row in rows:
        at = f"line {row['_line']}"
        subject, pred, obj = row.get("subject_id", ""), row.get("predicate_id", ""), row.get("object_id", "")
        if row.get("mapping_justification", "") not in JUSTIFICATIONS:
            why = f"not one of {', '.join(sorted(JUSTIFICATIONS))}"
            found.append(f"{at}: mapping_justification is {row.get('mapping_justification', '')!r}, {why}")
        if not re.fullmatch(r"sk:[A-Za-z][A-Za-z0-9_-]*", subject):
            found.append(f"{at}: subject_id {subject!r} is not a spinekg term (sk:…)")
        if pred not in PREDICATES:
            found.append(f"{at}: predicate_id {pred!r} is not one of {', '.join(PREDICATES)}")
        preds.add(pred)
        hit = split_curie(obj)
        if hit is None:
            found.append(f"{at}: object_id {obj!r} is not PREFIX:code with a known prefix ({', '.join(SYSTEMS)})")
            continue
        system, code = hit
        systems.add(system.prefix)
        if system.prefix not in curie_map:
            found.append(f"{at}: object_id {obj!r}: prefix {system.prefix} is not in the curie_map")
        if (problem := system.problem(code)) is not None:
            found.append(f"{at}: object_id {obj!r}: {problem}")
        if (subject, obj) in pairs:
            found.append(f"{at}: {subject} and {obj} are mapped twice")
        pairs.add((subject, obj))
    if len(systems) > 1:
        found.append(f"maps to several systems ({', '.join(sorted(systems))}); one file per target system")
    name = _NAME.fullmatch(Path(path).name)
    if name is None:
        found.append("the file name is not spinekg_<predicate>_<system>.sssom.tsv")
    elif rows:
        want = PREDICATES.get(next(iter(preds)), ("", "?"))[1] + "match" if len(preds) == 1 else "mixed"
        if name["predicate"] != want:
            found.append(f"the file name says {name['predicate']!r}, its rows say {want!r}")
    set_id = meta.get("mapping_set_id")
    if isinstance(set_id, str) and not set_id.endswith("/" + Path(path).name):
        found.append(f"mapping_set_id {set_id!r} does not end with the file name")
    return found


def read_mapping_set(path: Path) -> MappingSet:
    """Read one mapping file without sssom-py; every problem of :func:`problems` is an error naming the file."""
    path = Path(path)
    found = problems(path)
    if found:
        raise KBLoadError(f"{path}: {len(found)} problem(s) in the mapping set\n  " + "\n  ".join(found))
    meta, rows, _ = _parse(path)
    fields = [f for f in Mapping.__dataclass_fields__ if f != "source"]
    mappings = tuple(Mapping(**{k: row.get(k, "") for k in fields}, source=path.name) for row in rows)
    return MappingSet(path, meta, mappings)


@functools.lru_cache(maxsize=4)
def _sets(root: str) -> tuple[MappingSet, ...]:
    return tuple(read_mapping_set(p) for p in mapping_paths(Path(root)))


def mapping_sets(ontology_dir: Path | None = None) -> tuple[MappingSet, ...]:
    """Every mapping set of the knowledge base (read once per process and folder).

    >>> sum(len(s.mappings) for s in mapping_sets()) > 100
    True
    """
    return _sets(str(Path(ontology_dir or ONTOLOGY_DIR).resolve()))


def all_mappings(ontology_dir: Path | None = None) -> tuple[Mapping, ...]:
    """Every mapping row of every set."""
    return tuple(m for s in mapping_sets(ontology_dir) for m in s.mappings)


# --- SKOS ----------------------------------------------------------------------------------------------------


def skos_graph(sets: Iterable[MappingSet]) -> Graph:
    """The mappings as SKOS: ``sk:term skos:exactMatch <code>`` (the row's predicate), each code a
    ``skos:Concept`` with its ``skos:notation`` (the code, a plain string), ``skos:prefLabel`` and
    ``skos:inScheme``; the SKOS properties declared as annotation properties, so the OWL stays DL.

    >>> g = skos_graph(mapping_sets())
    >>> (SK.numbness, SKOS.exactMatch, URIRef("http://snomed.info/id/44077006")) in g
    True
    >>> g.value(URIRef("http://snomed.info/id/44077006"), SKOS.notation)
    rdflib.term.Literal('44077006')
    """
    g = Graph()
    for prop in [*(iri for iri, _ in PREDICATES.values()), SKOS.relatedMatch, SKOS.inScheme, SKOS.prefLabel]:
        g.add((prop, RDF.type, OWL.AnnotationProperty))
    for cls in (SKOS.Concept, SKOS.ConceptScheme):
        g.add((cls, RDF.type, OWL.Class))
    for s in sets:
        for m in s.mappings:
            system, code = cast("tuple[System, str]", split_curie(m.object_id))  # checked when the set is read
            scheme = URIRef(system.scheme)
            g.add((m.subject, m.predicate, m.object))
            g.add((m.object, RDF.type, SKOS.Concept))
            g.add((m.object, SKOS.notation, Literal(system.notation(code))))
            g.add((m.object, SKOS.prefLabel, Literal(m.object_label)))
            g.add((m.object, SKOS.inScheme, scheme))
            g.add((scheme, RDF.type, SKOS.ConceptScheme))
            g.add((scheme, RDFS.label, Literal(system.name)))
    return g
