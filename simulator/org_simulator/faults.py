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

Drift: a 200 whose records (each object of the page's list, or the answer itself when it is
one object) have field `field` (a dotted path, e.g. `fields.resolutiondate`) changed, as a
vendor changing its API would:

- retype: the field's value sent as another type: `value` when given, else a number, a bool
  or null as its JSON text (false -> "false"), and a string as a one-item list.
- drop_field: the field removed (the key is absent, not null).
- add_field: the field added with `value` (default 1); inject it again with a text value to
  send a field that was a number as text.

Time:

- shift_time: a 200 whose records have their `time_field` moved by `shift_days` (negative:
  earlier), as a vendor with a wrong clock or a bad import would send them: every record
  still parses, only the order of events across tables breaks.
"""

from __future__ import annotations

import json
import re
import threading
from dataclasses import asdict, dataclass
from datetime import datetime, timedelta
from typing import Any

# One kind a line: each is a branch of SimulatorServer._answer or of `drift`.
KINDS = (
    "rate_limit",
    "server_error",
    "slow",
    "malformed",
    "invalid_json",
    "truncated",
    "retype",
    "drop_field",
    "add_field",
    "shift_time",
)
DRIFT_KINDS = ("retype", "drop_field", "add_field")


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
    field: str | None = None  # drift: the record's field, a dotted path
    value: Any = None  # retype, add_field: the value sent
    time_field: str | None = None  # shift_time: the timestamp field to move
    shift_days: float = 0.0  # shift_time: by how many days (negative: earlier)
    hits: int = 0
    seen: int = 0

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise ValueError(f"unknown fault kind {self.kind!r}; expected one of {KINDS}")
        if self.kind in DRIFT_KINDS and not self.field:
            raise ValueError(f"a {self.kind} fault needs the field it changes")
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


def drift(body: Any, fault: Fault) -> Any:
    """`body` with `fault.field` of every record changed as `fault.kind` says (see above)."""
    *parents, name = (fault.field or "").split(".")
    for record in _records(body):
        for key in parents:
            record = record.get(key) if isinstance(record, dict) else None
        if not isinstance(record, dict):
            continue
        if fault.kind == "drop_field":
            record.pop(name, None)
        elif fault.kind == "add_field":
            record[name] = 1 if fault.value is None else fault.value
        elif name in record:
            record[name] = _retyped(record[name]) if fault.value is None else fault.value
    return body


def _records(body: Any) -> list[dict[str, Any]]:
    """The records of an answer: itself when it is one (it has an id or a key: a single
    PR), else its list or the first list of objects at its top level (`{"issues": [...]}`)."""
    if isinstance(body, dict) and ("id" in body or "key" in body):
        return [body]
    if isinstance(body, dict):
        lists = [v for v in body.values() if isinstance(v, list)]
        body = next((v for v in lists if all(isinstance(r, dict) for r in v)), [])
    return [r for r in body if isinstance(r, dict)] if isinstance(body, list) else []


def _retyped(value: Any) -> Any:
    return [value] if isinstance(value, str) else json.dumps(value)


def shift_times(body: Any, time_field: str, days: float) -> Any:
    """Move `time_field` by `days` on every record of a page (a list body, or the records list
    of an object body) that has it set: an ISO timestamp stays one, in the same `Z` form."""
    for record in _records(body):
        value = record.get(time_field) if isinstance(record, dict) else None
        if isinstance(value, str):
            moved = datetime.fromisoformat(value.replace("Z", "+00:00")) + timedelta(days=days)
            record[time_field] = moved.isoformat().replace("+00:00", "Z")
    return body
