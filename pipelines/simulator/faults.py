"""Switchable faults: the ways real vendor APIs misbehave, injected on chosen requests.

A fault matches requests by vendor and a path regex, lets `skip` of them through, then hits
the next `times` of them (-1: all). Kinds:

- rate_limit: 429 (or `status`, e.g. GitHub's 403) with Retry-After and, for GitHub, the
  x-ratelimit-* headers of an exhausted limit.
- server_error: a 5xx (`status`, default 503) in the vendor's error shape.
- slow: the normal answer, after `delay` seconds.
- malformed: a 200 whose first record is broken (ids null, timestamps garbled): the page
  parses, the record does not.
- invalid_json: a 200 whose body is not JSON.
- truncated: the normal headers, then half of the body and a closed connection.
"""

from __future__ import annotations

import re
import threading
from dataclasses import asdict, dataclass, field
from typing import Any

KINDS = ("rate_limit", "server_error", "slow", "malformed", "invalid_json", "truncated")


@dataclass
class Fault:
    kind: str
    vendor: str | None = None
    path: str | None = None  # regex searched in the path below the vendor prefix
    times: int = 1
    skip: int = 0
    status: int | None = None
    retry_after: int = 1
    delay: float = 0.0
    hits: int = field(default=0)
    seen: int = field(default=0)

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise ValueError(f"unknown fault kind {self.kind!r}; expected one of {KINDS}")

    def matches(self, vendor: str, path: str) -> bool:
        if self.vendor and self.vendor != vendor:
            return False
        return not self.path or re.search(self.path, path) is not None

    @property
    def spent(self) -> bool:
        return self.times >= 0 and self.hits >= self.times


class FaultPlan:
    """The faults in force; thread-safe, since the server answers requests concurrently."""

    def __init__(self) -> None:
        self._faults: list[Fault] = []
        self._lock = threading.Lock()

    def add(self, fault: Fault) -> None:
        with self._lock:
            self._faults.append(fault)

    def clear(self) -> None:
        with self._lock:
            self._faults.clear()

    def take(self, vendor: str, path: str) -> Fault | None:
        """The fault that hits this request, if any, counting it."""
        with self._lock:
            for fault in self._faults:
                if fault.spent or not fault.matches(vendor, path):
                    continue
                fault.seen += 1
                if fault.seen <= fault.skip:
                    continue
                fault.hits += 1
                return fault
        return None

    def describe(self) -> list[dict[str, Any]]:
        with self._lock:
            return [asdict(f) for f in self._faults]


_TIME_KEYS = re.compile(r"(_at|_time|^created|^updated|^date|starting_at|ending_at)$")


def break_first_record(body: Any) -> Any:
    """Corrupt the first record of the first list of objects found in a page body."""
    if isinstance(body, dict):
        for _key, value in body.items():
            if isinstance(value, list) and value and isinstance(value[0], dict):
                value[0] = _break(value[0])
                return body
        for value in body.values():
            if isinstance(value, dict | list):
                before = repr(value)
                break_first_record(value)
                if repr(value) != before:
                    return body
    elif isinstance(body, list) and body and isinstance(body[0], dict):
        body[0] = _break(body[0])
    return body


def _break(record: dict[str, Any]) -> dict[str, Any]:
    broken = dict(record)
    for key in record:
        if key in ("id", "key", "number") or key.endswith("_id"):
            broken[key] = None
        elif _TIME_KEYS.search(key):
            broken[key] = "not-a-timestamp"
    broken["_malformed"] = True
    return broken
