"""The small request/response vocabulary shared by the simulator's vendor API modules."""

from __future__ import annotations

import base64
import json
import re
from collections.abc import Callable, Hashable
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from typing import Any
from urllib.parse import urlencode

import orjson


@dataclass
class Request:
    vendor: str
    method: str
    path: str  # below the vendor prefix, e.g. /repos/acme/api/pulls
    query: dict[str, list[str]]
    headers: dict[str, str]  # lower-cased names
    body: bytes
    params: dict[str, str]  # named groups of the matched route
    base_url: str  # e.g. http://127.0.0.1:8080/github
    now: datetime  # the simulated clock: records after it do not exist yet
    store: Any  # the DuckDB connection to the store, shared: read through `db`
    # Values derived from the store alone, computed once per server and key (the key names
    # everything the value depends on, the clock included): SimulatorServer's memo.
    memo: Callable[[Hashable, Callable[[], Any]], Any] = field(
        default=lambda key, compute: compute(), repr=False
    )

    _cursor: Any = field(default=None, init=False, repr=False)

    @property
    def db(self) -> Any:
        """A DuckDB cursor on the store, private to this request, opened on first use: most
        answers come from values computed before (Request.memo) and need none."""
        if self._cursor is None:
            self._cursor = self.store.cursor()
        return self._cursor

    def close(self) -> None:
        if self._cursor is not None:
            self._cursor.close()
            self._cursor = None

    def arg(self, name: str, default: str | None = None) -> str | None:
        values = self.query.get(name)
        return values[0] if values else default

    def args(self, name: str) -> list[str]:
        """Repeated parameters, accepting both `name[]=a&name[]=b` and `name=a&name=b`."""
        return self.query.get(name + "[]", []) + self.query.get(name, [])

    def int_arg(self, name: str, default: int, lo: int = 1, hi: int | None = None) -> int:
        raw = self.arg(name)
        if raw is None:
            return default
        try:
            value = int(raw)
        except ValueError as exc:
            raise ApiError(400, f"{name} must be an integer") from exc
        if value < lo or (hi is not None and value > hi):
            raise ApiError(400, f"{name} must be between {lo} and {hi}")
        return value

    def json(self) -> Any:
        return json.loads(self.body or b"null")

    def rows(self, sql: str, params: list | tuple = ()) -> list[dict[str, Any]]:
        """Run a query on the store and return rows as dicts."""
        cur = self.db.execute(sql, list(params))
        names = [d[0] for d in cur.description]
        return [dict(zip(names, row, strict=True)) for row in cur.fetchall()]

    def url(self, path: str, query: dict[str, Any] | None = None) -> str:
        return self.base_url + path + ("?" + urlencode(query, doseq=True) if query else "")


@dataclass
class Response:
    status: int = 200
    body: Any = None  # JSON-able, or bytes sent as they are
    headers: dict[str, str] = field(default_factory=dict)
    # (body bytes, their ETag) once a vendor has computed it, so that it is computed once.
    etag_of_body: tuple[bytes, str] | None = field(
        default=None, init=False, repr=False, compare=False
    )

    def encoded(self) -> bytes:
        if isinstance(self.body, bytes):
            return self.body
        if self.body is None:
            return b""
        return dumps(self.body)


class ApiError(Exception):
    """Raised by a handler: the vendor module renders it in the vendor's error shape."""

    def __init__(self, status: int, message: str, headers: dict[str, str] | None = None):
        super().__init__(message)
        self.status = status
        self.message = message
        self.headers = headers or {}


Handler = Callable[[Request], Response]


@dataclass
class Route:
    method: str
    pattern: re.Pattern[str]
    name: str  # stable label for request statistics, e.g. "pulls"
    handler: Handler
    slashes: int | None = None  # how many `/` every path it matches has (None: not known)


@dataclass
class Vendor:
    """One vendor API: its routes, how it authenticates and how it words an error."""

    name: str
    routes: list[Route]
    authenticate: Callable[[Request], bool]
    error_body: Callable[[int, str], Any]
    # Extra response headers for every answer (rate-limit headers, for instance).
    decorate: Callable[[Request, Response], None] | None = None
    # What the vendor's transport does around every route, whatever the answer (GitHub:
    # rate-limit accounting, conditional requests): called with the request and a function
    # giving the route's answer, which the server may take from its page cache.
    guard: Callable[[Request, Callable[[], Response]], Response] | None = None

    # (method, `/` in the path) -> the routes that may match such a path, in order.
    _shapes: dict[tuple[str, int], list[Route]] = field(
        default_factory=dict, init=False, repr=False, compare=False
    )

    def route(self, method: str, path: str) -> tuple[Route, dict[str, str]] | None:
        shape = (method, path.count("/"))
        candidates = self._shapes.get(shape)
        if candidates is None:
            candidates = self._shapes[shape] = [
                r for r in self.routes if r.method == method and r.slashes in (shape[1], None)
            ]
        for route in candidates:
            match = route.pattern.fullmatch(path)
            if match:
                return route, match.groupdict()
        return None


def route(method: str, pattern: str, name: str, handler: Handler) -> Route:
    """A route whose `{name}` placeholders match one path segment."""
    regex = re.sub(r"\{(\w+)\}", r"(?P<\1>[^/]+)", pattern)
    literal = re.sub(r"\{\w+\}", "", pattern)
    slashes = pattern.count("/") if literal == re.escape(literal) else None
    return Route(method, re.compile(regex), name, handler, slashes)


# --- JSON and time -----------------------------------------------------------------------


def _default(value: Any) -> Any:
    if isinstance(value, datetime):
        return iso(value)
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    raise TypeError(f"not JSON serialisable: {type(value).__name__}")


# Subclasses of the JSON types go through `_default`, as with json. Datetimes are written by
# orjson itself as `iso` writes them (naive UTC, whole seconds, a Z; the simulator's times
# are all naive UTC, schema.py) and dates as isoformat does: a callback per value would cost
# more than the rest of the encoding.
_ORJSON_OPTIONS = (
    orjson.OPT_NAIVE_UTC
    | orjson.OPT_UTC_Z
    | orjson.OPT_OMIT_MICROSECONDS
    | orjson.OPT_PASSTHROUGH_DATACLASS
    | orjson.OPT_PASSTHROUGH_SUBCLASS
)


def _small_float(data: bytes) -> bool:
    """Whether orjson may have written a float under 1e-4 (1e-7, 0.00001; json writes 1e-07,
    1e-05): a digit then `e-`, or `0.0000`. Substring searches: a regex over every byte of
    a page costs more than orjson's whole encoding."""
    if b"0.0000" in data:
        return True
    at = data.find(b"e-")
    while at != -1:
        if at > 0 and 48 <= data[at - 1] <= 57:  # 0-9
            return True
        at = data.find(b"e-", at + 2)
    return False


def dumps(obj: Any) -> bytes:
    """Deterministic JSON: the same object always gives the same bytes.

    json.dumps(ensure_ascii=False, separators=(",", ":")) as orjson writes it, ten times
    faster. The two disagree on floats under 1e-4 (1e-05 against 0.00001 or 1e-7): a body
    where orjson wrote one (a digit then `e-`, or `0.0000`, even inside a string) is
    written again by json, as is one orjson refuses (integers over 64 bits, keys that are
    not strings). NaN and infinities, which JSON has not, come out as null.
    """
    try:
        data = orjson.dumps(obj, default=_default, option=_ORJSON_OPTIONS)
    except TypeError:
        data = None
    if data is None or _small_float(data):
        data = json.dumps(obj, default=_default, ensure_ascii=False, separators=(",", ":"))
        data = data.encode()
    return data


def iso(ts: datetime | None) -> str | None:
    """RFC 3339 in UTC with a Z, as GitHub, Anthropic and PagerDuty write it."""
    if ts is None:
        return None
    if ts.tzinfo is None and ts.year >= 1000:  # what strftime writes, three times faster
        return ts.isoformat(timespec="seconds") + "Z"
    return ts.strftime("%Y-%m-%dT%H:%M:%SZ")


def parse_time(raw: str, name: str) -> datetime:
    """Accept RFC 3339 (with Z or an offset) or a bare date; return naive UTC."""
    try:
        if len(raw) == 10:
            return datetime.fromisoformat(raw)
        parsed = datetime.fromisoformat(raw.replace("Z", "+00:00"))
    except ValueError as exc:
        raise ApiError(400, f"{name} is not a valid timestamp: {raw!r}") from exc
    if parsed.tzinfo is not None:
        parsed = (parsed - parsed.utcoffset()).replace(tzinfo=None)
    return parsed


# --- opaque page tokens -------------------------------------------------------------------


def encode_token(state: dict[str, Any]) -> str:
    """An opaque, deterministic cursor (vendors' next_page / nextPageToken)."""
    raw = json.dumps(state, sort_keys=True, separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_token(token: str, name: str = "page") -> dict[str, Any]:
    try:
        padded = token + "=" * (-len(token) % 4)
        state = json.loads(base64.urlsafe_b64decode(padded.encode()))
    except (ValueError, UnicodeDecodeError) as exc:
        raise ApiError(400, f"invalid {name} token") from exc
    if not isinstance(state, dict):
        raise ApiError(400, f"invalid {name} token")
    return state
