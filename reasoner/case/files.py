"""Case files and text: YAML (strict: no aliases, merge keys or duplicate keys), JSON (a FHIR R4 Bundle too),
Turtle and JSON-LD, read within size, depth and digit limits, then validated by :mod:`reasoner.case.model`.

The limits are the same in every format: a file or text of at most ``MAX_BYTES`` (a JSON Lines line too), a
leading UTF-8 byte order mark skipped, anything but a regular file refused before it is read (a FIFO would
block), a number of an RDF case read from at most ``MAX_NUMBER_CHARS`` characters, no XML or HTML literal."""

from __future__ import annotations

import json
import os
import re
import stat
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING

from rdflib import Literal

from ..fhir.read import case_from_bundle
from .fromgraph import graph_document
from .model import (
    _FORMATS,
    CASE_BASE,
    MAX_BYTES,
    MAX_DEPTH,
    MAX_DIGITS,
    MAX_STRING,
    MAX_WEEKS,
    Case,
    CaseError,
    CaseProblem,
    vocabulary,
)
from .rdf import MAX_LITERAL_CHARS, MAX_NUMBER_CHARS, RefusedLiteral, literal_value, parse_graph
from .spec import _join
from .validate import _validate

if TYPE_CHECKING:
    import yaml

__all__ = [
    "MAX_BYTES",
    "MAX_DEPTH",
    "MAX_DIGITS",
    "MAX_LITERAL_CHARS",
    "MAX_NUMBER_CHARS",
    "MAX_STRING",
    "MAX_WEEKS",
    "load_case",
    "loads",
    "read_text",
]
#: A UTF-8 byte order mark, as text: skipped at the start of a file or text in every format (editors write it).
BOM = "\ufeff"


_BOOL, _INT, _FLOAT = "tag:yaml.org,2002:bool", "tag:yaml.org,2002:int", "tag:yaml.org,2002:float"


@cache
def _yaml_loader() -> type[yaml.SafeLoader]:
    """The YAML loader of case files, made at its first use: importing PyYAML takes about 10 ms of a cold command
    that a JSON, Turtle or FHIR case does not need. (``_YamlLoader`` names it too.)"""
    import yaml

    class _YamlLoader(yaml.SafeLoader):
        """The safe loader with YAML 1.2 core-schema scalars: no yes/no/on/off booleans, no sexagesimal or octal."""

    _YamlLoader.yaml_implicit_resolvers = {
        first: [(tag, rx) for tag, rx in resolvers if tag not in (_BOOL, _INT, _FLOAT)]
        for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
    }
    _YamlLoader.add_implicit_resolver(_BOOL, re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$"), list("tTfF"))
    _YamlLoader.add_implicit_resolver(_INT, re.compile(r"^[-+]?[0-9]+$"), list("-+0123456789"))
    _YamlLoader.add_implicit_resolver(
        _FLOAT,
        re.compile(
            r"^[-+]?(?:\.[0-9]+|[0-9]+\.[0-9]*|[0-9]+(?:\.[0-9]*)?[eE][-+]?[0-9]+)$|^[-+]?\.(?:inf|Inf|INF)$|^\.(?:nan|NaN|NAN)$"
        ),
        list("-+0123456789."),
    )
    _YamlLoader.add_constructor(_INT, _yaml_int)
    return _YamlLoader


def __getattr__(name: str) -> object:
    if name == "_YamlLoader":  # the loader class, made when first asked for (tests load example files with it)
        return _yaml_loader()
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def _yaml_int(loader: yaml.SafeLoader, node: yaml.ScalarNode) -> int:
    import yaml

    text = loader.construct_scalar(node)
    if len(text.lstrip("+-")) > MAX_DIGITS:
        raise yaml.constructor.ConstructorError(
            None, None, f"an integer of more than {MAX_DIGITS} digits", node.start_mark
        )
    return int(text)


def _scan_yaml(node, path: str, seen: set, out: list[CaseProblem], aliases: list[CaseProblem]) -> None:
    """Find duplicate keys (``out``) and aliases (``aliases``) in a composed YAML tree, with their paths.

    An alias is the same node met twice; it is not walked again, so an alias bomb costs nothing here.
    """
    import yaml

    if id(node) in seen:
        line = node.start_mark.line + 1
        aliases.append(
            CaseProblem(path, None, f"repeats the YAML anchor of line {line}; anchors and aliases are not allowed")
        )
        return
    seen.add(id(node))
    if isinstance(node, yaml.MappingNode):
        lines: dict[tuple, int] = {}
        for key, value in node.value:
            name = key.value if isinstance(key, yaml.ScalarNode) else "?"
            line = key.start_mark.line + 1
            if key.tag == "tag:yaml.org,2002:merge":  # '<<' would copy values to paths the file does not show
                out.append(CaseProblem(_join(path, name), name, f"is a YAML merge key (line {line}); not allowed"))
            if (key.tag, name) in lines:
                first = lines[(key.tag, name)]
                out.append(CaseProblem(_join(path, name), name, f"is a duplicate key (lines {first} and {line})"))
            lines.setdefault((key.tag, name), line)
            _scan_yaml(value, _join(path, name), seen, out, aliases)
    elif isinstance(node, yaml.SequenceNode):
        for i, item in enumerate(node.value):
            _scan_yaml(item, f"{path}[{i}]", seen, out, aliases)


class _Duplicated(dict):
    """A JSON object that gave a key more than once (the last value is kept, the keys are remembered)."""

    duplicates: list


def _json_object(pairs):
    out, dups = {}, []
    for key, value in pairs:
        if key in out:
            dups.append(key)
        out[key] = value
    if not dups:
        return out
    marked = _Duplicated(out)
    marked.duplicates = dups
    return marked


def _plain(value, path: str, out: list[CaseProblem]):
    """The parsed JSON with plain dicts, each duplicate key reported at its path."""
    if isinstance(value, dict):
        for key in getattr(value, "duplicates", []):
            out.append(CaseProblem(_join(path, key), key, "is a duplicate key"))
        return {k: _plain(v, _join(path, k), out) for k, v in value.items()}
    if isinstance(value, list):
        return [_plain(v, f"{path}[{i}]", out) for i, v in enumerate(value)]
    return value


def _remote_contexts(value, path: str) -> list[CaseProblem]:
    """``@context`` / ``@import`` values that name a document: rdflib would fetch them, so they are refused."""
    found = []
    if isinstance(value, dict):
        for key, item in value.items():
            named = [x for x in (item if isinstance(item, list) else [item]) if isinstance(x, str)]
            if key in ("@context", "@import") and named:
                found.append(CaseProblem(_join(path, key), named[0], "is a remote JSON-LD context (not fetched)"))
            found += _remote_contexts(item, _join(path, key))
    elif isinstance(value, list):
        for i, item in enumerate(value):
            found += _remote_contexts(item, f"{path}[{i}]")
    return found


def _json_int(text: str) -> int:
    if len(text.lstrip("-")) > MAX_DIGITS:
        raise ValueError(f"an integer of more than {MAX_DIGITS} digits")
    return int(text)


def _parse_text(text: str, fmt: str, source: str) -> tuple[object, list[CaseProblem]]:
    try:
        data, problems = _parse(text, fmt, source)
    except RecursionError:  # the parsers and the walks over their trees recurse once per level
        return None, [CaseProblem("", source, f"is not valid {fmt.upper()}: nested too deeply")]
    deep = _too_deep(data)
    return (data, problems) if deep is None else (None, [*problems, deep])


def _too_deep(value: object) -> CaseProblem | None:
    """The first list or mapping nested more than ``MAX_DEPTH`` levels deep (checked without recursion)."""
    stack = [(value, "", 0)]
    while stack:
        item, path, depth = stack.pop()
        if depth > MAX_DEPTH and isinstance(item, (dict, list)):
            shown = "{…}" if isinstance(item, dict) else "[…]"
            return CaseProblem(path, shown, f"is nested more than {MAX_DEPTH} levels deep")
        if isinstance(item, dict):
            stack += [(v, _join(path, k), depth + 1) for k, v in item.items()]
        elif isinstance(item, list):
            stack += [(v, f"{path}[{i}]", depth + 1) for i, v in enumerate(item)]
    return None


def _parse(text: str, fmt: str, source: str) -> tuple[object, list[CaseProblem]]:
    problems: list[CaseProblem] = []
    if fmt == "json":
        try:
            data = json.loads(text, object_pairs_hook=_json_object, parse_int=_json_int)
        except (json.JSONDecodeError, ValueError) as exc:  # ValueError: from _json_int
            return None, [CaseProblem("", source, f"is not valid JSON: {exc}")]
        return _plain(data, "", problems), problems
    import yaml

    loader = None
    try:
        loader = _yaml_loader()(text)  # its reader refuses control characters at once
        node = loader.get_single_node()
        if node is None:
            return None, []
        aliases: list[CaseProblem] = []
        _scan_yaml(node, "", set(), problems, aliases)
        if aliases:  # constructing and walking a document of aliases can take exponential time
            return None, problems + aliases
        return loader.construct_document(node), problems
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" (line {mark.line + 1}, column {mark.column + 1})" if mark is not None else ""
        what = getattr(exc, "problem", None) or str(exc)
        return None, [CaseProblem("", source, f"is not valid YAML: {what}{where}")]
    finally:
        if loader is not None:
            loader.dispose()


def load_case(path: str | os.PathLike) -> Case:
    """Read a case file by its extension (``.yaml``/``.yml``, ``.json``, ``.ttl``, ``.jsonld``; a ``.json`` file may be
    a FHIR R4 Bundle) and validate it.

    >>> import pathlib, tempfile
    >>> p = pathlib.Path(tempfile.mkdtemp()) / "c4.yaml"
    >>> _ = p.write_text("id: c4\\nsymptoms:\\n  - {type: radicular_pain, dermatomes: [L5], laterality: left}\\n")
    >>> load_case(p).data["symptoms"][0]["dermatomes"]
    ['L5']
    """
    source = str(path)
    fmt = _FORMATS.get(Path(path).suffix.lower())
    if fmt is None:
        raise CaseError(
            [CaseProblem("", source, f"has an unknown extension (one of {', '.join(_FORMATS)})")], source=source
        )
    text = read_text(path)
    if fmt == "json-ld":
        data, problems = _parse_text(text, "json", source)
        problems += _remote_contexts(data, "")
        if problems:
            raise CaseError(problems, source=source)
    if fmt in ("turtle", "json-ld"):
        try:  # pyoxigraph keeps every literal's lexical form: rdflib would convert (and parse XML/HTML) at once
            graph = parse_graph(text, fmt, CASE_BASE)
        except (SyntaxError, ValueError) as exc:
            detail = " ".join(str(exc).split())
            raise CaseError([CaseProblem("", source, f"is not valid {fmt}: {detail}")], source=source) from None
        data, found = graph_document(graph, vocabulary())
        if data is None:
            raise CaseError([CaseProblem(*p) for p in found], source=source)
        return _validate(data, source, [CaseProblem(*p) for p in found] + _stray_literals(graph, data))
    return loads(text, fmt, source)


def _stray_literals(graph, data: object) -> list[CaseProblem]:
    """Literals refused (XML, HTML, too long) on triples that are not a field of the case: refused all the same,
    named by subject and predicate (those on a field are reported there by validation)."""
    reached, stack = set(), [data]
    while stack:
        item = stack.pop()
        if isinstance(item, RefusedLiteral):
            reached.add(item)
        elif isinstance(item, dict):
            stack += item.values()
        elif isinstance(item, list):
            stack += item
    out = []
    for s, p, o in sorted(graph, key=str):
        value = literal_value(o) if isinstance(o, Literal) else None
        if isinstance(value, RefusedLiteral) and value not in reached:
            out.append(CaseProblem("", value.shown, f"{value.reason}, on <{s}> <{p}>"))
    return out


def read_text(path: str | os.PathLike) -> str:
    """The text of a case file: a regular file (a FIFO or device is refused without blocking on it) of at most
    ``MAX_BYTES``, UTF-8, a leading byte order mark skipped; else a CaseError naming the file.

    >>> read_text("/dev/null")
    Traceback (most recent call last):
    ...
    reasoner.errors.CaseError: /dev/null: 1 problem in the case
      : '/dev/null' is not a regular file (a character device)
    """
    source = str(path)
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK)  # a FIFO opens at once instead of waiting for a writer
        mode, size = (st := os.fstat(fd)).st_mode, st.st_size
        if not stat.S_ISREG(mode):
            os.close(fd)
            message = f"is not a regular file ({_KINDS.get(stat.S_IFMT(mode), 'not a file')})"
            raise CaseError([CaseProblem("", source, message)], source=source)
        with open(fd, "rb") as f:
            raw = f.read(MAX_BYTES + 1)
        if len(raw) > MAX_BYTES:
            big = f"{size / 1e6:.1f} MB, " if size > MAX_BYTES else ""
            message = f"is {big}larger than the {MAX_BYTES / 1e6:g} MB limit of a case file"
            raise CaseError([CaseProblem("", source, message)], source=source)
        return raw.decode("utf-8").removeprefix(BOM)
    except (OSError, UnicodeDecodeError) as exc:
        raise CaseError([CaseProblem("", source, f"cannot be read: {exc}")], source=source) from exc


_KINDS = {
    stat.S_IFDIR: "a directory",
    stat.S_IFIFO: "a FIFO",
    stat.S_IFCHR: "a character device",
    stat.S_IFBLK: "a block device",
    stat.S_IFSOCK: "a socket",
}


def loads(text: str, fmt: str = "json", source: str = "<text>") -> Case:
    """Read and validate a case from text in JSON (a FHIR R4 Bundle too) or YAML (one line of a JSON Lines cohort),
    within the limits of a case file: at most ``MAX_BYTES`` of UTF-8, a leading byte order mark skipped.

    >>> loads('{"id": "c5", "age": 50}').data
    {'id': 'c5', 'age': 50}
    """
    if len(text) > MAX_BYTES or len(text.encode("utf-8", "surrogatepass")) > MAX_BYTES:
        message = f"is larger than the {MAX_BYTES / 1e6:g} MB limit of a case"
        raise CaseError([CaseProblem("", source, message)], source=source)
    data, problems = _parse_text(text.removeprefix(BOM), fmt, source)
    if data is None and problems:
        raise CaseError(problems, source=source)
    if fmt == "json" and isinstance(data, dict) and data.get("resourceType") == "Bundle":
        if problems:  # duplicate keys: the Bundle is not read as given
            raise CaseError(problems, source=source)

        data = case_from_bundle(data, source)
    return _validate(data, source, problems)
