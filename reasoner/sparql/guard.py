"""The endpoint's read-only guard: which SPARQL queries may run and with what LIMIT, checked in worker processes."""

from __future__ import annotations

import json
import os
import queue
import re
import select
import subprocess
import sys
import threading
import time
from dataclasses import asdict, dataclass
from typing import cast

from pyparsing import ParseException, ParseResults
from rdflib.plugins.sparql.parser import expandUnicodeEscapes, parseQuery, parseUpdate
from rdflib.plugins.sparql.parserutils import CompValue

from ..errors import EndpointError

_PARSE_LOCK = threading.Lock()  # pyparsing's packrat cache is not thread-safe
_TOKEN = re.compile(
    r"""(?P<ws>\s+)|(?P<comment>\#[^\n\r]*)
    |(?P<string>'''(?:[^'\\]|\\.|'(?!''))*'''|\"\"\"(?:[^"\\]|\\.|"(?!""))*\"\"\"
       |'(?:[^'\\\n\r]|\\.)*'|"(?:[^"\\\n\r]|\\.)*")
    |(?P<iri><[^<>"{}|^`\\\x00-\x20]*>)|(?P<var>[?$]\w+)
    |(?P<pname>(?:[^\W\d][\w.-]*)?:(?:[\w.:%-]|\\.)*)|(?P<word>[^\W\d]\w*)|(?P<number>\d+)|(?P<punct>.)""",
    re.X | re.S,
)
#: How deep rdflib's parser may recurse in a checker (its grammar recurses per nested group and per triple).
CHECKER_RECURSION = 50_000


@dataclass(frozen=True)
class CheckedQuery:
    """A query the guard lets through: its form, the text sent on, and whether its LIMIT was set by the guard."""

    form: str
    text: str
    limited: bool


def check_query(text: str, max_rows: int) -> CheckedQuery:
    """Refuse updates and SERVICE (403) and bad syntax (400); give SELECT/CONSTRUCT/DESCRIBE ``LIMIT max_rows``.

    An existing top-level LIMIT above ``max_rows`` is lowered, a missing one appended (before a trailing
    VALUES block); the rewritten query is parsed again to check that its LIMIT is what was meant. A query
    nested deeper than rdflib's parser can follow is refused (400), as is an empty one.

    >>> check_query("SELECT * WHERE { ?s ?p ?o }", 100)
    CheckedQuery(form='SELECT', text='SELECT * WHERE { ?s ?p ?o }\\nLIMIT 100', limited=True)
    >>> check_query("ASK { ?s ?p ?o }", 100).text
    'ASK { ?s ?p ?o }'
    >>> check_query("SELECT * { SERVICE <http://example.org/sparql> { ?s ?p ?o } }", 100)
    Traceback (most recent call last):
    ...
    reasoner.errors.EndpointError: SERVICE (federated query) is refused: this endpoint does not reach other hosts
    >>> check_query("", 100)
    Traceback (most recent call last):
    ...
    reasoner.errors.EndpointError: not a SPARQL query: the query is empty
    """
    try:
        return _check(text, max_rows)
    except RecursionError as exc:
        raise EndpointError("not a SPARQL query this endpoint can check: it is nested too deeply", 400) from exc


def _check(text: str, max_rows: int) -> CheckedQuery:
    expanded = expandUnicodeEscapes(text)
    if not expanded.strip():
        raise EndpointError("not a SPARQL query: the query is empty", 400)
    if re.search(r"[\ud800-\udfff]", expanded):
        raise EndpointError("not a SPARQL query: a \\u escape names a lone surrogate, which is not a character", 400)
    parsed = _parse(text)
    form = parsed[1].name.removesuffix("Query").upper()
    tokens = [t for t in _tokens(expanded) if t[0] not in ("ws", "comment")]
    if "ServiceGraphPattern" in _names(parsed) or any(k == "word" and v.upper() == "SERVICE" for k, v, _ in tokens):
        raise EndpointError("SERVICE (federated query) is refused: this endpoint does not reach other hosts", 403)
    if form == "ASK":
        return CheckedQuery(form, text, False)
    out = _clamp(expanded, tokens, max_rows)
    limit = _limit(_parse(out) if out != expanded else parsed)
    if limit is None or limit > max_rows:
        raise EndpointError(f"could not apply the result limit of {max_rows} rows to this query", 400)
    return CheckedQuery(form, text if out == expanded else out, out != expanded)


def _parse(text: str) -> ParseResults:
    with _PARSE_LOCK:
        try:
            return parseQuery(text)
        except ParseException as exc:
            try:
                ops = sorted({op.name for op in parseUpdate(text).request or []})
            except ParseException:
                raise EndpointError(f"not a SPARQL query: {exc}", 400) from exc
            if not ops:  # only a prologue or comments: an empty update
                raise EndpointError(f"not a SPARQL query: {exc}", 400) from exc
    raise EndpointError(f"read-only endpoint: SPARQL Update is refused ({', '.join(ops)})", 403)


def _limit(parsed: ParseResults) -> int | None:
    """The top-level LIMIT of a parsed query (rdflib's ``CompValue.get`` answers a missing key with its name)."""
    query = parsed[1]
    clauses = query["limitoffset"] if "limitoffset" in query else {}
    return int(clauses["limit"]) if "limit" in clauses else None


def _names(node: object) -> set[str]:
    """The names of every parse-tree node under ``node``."""
    if isinstance(node, CompValue):
        return {node.name}.union(*(_names(v) for v in node.values()))
    if isinstance(node, (ParseResults, list, tuple)):
        return set().union(*(_names(v) for v in node))
    return set()


def _tokens(text: str) -> list[tuple[str, str, int]]:
    return [(m.lastgroup or "", m.group(), m.start()) for m in _TOKEN.finditer(text)]


def _clamp(text: str, tokens: list[tuple[str, str, int]], max_rows: int) -> str:
    """Lower or add the top-level LIMIT (the one outside every ``{ }``)."""
    depth, values_at = 0, None
    for i, (kind, value, start) in enumerate(tokens):
        depth += {"{": 1, "}": -1}.get(value, 0) if kind == "punct" else 0
        if depth or kind != "word":
            continue
        if value.upper() == "LIMIT" and i + 1 < len(tokens) and tokens[i + 1][0] == "number":
            _, n, at = tokens[i + 1]
            return text if int(n) <= max_rows else f"{text[:at]}{max_rows}{text[at + len(n) :]}"
        if value.upper() == "VALUES" and values_at is None:
            values_at = start
    if values_at is None:
        return f"{text}\nLIMIT {max_rows}"
    return f"{text[:values_at]}LIMIT {max_rows}\n{text[values_at:]}"


# --- checking in worker processes ---------------------------------------------------------------------------------


class Checkers:
    """``check_query`` in worker processes, so that a query's check is held to the time limit too.

    rdflib's parser is pure Python and slow on some queries (a long chain of ``+`` takes seconds), and it
    recurses once per nested group. In a worker the check runs beside the others (no lock held across
    requests), with its own deep stack; a worker that runs past the deadline is killed and replaced.

    >>> with Checkers(1) as checkers:
    ...     checkers.check("SELECT * { ?s ?p ?o }", 10, timeout_s=30).text
    'SELECT * { ?s ?p ?o }\\nLIMIT 10'
    """

    def __init__(self, size: int = 2, start_timeout_s: float = 60.0) -> None:
        self._idle: queue.Queue[subprocess.Popen] = queue.Queue()
        self._procs: set[subprocess.Popen] = set()
        self._lock = threading.Lock()
        self._closed = False
        self._start_timeout_s = start_timeout_s
        starting = [self._spawn() for _ in range(size)]
        for proc in starting:
            if not self._ready(proc):
                self.close()
                raise EndpointError("the query checker process did not start")
            self._idle.put(proc)

    def _spawn(self) -> subprocess.Popen:
        proc = subprocess.Popen(
            [sys.executable, "-c", "from reasoner.sparql.guard import checker_main; checker_main()"],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            bufsize=0,
        )
        with self._lock:
            self._procs.add(proc)
        return proc

    def _ready(self, proc: subprocess.Popen) -> bool:
        line = _read_line(proc, time.monotonic() + self._start_timeout_s)
        return bool(line) and json.loads(cast(bytes, line)).get("ready") is True

    def _replace(self, proc: subprocess.Popen) -> None:
        """Kill ``proc`` and start another in the background (the request that waited does not wait for it)."""
        _kill(proc)
        with self._lock:
            self._procs.discard(proc)

        def start() -> None:
            new = self._spawn()
            if self._ready(new) and not self._closed:
                self._idle.put(new)
            else:
                _kill(new)

        threading.Thread(target=start, name="spinekg-checker-start", daemon=True).start()

    def check(self, text: str, max_rows: int, timeout_s: float) -> CheckedQuery:
        """:func:`check_query` in a free worker, within ``timeout_s`` (else 504; every worker busy: 503)."""
        deadline = time.monotonic() + timeout_s
        try:
            proc = self._idle.get(timeout=max(0.0, timeout_s))
        except queue.Empty:
            raise EndpointError(f"every query checker stayed busy for the time limit of {timeout_s:g} s", 503) from None
        line = None
        try:
            _write_all(proc, json.dumps({"query": text, "max_rows": max_rows}).encode() + b"\n")
            line = _read_line(proc, deadline)
        except OSError:
            line = b""
        finally:
            if line:
                self._idle.put(proc)
            else:
                self._replace(proc)
        if line is None:
            raise EndpointError(f"the query could not be checked within the time limit of {timeout_s:g} s", 504)
        if not line:
            raise EndpointError("the query could not be checked: its checker stopped", 400)
        answer = json.loads(line)
        if "refused" in answer:
            raise EndpointError(answer["refused"], answer["status"])
        return CheckedQuery(**answer["checked"])

    def close(self) -> None:
        self._closed = True
        with self._lock:
            procs, self._procs = list(self._procs), set()
        for proc in procs:
            _kill(proc)

    def __enter__(self) -> Checkers:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _write_all(proc: subprocess.Popen, data: bytes) -> None:
    assert proc.stdin is not None  # started with stdin=PIPE
    view = memoryview(data)
    while view:
        view = view[os.write(proc.stdin.fileno(), view) :]


def _read_line(proc: subprocess.Popen, deadline: float) -> bytes | None:
    """One line from ``proc``'s stdout by ``deadline``: the line, b"" when it closed, None when time ran out."""
    assert proc.stdout is not None  # started with stdout=PIPE
    fd, data = proc.stdout.fileno(), b""
    while not data.endswith(b"\n"):
        left = deadline - time.monotonic()
        if left <= 0 or not select.select([fd], [], [], left)[0]:
            return None
        chunk = os.read(fd, 1 << 16)
        if not chunk:
            return b""
        data += chunk
    return data


def _kill(proc: subprocess.Popen) -> None:
    if proc.poll() is None:
        proc.kill()
    proc.wait(10)
    for pipe in (proc.stdin, proc.stdout):
        if pipe is not None:
            pipe.close()


def checker_main() -> None:
    """A checker process: one JSON request a line on stdin, one JSON answer a line on stdout, until stdin ends."""
    sys.setrecursionlimit(CHECKER_RECURSION)
    threading.stack_size(256 * 1024 * 1024)  # address space reserved for deep recursion, not memory used
    worker = threading.Thread(target=_checker_loop, name="spinekg-checker")
    worker.start()
    worker.join()


def _checker_loop() -> None:
    out = sys.stdout.buffer
    out.write(b'{"ready": true}\n')
    out.flush()
    for line in sys.stdin.buffer:
        job = json.loads(line)
        try:
            answer: dict = {"checked": asdict(check_query(job["query"], job["max_rows"]))}
        except EndpointError as exc:
            answer = {"refused": str(exc), "status": exc.status or 400}
        out.write(json.dumps(answer).encode() + b"\n")
        out.flush()
