"""The simulator's HTTP/1.1 wire writes what http.server's own handler writes.

Both servers answer every request with the same function (which echoes the request's method,
path, headers and body); the raw bytes on the socket must be the same, the Date header aside,
and so must what follows on the same connection (an answer, or none once it is closed).
"""

from __future__ import annotations

import json
import re
import socket
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from org_simulator.http_wire import QuietServer, make_handler


@dataclass
class _Fault:
    kind: str


def _answer(method: str, path: str, headers: dict[str, str], body: bytes):
    echo = {"method": method, "path": path, "headers": headers, "body": body.decode("latin-1")}
    data = json.dumps(echo, sort_keys=True).encode()
    if path.startswith("/truncated"):
        return 200, {"X-Kind": "truncated"}, data, _Fault("truncated")
    if path.startswith("/missing"):
        return 404, {"Content-Type": "text/plain"}, b"no", None
    if path.startswith("/teapot"):
        return 418, {"Link": '<http://x/?page=2>; rel="next"'}, data, None
    return 200, {"ETag": 'W/"1"', "x-ratelimit-used": "3"}, data, None


class _Reference(BaseHTTPRequestHandler):
    """http.server's own parsing and writing, as the simulator's handler used them."""

    protocol_version = "HTTP/1.1"

    def _serve(self) -> None:
        length = int(self.headers.get("content-length") or 0)
        body = self.rfile.read(length) if length else b""
        headers = {k.lower(): v for k, v in self.headers.items()}
        status, extra, data, fault = _answer(self.command, self.path, headers, body)
        self.send_response(status)
        extra = {k.lower(): v for k, v in extra.items()}
        extra.setdefault("content-type", "application/json; charset=utf-8")
        for key, value in extra.items():
            self.send_header(key, value)
        self.send_header("content-length", str(len(data)))
        if fault:
            self.send_header("connection", "close")
            self.end_headers()
            self.wfile.write(data[: len(data) // 2])
            self.close_connection = True
            return
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(data)

    do_GET = do_POST = do_HEAD = _serve

    def log_message(self, format, *args) -> None:  # noqa: A002
        pass


def _serve(server: ThreadingHTTPServer) -> Iterator[int]:
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}).start()
    try:
        yield server.server_address[1]
    finally:
        server.shutdown()
        server.server_close()


@pytest.fixture(scope="module")
def ports() -> Iterator[tuple[int, int]]:
    wire = QuietServer(("127.0.0.1", 0), make_handler(_answer))
    reference = ThreadingHTTPServer(("127.0.0.1", 0), _Reference)
    for ours in _serve(wire):
        for theirs in _serve(reference):
            yield ours, theirs


def _answers(data: bytes, head: bool) -> int:
    """How many whole final answers `data` holds (an interim 100 is not one)."""
    count = pos = 0
    while data.startswith(b"HTTP/", pos):
        end = data.find(b"\r\n\r\n", pos)
        if end == -1:
            break
        block = data[pos:end]
        status = int(block.split(b" ", 2)[1])
        length = re.search(rb"(?i)content-length: (\d+)", block)
        size = int(length.group(1)) if length and not head and status >= 200 else 0
        if len(data) < end + 4 + size:
            break
        pos = end + 4 + size
        count += status >= 200
    return count


def _read(sock: socket.socket, answers: int, head: bool = False) -> bytes:
    """What the server writes until `answers` whole answers or it closes the connection."""
    received = b""
    while _answers(received, head) < answers:
        try:
            chunk = sock.recv(65536)
        except ConnectionError:
            break
        if not chunk:
            break
        received += chunk
    return received


def _exchange(port: int, raw: bytes, answers: int) -> tuple[bytes, bytes]:
    """What the server writes for `raw`, then for one more request on the same connection
    (nothing once it has closed it); Date headers masked."""
    with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
        sock.sendall(raw)
        first = _read(sock, answers, head=raw.startswith(b"HEAD"))
        try:
            sock.sendall(b"GET /again HTTP/1.1\r\n\r\n")
            then = _read(sock, 1)
        except ConnectionError:
            then = b""
    return tuple(re.sub(rb"Date: [^\r]*", b"Date: -", x) for x in (first, then))


AUTH = b"Authorization: Bearer t0ken\r\nAccept: application/vnd.github+json\r\n"
REQUESTS = {
    "plain": b"GET /github/repos/acme/api/pulls?per_page=100&state=all HTTP/1.1\r\nHost: x\r\n"
    + AUTH
    + b"\r\n",
    "two requests on one connection": b"GET /a HTTP/1.1\r\n\r\nGET /b?c=d HTTP/1.1\r\n\r\n",
    "no headers": b"GET /a HTTP/1.1\r\n\r\n",
    "bare LF line ends": b"GET /a HTTP/1.1\nHost: x\nX-One: 1\n\n",
    "repeated, blank and spaced values": b"GET /a HTTP/1.1\r\nX-Dup: 1\r\nX-Empty:\r\n"
    b"x-dup:   2 \r\nX-Tab:\tv\r\n\r\n",
    "continuation line": b"GET /a HTTP/1.1\r\nX-Long: one\r\n two\r\nHost: x\r\n\r\n",
    "HEAD": b"HEAD /a HTTP/1.1\r\nHost: x\r\n\r\n",
    "POST with a body": b'POST /a HTTP/1.1\r\nContent-Length: 7\r\n\r\n{"a":1}',
    "expect 100-continue": b"POST /a HTTP/1.1\r\nExpect: 100-continue\r\nContent-Length: 2\r\n"
    b"\r\n{}",
    "HTTP/1.0 closes": b"GET /a HTTP/1.0\r\nHost: x\r\n\r\n",
    "HTTP/1.0 keep-alive": b"GET /a HTTP/1.0\r\nConnection: keep-alive\r\n\r\n",
    "connection close": b"GET /a HTTP/1.1\r\nConnection: close\r\n\r\n",
    "double slash": b"GET //github//repos HTTP/1.1\r\n\r\n",
    "an answer's own status and headers": b"GET /teapot HTTP/1.1\r\n\r\n"
    b"GET /missing HTTP/1.1\r\n\r\n",
    "truncated": b"GET /truncated HTTP/1.1\r\n\r\n",
    "HTTP/0.9": b"GET /a\r\n\r\n",
    "HTTP/2": b"GET /a HTTP/2.0\r\n\r\n",
    "malformed request line": b"nonsense\r\n\r\n",
    "unsupported method": b"BREW /a HTTP/1.1\r\n\r\n",
    "99 headers": b"GET /a HTTP/1.1\r\n"
    + b"".join(b"X-%d: v\r\n" % i for i in range(99))
    + b"\r\n",
    "too many headers": b"GET /a HTTP/1.1\r\n"
    + b"".join(b"X-%d: v\r\n" % i for i in range(100))
    + b"\r\n",
}


@pytest.mark.parametrize("name", REQUESTS)
def test_the_wire_writes_what_http_server_writes(ports, name):
    ours, theirs = ports
    answers = REQUESTS[name].count(b" HTTP/1.") or 1  # one per request line
    written = _exchange(ours, REQUESTS[name], answers)
    assert written[0]
    assert written == _exchange(theirs, REQUESTS[name], answers)
