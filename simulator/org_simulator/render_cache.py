"""What the simulator computes once and reuses: store-derived values and rendered pages.

A vendor API answer depends only on the store, the simulated clock and the request, so a
page need not be rendered twice:

- `Memo`: values derived from the store (every PR of a repository as of the clock, the jobs of
  all its runs grouped by run, the organisation's accounts), computed by one query where the
  requests would run one each; the key names everything the value depends on.
- `PageCache`: the route's answer (status, headers, body bytes) by vendor, method, path and
  query, clock, request body and request headers. It sits below everything that must happen
  on every request: authentication, rate-limit accounting, conditional requests, faults,
  absent fields and statistics (SimulatorServer).

Both are bounded (least recently used goes first) and thread-safe; their values are shared
between requests, so nothing may change them.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable
from typing import Any, TypeVar

from org_simulator.http import Response, dumps

T = TypeVar("T")

# Request headers that cannot change a route's answer: the transport answers conditional
# requests itself, and the body (in the key) has its own length.
_UNKEYED_HEADERS = frozenset(
    {"if-none-match", "if-modified-since", "connection", "keep-alive", "content-length"}
)


class Memo:
    """Values by key, each computed once (a second asker waits for the first)."""

    # A GitHub load reads one repository after another: a few repositories' lists are what
    # is asked for at any time, and a large organisation's every list would not fit.
    def __init__(self, max_entries: int = 128):
        self.max_entries = max_entries
        self._values: OrderedDict[Hashable, Any] = OrderedDict()
        self._computing: dict[Hashable, threading.Lock] = {}
        self._lock = threading.Lock()

    def __call__(self, key: Hashable, compute: Callable[[], T]) -> T:
        with self._lock:
            if key in self._values:
                self._values.move_to_end(key)
                return self._values[key]
            computing = self._computing.setdefault(key, threading.Lock())
        with computing:
            with self._lock:
                if key in self._values:
                    return self._values[key]
            try:
                value = compute()
                with self._lock:
                    self._values[key] = value
                    while len(self._values) > self.max_entries:
                        self._values.popitem(last=False)
            finally:
                with self._lock:
                    self._computing.pop(key, None)
        return value

    def clear(self) -> None:
        with self._lock:
            self._values.clear()


def page_key(
    vendor: str, method: str, raw_path: str, now: object, body: bytes, headers: dict[str, str]
) -> tuple:
    """Everything a route's answer can depend on besides the store."""
    kept = tuple(sorted((k, v) for k, v in headers.items() if k not in _UNKEYED_HEADERS))
    return vendor, method, raw_path, now, body, kept


class PageCache:
    """Rendered answers, at most `max_bytes` of bodies; each hit is a fresh Response."""

    def __init__(self, max_bytes: int = 64 * 2**20):
        self.max_bytes = max_bytes
        self.size = 0
        self.hits = 0
        self.misses = 0
        self._pages: OrderedDict[tuple, tuple[int, dict[str, str], Any]] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: tuple) -> Response | None:
        with self._lock:
            page = self._pages.get(key)
            if page is None:
                self.misses += 1
                return None
            self._pages.move_to_end(key)
            self.hits += 1
        status, headers, body = page
        return Response(status, body, dict(headers))

    def put(self, key: tuple, response: Response) -> Response:
        """Keep `response` (its body encoded once) and return it."""
        if response.body is not None and not isinstance(response.body, bytes):
            response.body = dumps(response.body)
        size = len(response.body or b"")
        if size > self.max_bytes:
            return response
        with self._lock:
            if key not in self._pages:
                self._pages[key] = (response.status, dict(response.headers), response.body)
                self.size += size
                while self.size > self.max_bytes:
                    _, (_, _, body) = self._pages.popitem(last=False)
                    self.size -= len(body or b"")
        return response

    def clear(self) -> None:
        with self._lock:
            self._pages.clear()
            self.size = 0

    def describe(self) -> dict[str, int]:
        with self._lock:
            return {
                "pages": len(self._pages),
                "bytes": self.size,
                "hits": self.hits,
                "misses": self.misses,
            }
