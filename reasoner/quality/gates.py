"""Quality gates of the knowledge base: SHACL shapes, violation queries, verbatim quotes and DL consistency."""

from __future__ import annotations

import os
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from rdflib import Graph

from ..consts import DCTERMS, OA, PREFIXES, RDF, SH, SK
from ..errors import SeedsNotFoundError
from ..kb import load as kb
from ..sparql.binding import select, to_store

#: Where the source articles are: ``$SPINEKG_SEEDS`` or ``../shared/seeds`` beside the checkout.
SEEDS_DIR = Path(os.environ.get("SPINEKG_SEEDS", Path(__file__).resolve().parents[3] / "shared" / "seeds"))


@dataclass(frozen=True)
class Problem:
    """One thing wrong with the knowledge base: which check found it, about which term, and what."""

    check: str
    entity: str
    message: str

    def __str__(self) -> str:
        return f"[{self.check}] {self.entity}: {self.message}"


@dataclass(frozen=True)
class ValidationReport:
    """The result of every gate that ran, with the problems found; ``ok`` when there are none."""

    checks_run: tuple[str, ...]
    problems: tuple[Problem, ...] = field(default_factory=tuple)

    @property
    def ok(self) -> bool:
        return not self.problems


def check_paths(ontology_dir: Path | None = None) -> list[Path]:
    """The ``*-violation.rq`` files under ``ontology/checks``."""
    return sorted((Path(ontology_dir or kb.ONTOLOGY_DIR) / "checks").glob("*-violation.rq"))


def run_violation_checks(graph: Graph, paths: list[Path] | None = None) -> list[Problem]:
    """Run each violation query with pyoxigraph; every row it returns is a problem."""
    store = to_store(graph)
    problems = []
    for path in paths if paths is not None else check_paths():
        name = path.name.removesuffix("-violation.rq")
        for row in select(store, path.read_text(encoding="utf-8")):
            problems.append(Problem(name, _short(row["entity"] or ""), f"{_short(row['property'])} {row['value']}"))
    return problems


def run_shacl(graph: Graph, shapes: Graph | None = None) -> list[Problem]:
    """Validate ``graph`` against the KB shapes with pySHACL (the data graph holds the whole KB)."""
    import pyshacl

    if shapes is None:
        shapes = kb.new_graph()
        kb.parse_into(shapes, kb.ONTOLOGY_DIR / "shapes" / "kb-shapes.ttl")
    conforms, results, _ = pyshacl.validate(graph, shacl_graph=shapes, advanced=True, inference="none")
    if conforms:
        return []
    problems = []
    for result in results.subjects(RDF.type, SH.ValidationResult):
        focus = results.value(result, SH.focusNode)
        value = results.value(result, SH.value)
        msg = results.value(result, SH.resultMessage)
        path = results.value(result, SH.resultPath)
        where = _describe(graph, focus)
        detail = (
            f"{msg}"
            + (f" (path {_short(path)})" if path is not None else "")
            + (f" (value {_short(value)})" if value is not None and value != focus else "")
        )
        problems.append(Problem("shacl", where, detail))
    return sorted(problems, key=str)


def fold(text: str) -> str:
    """Fold every run of whitespace to one space (the only normalisation quotes are allowed)."""
    return re.sub(r"\s+", " ", text).strip()


def load_articles(graph: Graph, seeds_dir: Path | None = None) -> dict[str, str]:
    """The text of every article the KB names, keyed by the article IRI, read from the seeds folder."""
    root = Path(seeds_dir or SEEDS_DIR)
    if not root.is_dir():
        raise SeedsNotFoundError(
            f"{root}: seeds folder not found (set SPINEKG_SEEDS to the folder of the source articles)"
        )
    texts = {}
    for article in graph.subjects(RDF.type, SK.Article):
        name = graph.value(article, SK.seedFile)
        path = root / str(name)
        if not path.is_file():
            raise SeedsNotFoundError(f"{path}: article file of {article} not found")
        texts[str(article)] = path.read_text(encoding="utf-8")
    return texts


def check_quotes(graph: Graph, seeds_dir: Path | None = None) -> list[Problem]:
    """Every ``oa:exact`` occurs verbatim in its article (whitespace folded), and each article's digest matches."""
    import hashlib

    texts = load_articles(graph, seeds_dir)
    problems = []
    for article, text in texts.items():
        want = str(graph.value(_iri(article), SK.sha256))
        got = hashlib.sha256(text.encode("utf-8")).hexdigest()
        if want != got:
            problems.append(
                Problem("quotes", _short(article), f"article text changed: sha256 {got}, the KB records {want}")
            )
    folded = {a: fold(t) for a, t in texts.items()}
    for statement in graph.subjects(RDF.type, SK.EvidenceStatement):
        article = str(graph.value(statement, DCTERMS.source))
        for target in graph.objects(statement, OA.hasTarget):
            for selector in graph.objects(target, OA.hasSelector):
                exact = graph.value(selector, OA.exact)
                if exact is None:
                    continue
                # the prefix and suffix, where given, must stand right before and after it (W3C TextQuoteSelector)
                around = [graph.value(selector, p) for p in (OA.prefix, OA.exact, OA.suffix)]
                anchored = fold("".join(str(p) for p in around if p is not None))
                if article not in folded:
                    problems.append(Problem("quotes", _short(statement), f"article {article} is not a known article"))
                elif fold(str(exact)) not in folded[article]:
                    problems.append(
                        Problem(
                            "quotes", _short(statement), f"oa:exact does not occur in the article: {str(exact)[:80]!r}"
                        )
                    )
                elif anchored not in folded[article]:
                    problems.append(
                        Problem(
                            "quotes",
                            _short(statement),
                            f"oa:prefix, oa:exact, oa:suffix are not in a row in the article: {anchored[:80]!r}",
                        )
                    )
    return problems


def check_dl(graph: Graph) -> list[Problem]:
    """OWL 2 DL consistency with HermiT; an unsatisfiable named class is a problem too."""
    from .dl import check_consistency

    result = check_consistency(graph)
    if not result.consistent:
        return [Problem("dl", "ontology", result.message)]
    return [Problem("dl", _short(iri), "class is unsatisfiable") for iri in result.unsatisfiable]


def check_normalised() -> list[Problem]:
    """Every Turtle file is in its normalised serialisation (``spinekg kb normalize`` fixes it)."""
    return [
        Problem("normalised", str(p), "not in normalised form: run `spinekg kb normalize`")
        for p in kb.normalise(check=True)
    ]


GATES: dict[str, Callable[[Graph], list[Problem]]] = {
    "normalised": lambda g: check_normalised(),
    "shacl": run_shacl,
    "violations": run_violation_checks,
    "quotes": check_quotes,
    "dl": check_dl,
}


def validate(graph: Graph | None = None, gates: list[str] | None = None) -> ValidationReport:
    """Run the quality gates (all by default) over the KB and collect every problem."""
    g = graph if graph is not None else kb.load_kb()
    names = gates or list(GATES)
    problems: list[Problem] = []
    for name in names:
        problems.extend(GATES[name](g))
    return ValidationReport(tuple(names), tuple(problems))


def _iri(text: str):
    from rdflib import URIRef

    return URIRef(text)


def _short(term) -> str:
    """A prefixed name for an IRI of a known namespace (``sk:nsaid``), else the text as it is."""

    text = str(term)
    for prefix, ns in PREFIXES.items():
        if text.startswith(str(ns)) and len(text) > len(str(ns)):
            return f"{prefix}:{text[len(str(ns)) :]}"
    return text


def _describe(graph: Graph, node) -> str:
    """Name a focus node; a blank node is named by the recommendation or statement that holds it."""
    from rdflib import BNode

    seen = set()
    while isinstance(node, BNode) and node not in seen:
        seen.add(node)
        parent = next(graph.subjects(None, node), None)
        if parent is None:
            break
        node = parent
    return _short(node)
