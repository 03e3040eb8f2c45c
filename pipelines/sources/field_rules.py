"""What a record must carry beyond its column types: fields the models need, and invariants
between fields. Declared as custom hints on the loaders' columns, so one declaration says a
column's type, whether the models need it and for which marts (a `Column` of
pipelines.sources.tables makes the hints):

    Column("merged_at", "timestamp", required_for=("mart_dora",), set_when={"merged": True})

- `required_for(*marts, field=...)`: the vendor's field (`field`, a dotted path into the
  record; default the column's name) must be in the record. A null the vendor documents is
  fine; a missing key is not: the models would read it as "never happened" (a PR never
  merged) and the marts would be quietly wrong, so the record is quarantined instead.
- `set_when(column=value, ...)`: the column may not be null when the other columns of the
  row hold those values (a closed PR has a `closed_at`).

dlt keeps `x-` hints in the schema and ignores them otherwise. A breach raises
`ContractError` with the vendor's field, the expected and the seen type, which the quarantine
keeps (pipelines.sources.contract).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from dlt.common.schema.typing import TTableSchemaColumns

REQUIRED_FOR = "x-required-for"  # marts that need the field
VENDOR_FIELD = "x-vendor-field"  # dotted path of the field in the vendor's record
SET_WHEN = "x-set-when"  # {column: value}: the column is not null when all of these hold

_ABSENT = object()


class ContractError(ValueError):
    """A record that cannot be loaded as its table's contract says: which vendor field, what
    the declaration expects and what the record holds (None when no one field is to blame)."""

    def __init__(
        self,
        reason: str,
        *,
        field: str | None = None,
        expected: str | None = None,
        seen: str | None = None,
    ) -> None:
        super().__init__(reason)
        self.reason = reason
        self.field = field
        self.expected = expected
        self.seen = seen

    @classmethod
    def mismatch(cls, field: str, expected: str, seen: str, why: str = "") -> ContractError:
        """`draft: expected bool, seen str 'false'`, with `why` in brackets when given."""
        reason = f"{field}: expected {expected}, seen {seen}" + (f" ({why})" if why else "")
        return cls(reason, field=field, expected=expected, seen=seen)


def required_for(*marts: str, field: str | None = None) -> dict[str, Any]:
    """Hints of a column the models need for `marts`; `field`: the vendor's dotted path when
    it is not the column's name (`user.login` for `user_login`)."""
    if not marts:
        raise ValueError("name the marts that need the field")
    hints: dict[str, Any] = {REQUIRED_FOR: list(marts)}
    if field:
        hints[VENDOR_FIELD] = field
    return hints


def set_when(**conditions: Any) -> dict[str, Any]:
    """Hints of a column that may not be null while the row's `conditions` hold."""
    return {SET_WHEN: conditions}


def describe(value: Any) -> str:
    """A value's type as the quarantine reports it: `str 'false'`, `int 3`, `null`, `dict`."""
    if value is None:
        return "null"
    if isinstance(value, dict | list):
        return type(value).__name__
    return f"{type(value).__name__} {value!r:.60}"


class FieldRules:
    """The required fields and invariants of one table's columns."""

    def __init__(self, columns: TTableSchemaColumns) -> None:
        hints: dict[str, dict[str, Any]] = {name: dict(col) for name, col in columns.items()}
        self.fields = {name: h[VENDOR_FIELD] for name, h in hints.items() if VENDOR_FIELD in h}
        self.required = [
            (self.fields.get(name, name), h[REQUIRED_FOR])
            for name, h in hints.items()
            if h.get(REQUIRED_FOR)
        ]
        self.invariants = [
            (name, h.get("data_type", "text"), h[SET_WHEN])
            for name, h in hints.items()
            if h.get(SET_WHEN)
        ]

    def check_present(self, record: Mapping[str, Any]) -> None:
        for path, marts in self.required:
            if _lookup(record, path) is _ABSENT:
                raise ContractError.mismatch(
                    path, "present", "absent", f"needed by {', '.join(marts)}"
                )

    def check_invariants(self, row: Mapping[str, Any], record: Mapping[str, Any]) -> None:
        for name, data_type, conditions in self.invariants:
            if row.get(name) is None and all(row.get(k) == v for k, v in conditions.items()):
                when = " and ".join(f"{k} is {v!r}" for k, v in conditions.items())
                field = self.vendor_field(record, name, None)
                raise ContractError.mismatch(field, data_type, "null", f"required when {when}")

    def vendor_field(self, record: Mapping[str, Any], column: str, value: Any) -> str:
        """The vendor's name for `column`: declared, the same name, or the path in the record
        holding `value` whose name ends like the column (`base.repo.full_name` for
        `repo_full_name`); the column's own name when none fits."""
        if column in self.fields:
            return self.fields[column]
        if column in record:
            return column
        for path in _paths_holding(record, value):
            joined = "_".join(path)
            if joined.endswith(column) or column.endswith(path[-1]):
                return ".".join(path)
        return column


def _lookup(record: Mapping[str, Any], path: str) -> Any:
    """The value at `path`, `_ABSENT` when a key is missing. A null on the way is a value:
    a documented null object (a deleted user) holds no fields to miss."""
    value: Any = record
    for key in path.split("."):
        if value is None:
            return None
        if not isinstance(value, Mapping) or key not in value:
            return _ABSENT
        value = value[key]
    return value


def _paths_holding(record: Mapping[str, Any], value: Any, depth: int = 4) -> list[tuple]:
    found, stack = [], [((), record)]
    while stack:
        path, obj = stack.pop()
        for key, item in obj.items():
            if isinstance(item, Mapping):
                if len(path) < depth:
                    stack.append(((*path, key), item))
            elif type(item) is type(value) and item == value:
                found.append((*path, key))
    return found
