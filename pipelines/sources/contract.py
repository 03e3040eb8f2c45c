"""Records against their table's contract; what breaks it goes to quarantine, the rest loads.

Every resource projects a vendor object to the typed columns the models need, as its table
declares them (pipelines.sources.tables). `Conformer` checks each record and its projected row
against those columns: the fields the models need
are in the record and the invariants between them hold (pipelines.sources.field_rules),
required values are present, timestamps, numbers and booleans parse; it converts the values to
their Python types, so dlt never has to guess. A record that fails is kept whole in the
source's `quarantine` table with the resource it came from, its key, the vendor's field, the
expected and the seen type, and the load goes on.

Top-level scalar fields the projection does not know (a field the vendor added since) are kept
as one JSON object per row in the text column `_extra` (hypermedia links, `*_url` and
`node_id`, are left out: they describe the API, not the data). Being text, `_extra` never
changes type, so a vendor field no model reads can change its type without stopping a load.
The declared columns are converted here, so their type cannot change either: a value that does
not convert quarantines its record, naming the vendor's field; the `data_type: freeze`
contract is the backstop should a row ever reach dlt unconverted.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Callable, Iterable, Iterator, Mapping
from datetime import UTC, date, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

import dlt
from dlt.common.schema.typing import TSchemaContract, TTableSchemaColumns
from dlt.common.time import ensure_pendulum_datetime
from dlt.sources import DltResource

from pipelines.sources.field_rules import ContractError, FieldRules, describe
from pipelines.sources.record_keys import KeyOf, record_key
from pipelines.sources.tables import Table
from pipelines.sources.unresolved import (
    QUARANTINE_TABLE,
    again,
    describe_reason,
    record_hash,
    unresolved_by_key,
)

__all__ = ["ContractError", "Conformer", "Quarantine", "to_timestamp"]

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
    # Where a child record is read again: GitHub the API path of its parent (a PR, run or
    # deployment) or of the list that holds it, Jira its issue's id, PagerDuty its incident's.
    "parent_key": {"data_type": "text"},
    # The record exactly as the API sent it, as JSON text, so it can be replayed.
    "payload": {"data_type": "text"},
    "quarantined_at": {"data_type": "timestamp", "nullable": False},
    "last_quarantined_at": {"data_type": "timestamp", "nullable": False},
    "times_quarantined": {"data_type": "bigint", "nullable": False},
    # When a later load accepted the record (by its key), or read its parent's list whole
    # without rejecting it again: it is no longer missing.
    "resolved_at": {"data_type": "timestamp"},
}
# Undeclared top-level scalars of a record, as one JSON object (text: it never changes type).
EXTRA_COLUMN = "_extra"

Project = Callable[[dict[str, Any]], dict[str, Any]]
# A record's natural id as text ("acme/api#12", a Jira key); None when it cannot be read.
RecordKey = Callable[[dict[str, Any]], Any]
# A child record's parent_key (see QUARANTINE_COLUMNS); None when it cannot be read.
ParentOf = Callable[[dict[str, Any]], str | None]


class Quarantine:
    """The records of one source run that broke their contract, and the ones earlier runs
    quarantined that are still unresolved (read from the warehouse when first needed).

    Resources add to it while they extract, and tell it the records they accepted
    (`accepted`): a record an earlier run quarantined whose key is accepted now is marked
    resolved. A child record (a review, a job, a changelog item) is kept with its parent's
    key; resources read again the lists of the `parents` of unresolved children and say so
    (`children_read`), which resolves every earlier child of that parent the list did not
    reject again: its id may be the very field that broke. `resource()` is listed last in
    the source and drains it (extraction runs the resources in order, see pipelines.ingest.loads),
    merging on `record_hash`.
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
        # (resource, parent key) -> hashes and keys of the children rejected in this run
        self._rejected: dict[tuple[str, str], set[str]] = {}

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
        parent: str | None = None,
    ) -> None:
        if field is None:  # a Conformer that does not say: read it from the reason
            field, expected, seen = describe_reason(reason, payload)
        # The source's own key of the resource first: the one a later load accepts and a
        # fetch by id reads (the Conformer's key names the record for a reader otherwise).
        own = self.key(resource, payload) if resource in self.keys else None
        key = own if own is not None else key
        if key is not None:
            self._read.setdefault(resource, set()).add(key)
        dumped = _dump(payload)
        digest = record_hash(self.source, resource, dumped)
        if parent is not None:
            self._rejected.setdefault((resource, parent), set()).update({digest, key} - {None})
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
                "parent_key": parent,
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
            if key not in read and rows[-1].get("record_key") is not None
        ]

    def parents(self, resource: str) -> list[str]:
        """The parent keys of the unresolved children of `resource`, whose lists are to be
        read again (in order, each once)."""
        found = {
            row["parent_key"]
            for rows in self.pending(resource).values()
            for row in rows
            if row.get("parent_key")
        }
        return sorted(found)

    def children_read(self, resource: str, parent: str) -> None:
        """`parent`'s list of `resource` was read whole in this run: the children of it an
        earlier run quarantined are resolved, but for those rejected again (by hash or key).
        A child the vendor no longer lists is resolved too: nothing is left to load."""
        pending = self.pending(resource)
        if not pending:
            return
        again = self._rejected.get((resource, parent), set())
        now = datetime.now(UTC)
        for key in list(pending):
            left = []
            for row in pending[key]:
                if row.get("parent_key") != parent or {row["record_hash"], key} & again:
                    left.append(row)
                else:
                    self._resolved.append({**row, "resolved_at": now})
            if left:
                pending[key] = left
            else:
                del pending[key]

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
        key: RecordKey | None = None,
        parent_of: ParentOf | None = None,
    ) -> None:
        self.resource = resource
        self.project = project
        self.quarantine = quarantine
        self.key = key or _default_key
        self.parent_of = parent_of
        self.known = set(ignored)
        self.rules = FieldRules(columns)
        self._checks = [
            (
                name,
                col.get("data_type", "text"),
                *_CONVERTERS.get(col.get("data_type", "text"), _NO_CHECK),
                col.get("nullable", True),
            )
            for name, col in columns.items()
        ]
        self.known.update(columns)

    @classmethod
    def of(
        cls,
        table: Table,
        quarantine: Quarantine,
        *,
        context: Mapping[str, Any] | None = None,
        key: RecordKey | None = None,
        parent_of: ParentOf | None = None,
    ) -> Conformer:
        """The conformer of `table`'s records; `context`: the values the loader gives its
        context columns (pipelines.sources.tables)."""
        project = table.projection(**(context or {}))
        return cls(
            table.name,
            table.hints,
            project,
            quarantine,
            table.ignored,
            key=key,
            parent_of=parent_of,
        )

    def under(self, parent: str) -> Conformer:
        """This conformer for the records of one parent, kept as their `parent_key`."""
        conformer = copy.copy(self)
        conformer.parent_of = lambda _record: parent
        return conformer

    def rows(self, records: Iterable[Any]) -> list[dict[str, Any]]:
        """The conforming rows of `records`; the rest are quarantined."""
        out = []
        for record in records:
            row = self.row(record)
            if row is not None:
                out.append(row)
        return out

    def unread_rows(self, records: Iterable[Any], read: set[Any]) -> list[dict[str, Any]]:
        """The conforming rows of `records` whose `id` is not in `read` (ids this run has
        loaded already), adding theirs to it: a list read again yields each row once."""
        rows = [row for row in self.rows(records) if row["id"] not in read]
        read.update(row["id"] for row in rows)
        return rows

    def row(self, record: Any) -> dict[str, Any] | None:
        try:
            if not isinstance(record, dict):
                raise ContractError.mismatch("record", "object", describe(record))
            self.rules.check_present(record)
            row = self.project(record)
            self._check(row, record)
            self.rules.check_invariants(row, record)
        except (ContractError, KeyError, TypeError, ValueError, AttributeError) as exc:
            error = exc if isinstance(exc, ContractError) else _as_contract_error(exc)
            self.quarantine.add(
                self.resource,
                record,
                error.reason,
                field=error.field,
                expected=error.expected,
                seen=error.seen,
                key=self._key(record),
                parent=self._parent(record),
            )
            return None
        self.quarantine.accepted(self.resource, record)
        if record.keys() - self.known:  # a field no declaration knows (set ops run in C)
            extra = {
                key: value
                for key, value in record.items()
                if key not in self.known and key not in row
                if _is_scalar(value) and not _is_link(key)
            }
            if extra:
                row[EXTRA_COLUMN] = json.dumps(extra, ensure_ascii=False, sort_keys=True)
        return row

    def _key(self, record: Any) -> str | None:
        try:
            key = self.key(record)
        except (KeyError, TypeError, ValueError, AttributeError):
            return None  # a record broken enough to be quarantined may lack its key too
        return None if key is None else str(key)

    def _parent(self, record: Any) -> str | None:
        if self.parent_of is None or not isinstance(record, dict):
            return None
        try:
            return self.parent_of(record)
        except (KeyError, TypeError, ValueError, AttributeError):
            return None

    def _check(self, row: dict[str, Any], record: dict[str, Any]) -> None:
        for name, data_type, convert, native, nullable in self._checks:
            value = row.get(name)
            if value is None:
                if not nullable:
                    field = self.rules.vendor_field(record, name, value)
                    raise ContractError.mismatch(field, data_type, "null", "required")
                continue
            if type(value) is native:  # already what the column holds (most rows)
                continue
            try:
                row[name] = convert(value)
            except (ValueError, TypeError, InvalidOperation, OverflowError) as exc:
                field = self.rules.vendor_field(record, name, value)
                raise ContractError.mismatch(field, data_type, describe(value), str(exc)) from None


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


def _default_key(record: Any) -> Any:
    """A Jira-style `key`, else the `id`."""
    return record.get("key") or record.get("id")


def _as_contract_error(exc: BaseException) -> ContractError:
    """An error the projection raised: a missing key names its field; anything else (an
    object where a list was expected...) is described as it is."""
    if isinstance(exc, KeyError):
        return ContractError.mismatch(str(exc.args[0]), "present", "absent")
    return ContractError(f"{type(exc).__name__}: {exc}")


def _dump(payload: Any) -> str:
    try:
        return json.dumps(payload, ensure_ascii=False, default=str)
    except (TypeError, ValueError):
        return repr(payload)
