"""The results history: one row per suite validation in the warehouse table quality.gx_results.

Dagster keeps each check's result with its run; this table keeps them beside the data, so
an analyst can ask since when a suite fails, or how a relation's row count moved, in SQL.
Rows are appended; writing the same (run_id, suite) again replaces that row, so a retried
step does not count twice. A row keeps the digest of the inputs its result is a function of,
so the next check of an unchanged relation can repeat a passing result instead of reading it
again (pipelines.quality.unchanged). DuckDB takes one writer per file: write_results takes a
writable connection from a caller that holds the warehouse's writer lock
(pipelines.warehouse.lock), record_results takes the lock itself.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from pathlib import Path

import duckdb

from pipelines.quality.gx_suites import SuiteResult
from pipelines.warehouse.lock import writer_lock

SCHEMA = "quality"
TABLE = f"{SCHEMA}.gx_results"

_DDL = f"""
create table if not exists {TABLE} (
    run_id varchar not null,          -- the Dagster run id, or another caller's own id
    suite varchar not null,           -- the suite's name (its file in expectations/)
    relation varchar not null,        -- schema.table validated
    asset_key varchar not null,       -- the Dagster asset key, as a/b
    checked_at timestamptz not null,  -- when the validation ran
    success boolean not null,
    evaluated integer not null,       -- expectations evaluated
    failed integer not null,          -- of those, failed
    rows_validated bigint not null,
    truncated boolean not null,       -- the relation had more rows than the suite's max_rows
    failures varchar not null,        -- JSON list: each failed expectation and sample rows
    primary key (run_id, suite)
)
"""
# Added since the table was first made: a warehouse that has it without them gains them.
_LATER_COLUMNS = (
    # the digest of what the result is a function of (pipelines.quality.unchanged)
    ("input_digest", "varchar"),
    # the run whose validation gave the result: the row's own, or, for a suite not read
    # again because its inputs were unchanged, the earlier run that read them
    ("validated_in", "varchar"),
    ("note", "varchar"),  # why nothing was read, when nothing was
)
_COLUMNS = (
    "run_id, suite, relation, asset_key, checked_at, success, evaluated, failed, "
    "rows_validated, truncated, failures, input_digest, validated_in, note"
)


def ensure_table(con: duckdb.DuckDBPyConnection) -> None:
    con.execute(f"create schema if not exists {SCHEMA}")
    con.execute(_DDL)
    present = _present_columns(con)
    for name, kind in _LATER_COLUMNS:
        if name not in present:
            con.execute(f"alter table {TABLE} add column {name} {kind}")


def _present_columns(con: duckdb.DuckDBPyConnection) -> set[str]:
    """The columns the warehouse's history table has (none when it has no such table)."""
    rows = con.execute(
        "select column_name from information_schema.columns where table_catalog = "
        "current_database() and table_schema = ? and table_name = 'gx_results'",
        [SCHEMA],
    ).fetchall()
    return {name for (name,) in rows}


def last_result(con: duckdb.DuckDBPyConnection, suite: str) -> tuple | None:
    """The suite's latest row: (run_id, checked_at, success, input_digest, validated_in),
    or None when it has none (or the warehouse's table predates input digests)."""
    if "input_digest" not in _present_columns(con):
        return None
    return con.execute(
        f"select run_id, checked_at, success, input_digest, validated_in from {TABLE} "
        "where suite = ? order by checked_at desc limit 1",
        [suite],
    ).fetchone()


def write_results(
    con: duckdb.DuckDBPyConnection, run_id: str, results: Iterable[SuiteResult]
) -> int:
    """Append one row per result (replacing a row of the same run and suite); returns the
    number of rows written."""
    ensure_table(con)
    rows = [
        (
            run_id,
            r.suite,
            r.relation,
            "/".join(r.asset_key),
            r.checked_at,
            r.success,
            r.evaluated,
            len(r.failed),
            r.rows_validated,
            r.truncated,
            json.dumps(r.to_dict()["failed"]),
            r.input_digest,
            r.validated_in or run_id,
            r.note,
        )
        for r in results
    ]
    if rows:
        con.begin()
        con.executemany(
            f"insert or replace into {TABLE} ({_COLUMNS}) "
            f"values ({', '.join('?' * len(_COLUMNS.split(',')))})",
            rows,
        )
        con.commit()
    return len(rows)


def record_results(
    warehouse: Path | str, run_id: str, results: Iterable[SuiteResult], holder: str
) -> int:
    """write_results under the warehouse's writer lock (`holder` says who writes), on a
    connection opened and closed inside it."""
    with writer_lock(warehouse, holder), duckdb.connect(str(warehouse)) as con:
        return write_results(con, run_id, results)
