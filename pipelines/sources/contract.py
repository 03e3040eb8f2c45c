"""Records against their table's contract; what breaks it goes to quarantine, the rest loads.

Every resource projects a vendor object to the typed columns the models need. `Conformer`
checks each projected row against those columns (required values present, timestamps,
numbers and booleans that parse) and converts the values to their Python types, so dlt never
has to guess. A record that fails is kept whole in the source's `quarantine` table with the
resource it came from and the reason, and the load goes on.

Top-level scalar fields the projection does not know (a field the vendor added since) are
carried as extra columns, so new fields land as new columns (hypermedia links, `*_url` and
`node_id`, are left out: they describe the API, not the data); the `data_type: freeze` contract
makes a later type change of such a column fail the load with a clear error instead of
silently splitting it into a variant column.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Iterator, Mapping
from datetime import UTC, date, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

import dlt
from dlt.common.schema.typing import TSchemaContract, TTableSchemaColumns
from dlt.common.time import ensure_pendulum_datetime
from dlt.sources import DltResource

from pipelines.sources.record_keys import KeyOf, record_key
from pipelines.sources.unresolved import (
    QUARANTINE_TABLE,
    again,
    describe_reason,
    record_hash,
    unresolved_by_key,
)

SCHEMA_CONTRACT: TSchemaContract = {"tables": "evolve", "columns": "evolve", "data_type": "freeze"}

QUARANTINE_COLUMNS: TTableSchemaColumns = {
    # sha256 of source|resource|payload: one row per record however many runs reject it.
    "record_hash": {"data_type": "text", "nullable": False},
    "source": {"data_type": "text", "nullable": False},
    "resource": {"data_type": "text", "nullable": False},
    "reason": {"data_type": "text", "nullable": False},
    # What broke, in the vendor's terms: the field, its declared type ("present" for a
    # required one) and what came instead ("str 'false'", "absent", "null").
    "field": {"data_type": "text"},
    "expected_type": {"data_type": "text"},
    "seen_type": {"data_type": "text"},
    # The record's natural id (PR "owner/repo#12", Jira issue id, run id) when readable: the
    # next load fetches it again (pipelines.sources.record_keys).
    "record_key": {"data_type": "text"},
    # The record exactly as the API sent it, as JSON text, so it can be replayed.
    "payload": {"data_type": "text"},
    "quarantined_at": {"data_type": "timestamp", "nullable": False},
    "last_quarantined_at": {"data_type": "timestamp", "nullable": False},
    "times_quarantined": {"data_type": "bigint", "nullable": False},
    # When a later load accepted the record (by its key): it is no longer missing.
    "resolved_at": {"data_type": "timestamp"},
}

Project = Callable[[dict[str, Any]], dict[str, Any]]


class ContractError(ValueError):
    """A record that cannot be loaded as its table's contract says."""


class Quarantine:
    """The records of one source run that broke their contract, and the ones earlier runs
    quarantined that are still unresolved (read from the warehouse when first needed).

    Resources add to it while they extract, and tell it the records they accepted
    (`accepted`): a record an earlier run quarantined whose key is accepted now is marked
    resolved. `resource()` is listed last in the source and drains it (extraction runs the
    resources in order, see pipelines.loads), merging on `record_hash`.
    """

    def __init__(self, source: str, keys: Mapping[str, KeyOf] | None = None) -> None:
        self.source = source
        self.keys = dict(keys or {})
        self.rows: list[dict[str, Any]] = []
        self._hashes: set[str] = set()
        self._resolved: list[dict[str, Any]] = []
        self._pending: dict[str, dict[str, list[dict[str, Any]]]] | None = None
        # resource -> keys read in this run (accepted or rejected), so none is fetched twice
        self._read: dict[str, set[str]] = {}

    def add(
        self,
        resource: str,
        payload: Any,
        reason: str,
        *,
        field: str | None = None,
        expected: str | None = None,
        seen: str | None = None,
        key: str | None = None,
    ) -> None:
        if field is None:  # a Conformer that does not say: read it from the reason
            field, expected, seen = describe_reason(reason, payload)
        key = key if key is not None else self.key(resource, payload)
        if key is not None:
            self._read.setdefault(resource, set()).add(key)
        dumped = _dump(payload)
        digest = record_hash(self.source, resource, dumped)
        if digest in self._hashes:
            return
        self._hashes.add(digest)
        now = datetime.now(UTC)
        self.rows.append(
            {
                "record_hash": digest,
                "source": self.source,
                "resource": resource,
                "reason": reason[:2000],
                "field": field,
                "expected_type": expected,
                "seen_type": seen,
                "record_key": key,
                "payload": dumped,
                "quarantined_at": now,
                "last_quarantined_at": now,
                "times_quarantined": 1,
                "resolved_at": None,
            }
        )

    def key(self, resource: str, payload: Any) -> str | None:
        """The record's natural id, or None when it cannot be read."""
        return record_key(self.keys.get(resource), payload)

    def accepted(self, resource: str, record: Any, key: str | None = None) -> None:
        """A record of `resource` loaded: an earlier quarantine of its key is resolved.
        `key` as `add` got it, when the caller reads keys itself (else `self.key`)."""
        pending = self.pending(resource)
        if not pending:
            return
        key = key if key is not None else self.key(resource, record)
        if key is None:
            return
        self._read.setdefault(resource, set()).add(key)
        now = datetime.now(UTC)
        for row in pending.pop(key, []):
            self._resolved.append({**row, "resolved_at": now})

    def pending(self, resource: str) -> dict[str, list[dict[str, Any]]]:
        """Unresolved records of `resource` earlier runs quarantined, by key."""
        if self._pending is None:
            self._pending = unresolved_by_key(self.source)
        return self._pending.get(resource, {})

    def unread(self, resource: str) -> list[tuple[str, str]]:
        """(key, payload as JSON text) of each unresolved record of `resource` this run has
        not read yet: the ones an incremental walk missed, to be fetched by id."""
        read = self._read.get(resource, set())
        return [
            (key, rows[-1]["payload"])
            for key, rows in self.pending(resource).items()
            if key not in read
        ]

    def resource(self) -> DltResource:
        @dlt.resource(
            name=QUARANTINE_TABLE,
            write_disposition="merge",
            primary_key="record_hash",
            columns=QUARANTINE_COLUMNS,
            schema_contract=SCHEMA_CONTRACT,
        )
        def quarantine() -> Iterator[list[dict[str, Any]]]:
            rows, self.rows = self.rows, []
            resolved, self._resolved = self._resolved, []
            rows = again(self.source, rows)  # first time and count of records seen before
            rejected = {r["record_hash"] for r in rows}
            merged = [r for r in resolved if r["record_hash"] not in rejected] + rows
            if merged:
                yield merged

        return quarantine()


class Conformer:
    """Projects and checks the records of one resource; see the module docstring."""

    def __init__(
        self,
        resource: str,
        columns: TTableSchemaColumns,
        project: Project,
        quarantine: Quarantine,
        ignored: Iterable[str] = (),
    ) -> None:
        self.resource = resource
        self.project = project
        self.quarantine = quarantine
        self.known = set(ignored)
        self._checks = [
            (
                name,
                *_CONVERTERS.get(col.get("data_type", "text"), _NO_CHECK),
                col.get("nullable", True),
            )
            for name, col in columns.items()
        ]
        self.known.update(columns)

    def rows(self, records: Iterable[Any]) -> list[dict[str, Any]]:
        """The conforming rows of `records`; the rest are quarantined."""
        out = []
        for record in records:
            row = self.row(record)
            if row is not None:
                out.append(row)
        return out

    def row(self, record: Any) -> dict[str, Any] | None:
        try:
            if not isinstance(record, dict):
                raise ContractError(f"expected an object, got {type(record).__name__}")
            row = self.project(record)
            self._check(row)
        except (ContractError, KeyError, TypeError, ValueError, AttributeError) as exc:
            reason = exc.args[0] if isinstance(exc, ContractError) else _describe(exc)
            self.quarantine.add(self.resource, record, reason)
            return None
        self.quarantine.accepted(self.resource, record)
        if record.keys() - self.known:  # rare: a field the vendor added (set ops run in C)
            for key, value in record.items():
                new = key not in self.known and key not in row
                if new and _is_scalar(value) and not _is_link(key):
                    row[key] = value
        return row

    def _check(self, row: dict[str, Any]) -> None:
        for name, convert, native, nullable in self._checks:
            value = row.get(name)
            if value is None:
                if not nullable:
                    raise ContractError(f"{name}: required, but missing or null")
                continue
            if type(value) is native:  # already what the column holds (most rows)
                continue
            try:
                row[name] = convert(value)
            except (ValueError, TypeError, InvalidOperation, OverflowError) as exc:
                raise ContractError(f"{name}: {value!r:.80} is not valid ({exc})") from None


# --- converters ------------------------------------------------------------------------------


def to_timestamp(value: Any) -> datetime:
    """An aware UTC datetime from an ISO 8601 string, a datetime or Unix seconds."""
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=UTC)
    if isinstance(value, bool):
        raise TypeError("a boolean is not a timestamp")
    if isinstance(value, int | float):
        return datetime.fromtimestamp(value, UTC)
    if not isinstance(value, str):
        raise TypeError(f"{type(value).__name__} is not a timestamp")
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        parsed = ensure_pendulum_datetime(value)  # the odd formats; raises if none fits
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def _to_date(value: Any) -> date:
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    return date.fromisoformat(str(value)[:10])


def _to_bigint(value: Any) -> int:
    if isinstance(value, bool):
        raise TypeError("a boolean is not an integer")
    if isinstance(value, int):
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, str) and value.strip().lstrip("-").isdigit():
        return int(value)
    raise TypeError(f"{type(value).__name__} is not an integer")


def _to_double(value: Any) -> float:
    if isinstance(value, bool):
        raise TypeError("a boolean is not a number")
    return float(value)


def _to_decimal(value: Any) -> Decimal:
    if isinstance(value, bool):
        raise TypeError("a boolean is not a number")
    return Decimal(str(value))


def _to_bool(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    raise TypeError(f"{type(value).__name__} is not a boolean")


def _to_text(value: Any) -> str:
    if isinstance(value, dict | list):
        raise TypeError("an object is not text")
    return value if isinstance(value, str) else str(value)


def _same(value: Any) -> Any:
    return value


# data type -> (converter, the Python type a value needs no conversion from). Timestamps are
# always converted: a datetime may still lack its time zone.
_CONVERTERS: dict[str, tuple[Callable[[Any], Any], type | None]] = {
    "timestamp": (to_timestamp, None),
    "date": (_to_date, date),
    "bigint": (_to_bigint, int),
    "double": (_to_double, float),
    "decimal": (_to_decimal, Decimal),
    "bool": (_to_bool, bool),
    "text": (_to_text, str),
    "json": (_same, None),
}
_NO_CHECK = (_same, None)


def _is_scalar(value: Any) -> bool:
    # Nulls are left out: a column that only ever held nulls has no type to create.
    return isinstance(value, str | int | float | bool)


def _is_link(key: str) -> bool:
    return key == "url" or key.endswith("_url") or key == "node_id"


def _describe(exc: BaseException) -> str:
    if isinstance(exc, KeyError):
        return f"missing field {exc.args[0]!r}"
    return f"{type(exc).__name__}: {exc}"


def _dump(payload: Any) -> str:
    try:
        return json.dumps(payload, ensure_ascii=False, default=str)
    except (TypeError, ValueError):
        return repr(payload)
