"""HTTP/1.1 on the wire for SimulatorServer: http.server's handler with a lean common path.

http.server reads every request's headers through the email package and writes an answer's
headers and body in two sends; per request that costs more CPU than answering from the page
cache. The common request (`METHOD PATH HTTP/1.0|1.1`, then `Name: value` lines) is read
here directly, and its answer goes out in one send, byte for byte what http.server writes:
the status line, Server, Date, then the answer's headers in order. Anything else (HTTP/0.9 or
2, a malformed request line) takes http.server's own path, errors included.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable
from email.utils import formatdate
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from org_simulator.http import dumps

# (status, headers, body, fault or None) for (method, path, lower-cased headers, body).
Answer = Callable[[str, str, dict[str, str], bytes], tuple[int, dict[str, str], bytes, Any]]

_MAX_LINE = 65536  # http.client's limits on a header line and on the number of headers
_MAX_HEADERS = 100
_END_OF_HEADERS = (b"\r\n", b"\n", b"")
_FAST_VERSIONS = ("HTTP/1.1", "HTTP/1.0")
_JSON = "application/json; charset=utf-8"
_TOO_LARGE = HTTPStatus.REQUEST_HEADER_FIELDS_TOO_LARGE

_date: tuple[int, str] = (0, "")


def _http_date() -> str:
    """The Date header http.server writes, formatted once a second."""
    global _date
    now = time.time()
    second, text = _date
    if int(now) != second:
        text = formatdate(now, usegmt=True)
        _date = (int(now), text)
    return text


class QuietServer(ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request, client_address) -> None:
        # A client that hangs up mid-answer (a timeout, a truncated-body test) is not an error.
        if not isinstance(sys.exc_info()[1], ConnectionError):
            super().handle_error(request, client_address)


def make_handler(answer: Answer) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"  # keep-alive, as the real APIs
        disable_nagle_algorithm = True  # an interim 100 and its answer: two writes, no stall
        fields: dict[str, str] = {}  # the request's headers by lower-cased name (the last wins)

        def parse_request(self) -> bool:
            requestline = str(self.raw_requestline, "iso-8859-1").rstrip("\r\n")
            words = requestline.split()
            if len(words) != 3 or words[2] not in _FAST_VERSIONS:
                if not super().parse_request():
                    return False
                self.fields = {k.lower(): v for k, v in self.headers.items()}
                return True
            self.command, path, self.request_version = words
            self.requestline = requestline
            # http.server's guard against open redirects: //path is a path, not a host.
            self.path = "/" + path.lstrip("/") if path.startswith("//") else path
            self.close_connection = self.request_version != "HTTP/1.1"
            fields = self._read_fields()
            if fields is None:
                return False
            self.fields = self.headers = fields  # type: ignore[assignment]
            conntype = fields.get("connection", "").lower()
            if conntype == "close":
                self.close_connection = True
            elif conntype == "keep-alive":
                self.close_connection = False
            if (
                fields.get("expect", "").lower() == "100-continue"
                and self.request_version == "HTTP/1.1"
            ):
                return self.handle_expect_100()
            return True

        def _read_fields(self) -> dict[str, str] | None:
            """Header lines as the email package reads them (a value keeps what follows its
            leading blanks; a continuation line is appended as it came; a line without a
            colon is passed over), or None once an error is answered."""
            block = self._plain_block()
            if block is not None:
                fields: dict[str, str] = {}
                for line in block.split("\r\n") if block else ():
                    key, colon, value = line.partition(":")
                    if colon:
                        fields[key.lower()] = value.lstrip(" \t")
                return fields
            raw: dict[str, str] = {}
            name = None
            lines = 0
            while True:  # read as http.client reads: the blank line counts, and is read
                line = self.rfile.readline(_MAX_LINE + 1)
                if len(line) > _MAX_LINE:
                    message = f"got more than {_MAX_LINE} bytes when reading header line"
                    self.send_error(_TOO_LARGE, "Line too long", message)
                    return None
                lines += 1
                if lines > _MAX_HEADERS:
                    message = f"got more than {_MAX_HEADERS} headers"
                    self.send_error(_TOO_LARGE, "Too many headers", message)
                    return None
                if line in _END_OF_HEADERS:
                    return {k: v.lstrip(" \t").rstrip("\r\n") for k, v in raw.items()}
                text = str(line, "iso-8859-1")
                if text[0] in " \t" and name is not None:
                    raw[name] += text
                    continue
                key, colon, value = text.partition(":")
                if colon:
                    name = key.lower()
                    raw[name] = value

        def _plain_block(self) -> str | None:
            """The header lines, taken whole from what has arrived when they are plain (CRLF
            ends only, no continuation line, within http.client's limits); else None, with
            nothing read."""
            buffered = self.rfile.peek(1)
            if buffered.startswith(b"\r\n"):
                self.rfile.read(2)
                return ""
            end = buffered.find(b"\r\n\r\n", 0, _MAX_LINE)
            if end == -1:
                return None
            block = buffered[:end]
            pairs = block.count(b"\r\n")
            if (
                pairs >= _MAX_HEADERS - 1
                or block.count(b"\r") != pairs
                or block.count(b"\n") != pairs
                or block[:1] in (b" ", b"\t")
                or b"\r\n " in block
                or b"\r\n\t" in block
            ):
                return None
            self.rfile.read(end + 4)
            return str(block, "iso-8859-1")

        def _serve(self) -> None:
            length = int(self.fields.get("content-length") or 0)
            body = self.rfile.read(length) if length else b""
            try:
                status, extra, data, fault = answer(self.command, self.path, self.fields, body)
            except Exception as exc:  # a simulator bug: answer 500 rather than hang the client
                status, extra, data, fault = 500, {}, dumps({"message": repr(exc)}), None
            extra = {k.lower(): v for k, v in extra.items()}
            if "content-type" not in extra:
                extra["content-type"] = _JSON
            if fault is not None and fault.kind == "truncated":
                extra_lines = (f"content-length: {len(data)}", "connection: close")
                self.wfile.write(self._head(status, extra, extra_lines) + data[: len(data) // 2])
                self.close_connection = True
                return
            head = self._head(status, extra, (f"content-length: {len(data)}",))
            self.wfile.write(head if self.command == "HEAD" else head + data)

        def _head(self, status: int, extra: dict[str, str], tail: tuple[str, ...]) -> bytes:
            """The status line and headers as http.server's send_response and send_header
            write them (nothing for HTTP/0.9), a `connection` header switching keep-alive."""
            reason = self.responses[status][0] if status in self.responses else ""
            lines = [
                f"{self.protocol_version} {int(status)} {reason}\r\n",
                f"Server: {self.version_string()}\r\n",
                f"Date: {_http_date()}\r\n",
            ]
            for key, value in extra.items():
                lines.append(f"{key}: {value}\r\n")
                if key == "connection" and value.lower() in ("close", "keep-alive"):
                    self.close_connection = value.lower() == "close"
            lines += [f"{line}\r\n" for line in tail]
            lines.append("\r\n")
            if self.request_version == "HTTP/0.9":
                return b""
            return "".join(lines).encode("latin-1", "strict")

        do_GET = do_POST = do_PUT = do_DELETE = do_HEAD = _serve

        def log_message(self, format: str, *args: Any) -> None:  # noqa: A002
            pass  # quiet: tests and the demo read request statistics instead

    return Handler
