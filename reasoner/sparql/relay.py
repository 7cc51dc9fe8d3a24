"""The guard's HTTP side: requests read by a deadline, checked, relayed to the store with a byte and time cap."""

from __future__ import annotations

import http.client
import io
import logging
import queue
import re
import socket
import threading
import time
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, HTTPServer
from urllib.parse import parse_qsl, urlencode, urlsplit

import pyoxigraph as ox
from rdflib import Graph

from ..errors import EndpointError
from .backend import Backend
from .guard import CheckedQuery, Checkers

log = logging.getLogger("spinekg.serve")

#: ``format=`` values a browser form may send instead of an Accept header.
FORMAT_PARAM = {
    "json": "application/sparql-results+json",
    "xml": "application/sparql-results+xml",
    "csv": "text/csv",
    "tsv": "text/tab-separated-values",
    "ttl": "text/turtle",
    "nt": "application/n-triples",
    "rdfxml": "application/rdf+xml",
    "jsonld": "application/ld+json",
}
SD_FORMATS = {"text/turtle": "turtle", "application/n-triples": "nt", "application/rdf+xml": "xml"}
SD_FORMATS["application/ld+json"] = "json-ld"
CANCELLED = b"The SPARQL operation has been cancelled"
#: An answer up to this size is read whole and checked before it is sent (with a status that says what went
#: wrong); a longer one is streamed as it comes, and a stream cut short ends without its last chunk.
CHECKED_BYTES = 1 << 20
CHUNK = 1 << 16


def preferred(accept: str, offered: list[str]) -> str:
    """The offered media type the Accept header ranks highest (ties and wildcards: the first offered).

    >>> preferred("text/turtle;q=0.5, application/rdf+xml", ["text/turtle", "application/rdf+xml"])
    'application/rdf+xml'
    >>> preferred("", ["text/turtle", "application/rdf+xml"])
    'text/turtle'
    >>> preferred("text/turtle;q=., application/rdf+xml;q=0.5", ["application/rdf+xml", "text/turtle"])
    'text/turtle'
    """
    ranks = {}
    for item in accept.split(","):
        media, _, params = item.strip().partition(";")
        q = re.search(r"q=([0-9]+(?:\.[0-9]*)?|\.[0-9]+)", params)  # a malformed q counts as 1
        ranks[media.strip().lower()] = float(q.group(1)) if q else 1.0
    wild = max(ranks.get("*/*", 0.0), 0.0 if ranks else 1.0)
    return max(offered, key=lambda m: (ranks.get(m, ranks.get(m.split("/")[0] + "/*", wild)), -offered.index(m)))


@dataclass(frozen=True)
class GuardConfig:
    """What the guard's handlers share: the store, the checkers, the limits, the description and the page."""

    backend: Backend
    checkers: Checkers
    timeout_s: float
    max_rows: int
    max_body: int
    max_result_bytes: int
    request_deadline_s: float
    description: Graph
    page: bytes


class GuardServer(HTTPServer):
    """An HTTP server with a deep listen backlog and a bounded pool of worker threads.

    Connections wait in the kernel's backlog (``request_queue_size``) and then in a queue of ``pending``
    for one of ``workers`` threads; one that finds the queue full is answered 503 at once, never reset.
    """

    request_queue_size = 1024
    guard: GuardConfig

    def __init__(self, address: tuple[str, int], family: int, workers: int = 64, pending: int = 1024) -> None:
        self.address_family = family
        self._pending: queue.Queue[tuple[socket.socket, object] | None] = queue.Queue(pending)
        self._workers = [threading.Thread(target=self._work, name="spinekg-guard", daemon=True) for _ in range(workers)]
        super().__init__(address, Guard)
        for worker in self._workers:
            worker.start()

    def process_request(self, request: socket.socket, client_address: object) -> None:  # type: ignore[override]
        try:
            self._pending.put_nowait((request, client_address))
        except queue.Full:
            _busy(request)
            self.shutdown_request(request)

    def _work(self) -> None:
        while (item := self._pending.get()) is not None:
            request, client_address = item
            try:
                self.finish_request(request, client_address)
            except Exception:
                self.handle_error(request, client_address)
            finally:
                self.shutdown_request(request)

    def server_close(self) -> None:
        super().server_close()
        while True:  # connections still waiting are closed; each worker gets its end mark
            try:
                item = self._pending.get_nowait()
            except queue.Empty:
                break
            if item is not None:
                self.shutdown_request(item[0])
        for worker in self._workers:
            if worker.is_alive():
                self._pending.put(None)


def _busy(request: socket.socket) -> None:
    body = b"the endpoint is busy: every worker and the waiting queue are taken; try again\n"
    head = b"HTTP/1.1 503 Service Unavailable\r\nContent-Type: text/plain; charset=utf-8\r\nRetry-After: 1\r\n"
    try:
        request.settimeout(1)
        request.sendall(head + b"Connection: close\r\nContent-Length: %d\r\n\r\n%s" % (len(body), body))
    except OSError:
        pass


class _DeadlineReader(io.RawIOBase):
    """The request side of a connection, held to the handler's deadline for the whole request (not per read)."""

    def __init__(self, sock: socket.socket, handler: Guard) -> None:
        self.sock, self.handler = sock, handler

    def readable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:
        left = self.handler.read_deadline - time.monotonic()
        if left <= 0:
            raise TimeoutError("the request was not received within the deadline")
        self.sock.settimeout(left)
        return self.sock.recv_into(buffer)


class _Upstream(http.client.HTTPConnection):
    """An HTTP connection over a socket already connected to the store."""

    def __init__(self, sock: socket.socket) -> None:
        super().__init__("oxigraph")
        self.sock = sock

    def connect(self) -> None:  # the socket is connected already
        pass


class Guard(BaseHTTPRequestHandler):
    """One request: refuse what must not run, forward the rest to Oxigraph under the time and size limits."""

    server_version = "spinekg-serve"
    protocol_version = "HTTP/1.1"
    server: GuardServer
    read_deadline = 0.0

    @property
    def cfg(self) -> GuardConfig:
        return self.server.guard

    def setup(self) -> None:
        super().setup()
        self.rfile.close()
        self.rfile = io.BufferedReader(_DeadlineReader(self.connection, self), CHUNK)

    def log_message(self, format: str, *args: object) -> None:
        log.info("%s %s", self.address_string(), format % args)

    def _write(self, data: bytes, deadline: float | None = None) -> None:
        left = (deadline or time.monotonic() + self.cfg.request_deadline_s) - time.monotonic()
        if left <= 0:
            raise TimeoutError("the answer was not taken within the deadline")
        self.connection.settimeout(left)
        self.wfile.write(data)

    def send(self, status: int, body: bytes, content_type: str = "text/plain; charset=utf-8", **headers: str) -> None:
        self._sent = True
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        for name, value in headers.items():
            self.send_header(name.replace("_", "-"), value)
        if self.close_connection:
            self.send_header("Connection", "close")
        self.connection.settimeout(self.cfg.request_deadline_s)
        self.end_headers()
        self._write(body)

    def handle_one_request(self) -> None:
        """http.server's request loop under a total deadline for receiving the request, with any unforeseen
        error answered 500 (and logged) instead of a dropped connection and a traceback on the console."""
        self._sent = False
        self.read_deadline = time.monotonic() + self.cfg.request_deadline_s
        try:
            super().handle_one_request()
        except OSError:  # the client went away, or was too slow
            self.close_connection = True
        except Exception:  # a bug in the guard: the client still gets a status, the server keeps serving
            log.exception("internal error answering %s", getattr(self, "requestline", "?"))
            self.close_connection = True
            if not getattr(self, "_sent", False):
                try:
                    self.send(500, b"internal error of the endpoint's guard (logged)\n")
                except OSError:
                    pass

    def parse_request(self) -> bool:
        """http.server's parsing, then: one Content-Length at most, and no Transfer-Encoding (request smuggling)."""
        if not super().parse_request():
            return False
        problem = None
        if len(self.headers.get_all("Content-Length") or []) > 1:
            problem = b"more than one Content-Length header\n"
        elif "Transfer-Encoding" in self.headers:
            problem = b"Transfer-Encoding is not accepted in a request: send a Content-Length\n"
        if problem is None:
            return True
        self.close_connection = True
        self.send(400, problem)
        return False

    def do_GET(self) -> None:  # http.server's naming
        url = urlsplit(self.path)
        if url.path in ("/", "/index.html"):
            return self.send(200, self.cfg.page, "text/html; charset=utf-8")
        self.handle_sparql(url.path, parse_qsl(url.query, keep_blank_values=True))

    def do_POST(self) -> None:
        url = urlsplit(self.path)
        params = parse_qsl(url.query, keep_blank_values=True)
        length = self.headers.get("Content-Length")
        if length is None or not re.fullmatch(r"[0-9]{1,15}", length.strip()):  # str.isdigit() takes '²'
            self.close_connection = True
            return self.send(411, b"a POST needs a Content-Length (a decimal number of bytes)\n")
        if int(length) > self.cfg.max_body:
            self.close_connection = True
            return self.send(413, f"request body over {self.cfg.max_body} bytes\n".encode())
        body = self.rfile.read(int(length))
        if len(body) < int(length):
            self.close_connection = True
            return self.send(400, b"the request body ended before its Content-Length\n")
        ctype = self.headers.get("Content-Type", "").split(";")[0].strip().lower()
        try:
            if ctype == "application/x-www-form-urlencoded":
                params += parse_qsl(body.decode("utf-8"), keep_blank_values=True)
            elif ctype == "application/sparql-query":
                params.append(("query", body.decode("utf-8")))
            elif ctype == "application/sparql-update":
                params.append(("update", ""))
            elif url.path in ("/query", "/sparql"):
                return self.send(
                    415,
                    f"unsupported Content-Type {ctype!r}: send a query as "
                    "application/sparql-query or application/x-www-form-urlencoded\n".encode(),
                )
        except UnicodeDecodeError:
            return self.send(400, b"the request body is not UTF-8\n")
        self.handle_sparql(url.path, params)

    def handle_sparql(self, path: str, params: list[tuple[str, str]]) -> None:
        if path == "/update" or any(k == "update" for k, _ in params):
            return self.send(403, b"read-only endpoint: SPARQL Update is refused\n")
        if path not in ("/query", "/sparql"):
            return self.send(404, b"not found: the endpoint is /query, the query page /\n")
        queries = [v for k, v in params if k == "query"]
        if not queries:
            return self.describe()
        if len(queries) > 1:
            return self.send(400, b"more than one query parameter\n")
        deadline = time.monotonic() + self.cfg.timeout_s  # the check, the run and the transfer share the limit
        try:
            checked = self.cfg.checkers.check(queries[0], self.cfg.max_rows, self.cfg.timeout_s)
        except EndpointError as exc:
            return self.send(exc.status or 400, f"{exc}\n".encode())
        accept = self.headers.get("Accept", "").strip()
        if accept in ("", "*/*") or "text/html" in accept:  # a browser's form: format= says what it wants
            accept = FORMAT_PARAM.get(dict(params).get("format", ""), "*/*")
        dataset_params = [(k, v) for k, v in params if k in ("default-graph-uri", "named-graph-uri")]
        self.forward(checked, accept, urlencode([("query", checked.text), *dataset_params]).encode(), deadline)

    def describe(self) -> None:
        media = preferred(self.headers.get("Accept", ""), list(SD_FORMATS))
        body = self.cfg.description.serialize(format=SD_FORMATS[media], encoding="utf-8")
        self.send(200, body, media)

    def _over_time(self) -> None:
        self.send(504, f"the query ran over the time limit of {self.cfg.timeout_s:g} s\n".encode())

    def forward(self, checked: CheckedQuery, accept: str, body: bytes, deadline: float) -> None:
        """Send the query to Oxigraph and relay its answer by ``deadline`` and within the byte cap.

        An answer up to CHECKED_BYTES is read whole and checked (a cancelled one is 504); a longer one is
        streamed in chunks, and one that runs over the time or byte limit ends without its last chunk.
        """
        if deadline - time.monotonic() <= 0.001:
            return self._over_time()
        backend = self.cfg.backend
        if not backend.slots.acquire(timeout=max(0.0, deadline - time.monotonic())):
            return self.send(503, b"the store is busy with other queries: try again\n", Retry_After="1")
        try:
            self._forward(backend, checked, accept, body, deadline)
        finally:
            backend.slots.release()

    def _forward(self, backend: Backend, checked: CheckedQuery, accept: str, body: bytes, deadline: float) -> None:
        deaths = backend.deaths
        try:
            conn = _Upstream(backend.connect(deadline))
        except EndpointError as exc:
            return self.send(exc.status or 503, f"{exc}\n".encode(), Retry_After="1")
        headers = {"Content-Type": "application/x-www-form-urlencoded", "Accept": accept}
        try:
            conn.sock.settimeout(max(0.001, deadline - time.monotonic()))
            conn.request("POST", "/query", body, headers)
            resp = conn.getresponse()
            head, size = [], 0
            cap = min(CHECKED_BYTES, self.cfg.max_result_bytes)
            while size <= cap and (chunk := _read(conn, resp, deadline)):
                head.append(chunk)
                size += len(chunk)
            if size > self.cfg.max_result_bytes:
                return self.send(507, self._too_big())
            if size > cap:
                return self._stream(conn, resp, checked, head, size, deadline)
        except TimeoutError:
            return self._over_time()
        except (OSError, http.client.HTTPException) as exc:
            if backend.died_since(deaths, min(2.0, max(0.2, deadline - time.monotonic()))):
                return self.send(
                    503, b"the store stopped while running this query (over its memory limit?) and is restarted; "
                    b"the query was not answered\n",
                    Retry_After="1",
                )  # fmt: skip
            return self.send(502, f"the store did not answer: {exc}\n".encode())
        finally:
            conn.close()
        data = b"".join(head)
        ctype = resp.getheader("Content-Type", "application/octet-stream")
        if resp.status == 200 and (problem := _broken(data, ctype)):
            status = 504 if data.rstrip().endswith(CANCELLED) else 502
            return self.send(status, f"the store's answer was cut short: {problem}\n".encode())
        extra = {"Spinekg_Result_Limit": str(self.cfg.max_rows)} if checked.limited else {}
        self.send(resp.status, data, ctype, **extra)

    def _too_big(self) -> bytes:
        return (
            f"the answer is over {self.cfg.max_result_bytes} bytes, this endpoint's limit: "
            "ask for fewer rows or shorter values\n"
        ).encode()

    def _stream(self, conn, resp, checked: CheckedQuery, head: list[bytes], size: int, deadline: float) -> None:
        """Relay a long answer in chunks; over the time or byte limit, a last line says why and the last chunk
        (HTTP/1.0: the rest) is left out, so a client sees that the answer is incomplete."""
        chunked = self.request_version != "HTTP/1.0"
        self._sent = True
        self.send_response(resp.status)
        self.send_header("Content-Type", resp.getheader("Content-Type", "application/octet-stream"))
        if checked.limited:
            self.send_header("Spinekg-Result-Limit", str(self.cfg.max_rows))
        self.send_header("Transfer-Encoding" if chunked else "Connection", "chunked" if chunked else "close")
        self.connection.settimeout(max(0.001, deadline - time.monotonic()))
        self.end_headers()
        tail, problem = b"", None
        pending = list(head)
        try:
            while True:
                for chunk in pending:
                    self._write(b"%x\r\n%s\r\n" % (len(chunk), chunk) if chunked else chunk, deadline)
                    tail = (tail + chunk)[-len(CANCELLED) - 8 :]
                if size > self.cfg.max_result_bytes:
                    problem = self._too_big()
                    break
                chunk = _read(conn, resp, deadline)
                if not chunk:
                    break
                pending, size = [chunk], size + len(chunk)
        except TimeoutError:
            problem = f"the query ran over the time limit of {self.cfg.timeout_s:g} s\n".encode()
        except (OSError, http.client.HTTPException) as exc:
            problem = f"the store's answer broke off: {exc}\n".encode()
        if problem is None and tail.rstrip().endswith(CANCELLED):
            problem = b"the store cancelled the query (time limit)\n"
        self.close_connection = problem is not None or not chunked
        try:
            if problem is not None:
                note = b"\n\nspinekg serve: the answer is incomplete: " + problem
                self._write(b"%x\r\n%s\r\n" % (len(note), note) if chunked else note, time.monotonic() + 1)
            elif chunked:
                self._write(b"0\r\n\r\n", deadline + 1)
        except OSError:
            pass


def _read(conn: http.client.HTTPConnection, resp: http.client.HTTPResponse, deadline: float) -> bytes:
    """The next part of the store's answer, by ``deadline`` (TimeoutError after it)."""
    left = deadline - time.monotonic()
    if left <= 0:
        raise TimeoutError("the time limit has passed")
    if conn.sock is not None:
        conn.sock.settimeout(left)
    return resp.read1(CHUNK)


def _broken(data: bytes, ctype: str) -> str | None:
    """Why an answer is not well formed (a cancelled stream), or None; CSV cannot be parsed, only its end checked."""
    media = ctype.split(";")[0].strip()
    try:
        if media == "text/csv":
            return "cancelled" if data.rstrip().endswith(CANCELLED) else None
        results = ox.QueryResultsFormat.from_media_type(media)
        if results is not None:
            parsed = ox.parse_query_results(data, results)
            _ = parsed if isinstance(parsed, ox.QueryBoolean) else list(parsed)
            return None
        rdf = ox.RdfFormat.from_media_type(media)
        if rdf is not None:
            list(ox.parse(data, rdf))
    except SyntaxError as exc:
        return str(exc)
    return None
