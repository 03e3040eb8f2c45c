"""Two builds of the warehouse compared table by table, whatever their engines.

A `Warehouse` is a name and two functions: `rows(sql)`, the column names and rows of a query,
and `tables(schema)`, the tables and views of a schema. `engine_warehouse` makes one for any
of the project's warehouses (a DuckDB file, a Postgres or Spark server:
pipelines.warehouse.engines), `duckdb_warehouse` and `postgres_warehouse` for a file or a
DB-API connection; any other reader needs only those two functions. `frozen_warehouse` keeps
the tables of a warehouse as they are now, to compare with what a later build makes.
`compare_warehouses` reads every table of the given schemas from both and reports each
difference: a table on one side only, other columns, another number of rows, rows that are
not equal as multisets, or a column whose values are of another kind (a double on one side, an
exact number on the other). Values compare as follows:

- floats within `rel_tol` relative (1e-9), NaN equal to NaN;
- exact numbers (integers of any width, decimals) exactly, whatever their type or scale:
  DuckDB's hugeint 3 equals PostgreSQL's numeric 3, and decimal 1.50 equals 1.5;
- timestamps in UTC: an aware one is converted, a naive one is taken as UTC;
- JSON as its parsed value (objects and arrays), whatever its text's spacing;
- everything else (text, booleans, dates, lists) exactly.
"""

from __future__ import annotations

import datetime as dt
import json
import math
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

DEFAULT_SCHEMAS = ("staging", "intermediate", "marts")
# What records when a load ran, which differs between two loads of the same data (two
# engines, two runs): dlt's load ids and row ids, the loader's clock, the load log's times.
# Everything else of a build is a function of the data, the seeds and the as-of clock.
LOAD_RECORD_COLUMNS: dict[str, tuple[str, ...]] = {
    "intermediate.int_deployments__ranges": ("compared_at",),  # when the loader compared
    "intermediate.int_review_events": ("loaded_at",),  # the event's dlt load
    "intermediate.int_source_availability": ("last_attempt_at", "last_loaded_at"),
    # status: a sentence that gives the last successful load's time
    "marts.mart_source_coverage": ("last_successful_load_at", "last_attempt_at", "status"),
    # Every staging view carries its rows' dlt_load_id, and dlt_id where the table has no key
    # of its own; stg_github__deployment_ranges the loader's compared_at.
    "staging.*": ("dlt_load_id", "dlt_id", "compared_at"),
}
REL_TOL = 1e-9
SAMPLE_ROWS = 5  # unmatched rows shown per side and table


@dataclass(frozen=True)
class Warehouse:
    """A built warehouse as the comparison reads it."""

    name: str
    rows: Callable[[str], tuple[list[str], list[tuple[Any, ...]]]]
    tables: Callable[[str], list[str]]


@dataclass
class TableDifference:
    table: str  # schema.table
    problems: list[str] = field(default_factory=list)

    def __str__(self) -> str:
        return f"{self.table}:\n" + "\n".join(f"  {p}" for p in self.problems)


def compare_warehouses(
    left: Warehouse,
    right: Warehouse,
    schemas: Sequence[str] = DEFAULT_SCHEMAS,
    rel_tol: float = REL_TOL,
    skip: Iterable[str] = (),
    ignore_columns: Mapping[str, Iterable[str]] | None = None,
) -> list[TableDifference]:
    """Every difference between the tables of `schemas` in `left` and `right` (none: equal).
    `skip` names tables (schema.table) left out, and `ignore_columns` columns of a table
    (schema.table, or schema.* for every table of the schema -> names) left out of the rows
    compared, each for a reason the caller gives (LOAD_RECORD_COLUMNS: what records when a
    load ran differs between two loads of the same data)."""
    skipped = set(skip)
    ignored = {
        table: {c.lower() for c in columns} for table, columns in (ignore_columns or {}).items()
    }
    differences = []
    for schema in schemas:
        left_tables, right_tables = set(left.tables(schema)), set(right.tables(schema))
        for table in sorted(left_tables | right_tables):
            name = f"{schema}.{table}"
            if name in skipped:
                continue
            if table not in right_tables or table not in left_tables:
                missing = right.name if table not in right_tables else left.name
                differences.append(TableDifference(name, [f"missing in {missing}"]))
                continue
            left_out = ignored.get(name, set()) | ignored.get(f"{schema}.*", set())
            problems = compare_relation(left, right, name, rel_tol, left_out)
            if problems:
                differences.append(TableDifference(name, problems))
    return differences


def assert_same_warehouses(left: Warehouse, right: Warehouse, **options: Any) -> None:
    """Raise AssertionError listing every difference compare_warehouses finds."""
    differences = compare_warehouses(left, right, **options)
    if differences:
        listed = "\n".join(str(d) for d in differences)
        raise AssertionError(
            f"{len(differences)} tables differ between {left.name} and {right.name}:\n{listed}"
        )


def compare_relation(
    left: Warehouse,
    right: Warehouse,
    name: str,
    rel_tol: float = REL_TOL,
    ignore_columns: Iterable[str] = (),
) -> list[str]:
    """The differences of one table (or view) `name`, read whole from both sides, the
    columns `ignore_columns` left out."""
    left_columns, left_rows = left.rows(f"select * from {name}")
    right_columns, right_rows = right.rows(f"select * from {name}")
    left_columns = [c.lower() for c in left_columns]
    right_columns = [c.lower() for c in right_columns]
    ignored = set(ignore_columns)
    if ignored:
        kept_left = [c for c in left_columns if c not in ignored]
        kept_right = [c for c in right_columns if c not in ignored]
        left_rows = _project(left_rows, left_columns, kept_left)
        right_rows = _project(right_rows, right_columns, kept_right)
        left_columns, right_columns = kept_left, kept_right
    problems = []
    if left_columns != right_columns:
        only_left = [c for c in left_columns if c not in right_columns]
        only_right = [c for c in right_columns if c not in left_columns]
        if only_left or only_right:
            problems.append(
                f"columns differ: only in {left.name} {only_left}, only in {right.name} "
                f"{only_right}"
            )
        else:
            problems.append(f"column order differs: {left_columns} / {right_columns}")
    common = [c for c in left_columns if c in right_columns]
    left_rows = _project(left_rows, left_columns, common)
    right_rows = _project(right_rows, right_columns, common)
    if len(left_rows) != len(right_rows):
        problems.append(
            f"row counts differ: {left.name} {len(left_rows)}, {right.name} {len(right_rows)}"
        )
    problems += _kind_differences(common, left_rows, right_rows, left.name, right.name)
    only_left, only_right = unmatched_rows(left_rows, right_rows, rel_tol)
    if only_left or only_right:
        problems.append(
            f"{len(only_left)} rows only in {left.name}, {len(only_right)} only in "
            f"{right.name} (columns {common})"
        )
        for side, rows in ((left.name, only_left), (right.name, only_right)):
            for row in sorted(rows, key=_sort_key)[:SAMPLE_ROWS]:
                problems.append(f"  {side}: {row}")
    return problems


def unmatched_rows(
    left: list[tuple[Any, ...]], right: list[tuple[Any, ...]], rel_tol: float = REL_TOL
) -> tuple[list[tuple[Any, ...]], list[tuple[Any, ...]]]:
    """The rows of each side that no row of the other side equals (as multisets, normalised
    values, floats within rel_tol)."""
    left_norm = Counter(normalise_row(r) for r in left)
    right_norm = Counter(normalise_row(r) for r in right)
    # Exact matches first; what is left pairs up by everything but its floats.
    left_rest = list((left_norm - right_norm).elements())
    right_rest = list((right_norm - left_norm).elements())
    if not left_rest or not right_rest:
        return left_rest, right_rest
    by_key: dict[tuple, list[tuple]] = defaultdict(list)
    for row in right_rest:
        by_key[_exact_part(row)].append(row)
    only_left = []
    for row in left_rest:
        candidates = by_key.get(_exact_part(row), [])
        match = next((i for i, c in enumerate(candidates) if _close_rows(row, c, rel_tol)), None)
        if match is None:
            only_left.append(row)
        else:
            candidates.pop(match)
    only_right = [row for rows in by_key.values() for row in rows]
    return only_left, only_right


def normalise_row(row: Sequence[Any]) -> tuple[Any, ...]:
    return tuple(normalise_value(v) for v in row)


def normalise_value(value: Any) -> Any:
    """A value in the form both sides compare in (see the module's docstring)."""
    if value is None or isinstance(value, bool | str | bytes):
        return value
    if isinstance(value, float):
        return _Float(value)
    if isinstance(value, int):
        return Decimal(value)
    if isinstance(value, Decimal):
        return value.normalize() if value.is_finite() else value
    if isinstance(value, dt.datetime):
        if value.tzinfo is not None:
            value = value.astimezone(dt.UTC).replace(tzinfo=None)
        return value
    if isinstance(value, list | tuple):
        return tuple(normalise_value(v) for v in value)
    if isinstance(value, dict):
        return tuple(sorted((k, normalise_value(v)) for k, v in value.items()))
    if type(value).__module__ == "numpy":  # a frame's scalar
        return normalise_value(value.item())
    return value


class _Float(float):
    """A float that equals itself when NaN, so that rows holding NaN match exactly."""

    def __eq__(self, other: object) -> bool:
        if isinstance(other, float) and math.isnan(self) and math.isnan(other):
            return True
        return float.__eq__(self, other)

    def __hash__(self) -> int:
        return hash("nan") if math.isnan(self) else float.__hash__(self)

    def __repr__(self) -> str:
        return float.__repr__(self)


def kind(value: Any) -> str | None:
    """The kind of a raw value a column holds (None for null)."""
    if value is None:
        return None
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, float):
        return "float"
    if isinstance(value, int | Decimal):
        return "exact number"
    if isinstance(value, dt.datetime):
        return "timestamp with time zone" if value.tzinfo is not None else "timestamp"
    if isinstance(value, dt.date):
        return "date"
    if isinstance(value, str):
        return "text"
    return type(value).__name__


def _kind_differences(
    columns: list[str],
    left_rows: list[tuple[Any, ...]],
    right_rows: list[tuple[Any, ...]],
    left_name: str,
    right_name: str,
) -> list[str]:
    problems = []
    for i, column in enumerate(columns):
        left_kinds = {kind(r[i]) for r in left_rows} - {None}
        right_kinds = {kind(r[i]) for r in right_rows} - {None}
        if left_kinds and right_kinds and left_kinds != right_kinds:
            problems.append(
                f"column {column} holds {sorted(left_kinds)} in {left_name}, "
                f"{sorted(right_kinds)} in {right_name}"
            )
    return problems


def _project(rows: list[tuple], columns: list[str], wanted: list[str]) -> list[tuple]:
    if columns == wanted:
        return [tuple(r) for r in rows]
    index = [columns.index(c) for c in wanted]
    return [tuple(r[i] for i in index) for r in rows]


def _exact_part(row: tuple) -> tuple:
    return tuple(None if isinstance(v, float) else v for v in row)


def _close_rows(a: tuple, b: tuple, rel_tol: float) -> bool:
    return all(_close(x, y, rel_tol) for x, y in zip(a, b, strict=True))


def _close(x: Any, y: Any, rel_tol: float) -> bool:
    if isinstance(x, float) and isinstance(y, float):
        if math.isnan(x) or math.isnan(y):
            return math.isnan(x) and math.isnan(y)
        return math.isclose(x, y, rel_tol=rel_tol, abs_tol=0.0)
    return x == y


def _sort_key(row: tuple) -> tuple:
    return tuple((v is None, str(v)) for v in row)


def engine_warehouse(target: Any, name: str | None = None) -> Warehouse:
    """One of the project's warehouses (pipelines.warehouse.engines: a DuckDB file, a
    Postgres or a Spark server), read through its own connection."""
    from pipelines.warehouse.engines import connect, engine_of

    engine = engine_of(target)

    def rows(sql: str) -> tuple[list[str], list[tuple]]:
        with connect(target) as con:
            result = con.execute(sql)
            names = [d[0] for d in result.description]
            fetched = result.fetchall()
            json_columns = [i for i, d in enumerate(result.description) if str(d[1]) == "JSON"]
        if json_columns:
            fetched = [_json_parsed(row, json_columns) for row in fetched]
        return names, fetched

    def tables(schema: str) -> list[str]:
        if engine == "spark":
            listed = rows(f"show tables in `{schema}`")[1]
            # (database, table name, is temporary)
            return sorted(r[1] for r in listed if not r[2])
        return [r[0] for r in rows(_information_schema_tables(schema))[1]]

    return Warehouse(name or engine, rows, tables)


def frozen_warehouse(warehouse: Warehouse, schemas: Sequence[str] = DEFAULT_SCHEMAS) -> Warehouse:
    """The tables of `schemas` as they are now, read once and kept in memory: what a build
    gave, to compare with what a later build of the same warehouse gives."""
    listed = {schema: list(warehouse.tables(schema)) for schema in schemas}
    kept = {
        f"select * from {schema}.{table}": warehouse.rows(f"select * from {schema}.{table}")
        for schema, tables in listed.items()
        for table in tables
    }

    def rows(sql: str) -> tuple[list[str], list[tuple]]:
        if sql not in kept:
            raise KeyError(f"{warehouse.name} was frozen with only {sorted(listed)}: {sql}")
        return kept[sql]

    def tables(schema: str) -> list[str]:
        return listed.get(schema, [])

    return Warehouse(warehouse.name, rows, tables)


def duckdb_warehouse(path: str, name: str = "duckdb") -> Warehouse:
    """A DuckDB warehouse file, read-only."""
    import duckdb

    def rows(sql: str) -> tuple[list[str], list[tuple]]:
        with duckdb.connect(str(path), read_only=True) as con:
            cur = con.execute(sql)
            names = [d[0] for d in cur.description]
            # JSON comes back as its text; psycopg2 and others give the parsed value.
            json_columns = [i for i, d in enumerate(cur.description) if str(d[1]) == "JSON"]
            fetched = cur.fetchall()
        if json_columns:
            fetched = [_json_parsed(row, json_columns) for row in fetched]
        return names, fetched

    def tables(schema: str) -> list[str]:
        return [r[0] for r in rows(_information_schema_tables(schema))[1]]

    return Warehouse(name, rows, tables)


def postgres_warehouse(connect: Callable[[], Any], name: str = "postgres") -> Warehouse:
    """A PostgreSQL database; `connect` opens a DB-API connection (psycopg2) to it."""

    def rows(sql: str) -> tuple[list[str], list[tuple]]:
        con = connect()
        try:
            with con.cursor() as cur:
                cur.execute(sql)
                return [d[0] for d in cur.description], cur.fetchall()
        finally:
            con.close()

    def tables(schema: str) -> list[str]:
        return [r[0] for r in rows(_information_schema_tables(schema))[1]]

    return Warehouse(name, rows, tables)


def _json_parsed(row: tuple, columns: list[int]) -> tuple:
    return tuple(
        json.loads(v) if i in columns and isinstance(v, str) else v for i, v in enumerate(row)
    )


def _information_schema_tables(schema: str) -> str:
    return (
        "select table_name from information_schema.tables "
        f"where table_schema = '{schema}' order by table_name"
    )
