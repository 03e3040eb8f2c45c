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
- shift_time: a 200 whose records have their `time_field` moved by `shift_days` (negative:
  earlier), as a vendor with a wrong clock or a bad import would send them: every record
  still parses, only the order of events across tables breaks.
"""

from __future__ import annotations

import re
import threading
from dataclasses import asdict, dataclass, field
from datetime import datetime, timedelta
from typing import Any

KINDS = (
    "rate_limit",
    "server_error",
    "slow",
    "malformed",
    "invalid_json",
    "truncated",
    "shift_time",
)


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
    time_field: str | None = None  # shift_time: the timestamp field to move
    shift_days: float = 0.0  # shift_time: by how many days (negative: earlier)
    hits: int = field(default=0)
    seen: int = field(default=0)

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise ValueError(f"unknown fault kind {self.kind!r}; expected one of {KINDS}")
        if self.kind == "shift_time" and not self.time_field:
            raise ValueError("a shift_time fault needs the time_field to move")

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


def shift_times(body: Any, time_field: str, days: float) -> Any:
    """Move `time_field` by `days` on every record of a page (a list body, or the records list
    of an object body) that has it set: an ISO timestamp stays one, in the same `Z` form."""
    records = body if isinstance(body, list) else _record_list(body)
    for record in records:
        value = record.get(time_field) if isinstance(record, dict) else None
        if isinstance(value, str):
            moved = datetime.fromisoformat(value.replace("Z", "+00:00")) + timedelta(days=days)
            record[time_field] = moved.isoformat().replace("+00:00", "Z")
    return body


def _record_list(body: Any) -> list[Any]:
    if isinstance(body, dict):
        for value in body.values():
            if isinstance(value, list) and value and isinstance(value[0], dict):
                return value
    return []
