"""The publication: the warehouse's marts in a DuckDB file of their own, for readers.

DuckDB lets one process write a file while no other process opens it, not even read-only: a
BI tool holding the warehouse open would make the 06:00 run fail, and no one could read the
warehouse while a run writes it. So readers never open the warehouse. Each publish copies
every table of its `marts` schema (same schema, table names and column types) into a new
file written aside (a temporary name in the publication's directory), with a `publication`
schema saying what it holds; the file is checkpointed, closed and fsynced, then renamed
onto the publication path (os.replace, atomic on POSIX). A reader holding the previous file
keeps its inode and reads on, undisturbed, and never holds a lock the pipeline needs; a new
connection opens the new file; no one sees half a publication. A publish that fails leaves
the previous file as it was and removes its own temporary file. docs/serving.md weighs the
alternatives and says how to connect.

The `publication` schema (a dashboard reads these; keep names and columns):

    publication.about            one row: run_id, as_of, built_at, published_at, tables
    publication.source_freshness source, is_available, last_successful_load_at, is_stale, status
    publication.quality_checks   check_name, asset_key, passed, severity, blocking,
                                 evaluated_at, description

The caller holds the warehouse's writer lock (pipelines.warehouse.lock), so no writer
changes the marts mid-copy and two publishers never race on the rename.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import duckdb

from pipelines.atomic_files import written_atomically

MARTS = "marts"
SCHEMA = "publication"
# The warehouse's name while attached to the new file: not one a file's stem gives (DuckDB
# names the new file's own database after it, e.g. "warehouse").
_SOURCE = "aow_published_warehouse"

_ABOUT = f"""
create table {SCHEMA}.about (
    run_id varchar,             -- the run that published (a Dagster run id, or the command's)
    as_of timestamp,            -- the metrics' "now" the marts were built with (UTC)
    built_at timestamptz,       -- when the marts' build finished
    published_at timestamptz,   -- when this file was complete, just before its rename
    tables integer              -- marts published
)
"""
_SOURCE_FRESHNESS = f"""
create table {SCHEMA}.source_freshness as
select
    source::varchar as source,
    is_available::boolean as is_available,
    (last_successful_load_at at time zone 'UTC')::timestamptz as last_successful_load_at,
    is_stale::boolean as is_stale,
    status::varchar as status
from {_SOURCE}.{MARTS}.mart_source_coverage
order by source
"""
_SOURCE_FRESHNESS_EMPTY = f"""
create table {SCHEMA}.source_freshness (
    source varchar, is_available boolean, last_successful_load_at timestamptz,
    is_stale boolean, status varchar
)
"""
_QUALITY_CHECKS = f"""
create table {SCHEMA}.quality_checks (
    check_name varchar,
    asset_key varchar,          -- the checked asset, as a/b
    passed boolean,
    severity varchar,           -- ERROR or WARN
    blocking boolean,           -- a failure holds back what is downstream (and publication)
    evaluated_at timestamptz,
    description varchar
)
"""
# The Great Expectations suites' latest results, kept in the warehouse
# (pipelines.quality.history): the checks a publish outside Dagster can report.
_GX_RESULTS = f"""
select
    'gx_' || suite, asset_key, success, 'ERROR', true, checked_at,
    case when success then 'Great Expectations suite ' || suite || ' passed'
         else failed || ' of ' || evaluated || ' expectations failed' end
from {_SOURCE}.quality.gx_results
qualify row_number() over (partition by suite order by checked_at desc) = 1
order by suite
"""


@dataclass(frozen=True)
class Provenance:
    """What the published marts are: the run, and when and for when they were built."""

    run_id: str | None
    as_of: datetime | None  # the metrics' "now" (naive UTC, as the marts keep time)
    built_at: datetime | None  # when the marts' build finished (aware)


@dataclass(frozen=True)
class QualityCheck:
    """One check's latest result, as publication.quality_checks keeps it."""

    check_name: str
    asset_key: str
    passed: bool
    severity: str
    blocking: bool
    evaluated_at: datetime
    description: str | None


@dataclass(frozen=True)
class Publication:
    path: Path
    run_id: str | None
    as_of: datetime | None
    built_at: datetime | None
    published_at: datetime  # as publication.about says: the file complete, before its rename
    replaced_at: datetime  # renamed onto the path: what a new connection opens from then on
    rows: dict[str, int] = field(default_factory=dict)  # mart -> rows
    size_bytes: int = 0

    @property
    def tables(self) -> int:
        return len(self.rows)

    @property
    def seconds_after_build(self) -> float | None:
        """From the end of the marts' build to the publication's rename."""
        if self.built_at is None:
            return None
        return (self.replaced_at - self.built_at).total_seconds()


def publish(
    warehouse: Path | str,
    target: Path | str,
    provenance: Provenance,
    checks: Sequence[QualityCheck] | None = None,
) -> Publication:
    """Publish the warehouse's marts to `target`, replacing the previous publication whole.
    `checks`: the quality checks' latest results; None reports the Great Expectations
    results the warehouse keeps (quality.gx_results)."""
    warehouse = Path(warehouse).resolve()
    target = Path(target).expanduser().resolve()
    if not target.parent.is_dir():  # a mistyped path is an error, not a new directory
        raise FileNotFoundError(
            f"the directory {target.parent} of the publication {target} does not exist: "
            "check AOW_SERVING_PATH (no directory is created)"
        )
    if target == warehouse:
        raise ValueError(f"the publication {target} cannot be the warehouse itself")
    with written_atomically(target, durable=True) as aside:
        rows, published_at = _write(warehouse, aside, provenance, checks)
    replaced_at = datetime.now(UTC)
    return Publication(
        path=target,
        run_id=provenance.run_id,
        as_of=provenance.as_of,
        built_at=provenance.built_at,
        published_at=published_at,
        replaced_at=replaced_at,
        rows=rows,
        size_bytes=target.stat().st_size,
    )


def _write(
    warehouse: Path,
    path: Path,
    provenance: Provenance,
    checks: Sequence[QualityCheck] | None,
) -> tuple[dict[str, int], datetime]:
    con = duckdb.connect(str(path))
    try:
        con.execute("set TimeZone = 'UTC'")
        con.execute(f"attach '{_sql_text(str(warehouse))}' as {_SOURCE} (read_only)")
        marts = [
            name
            for (name,) in con.execute(
                "select table_name from duckdb_tables() "
                "where database_name = ? and schema_name = ? order by table_name",
                [_SOURCE, MARTS],
            ).fetchall()
        ]
        con.execute(f"create schema {MARTS}")
        con.execute(f"create schema {SCHEMA}")
        rows = {}
        for mart in marts:
            # CTAS keeps the columns, their order and types (the marts' dbt contracts).
            con.execute(f'create table {MARTS}."{mart}" as from {_SOURCE}.{MARTS}."{mart}"')
            (rows[mart],) = con.execute(f'select count(*) from {MARTS}."{mart}"').fetchone()
        con.execute(
            _SOURCE_FRESHNESS if "mart_source_coverage" in marts else _SOURCE_FRESHNESS_EMPTY
        )
        con.execute(_QUALITY_CHECKS)
        if checks is not None:
            con.executemany(
                f"insert into {SCHEMA}.quality_checks values (?, ?, ?, ?, ?, ?, ?)",
                [
                    (
                        c.check_name,
                        c.asset_key,
                        c.passed,
                        c.severity,
                        c.blocking,
                        c.evaluated_at,
                        c.description,
                    )
                    for c in checks
                ],
            )
        elif _has_table(con, "quality", "gx_results"):
            con.execute(f"insert into {SCHEMA}.quality_checks {_GX_RESULTS}")
        con.execute("detach " + _SOURCE)
        con.execute(_ABOUT)
        published_at = datetime.now(UTC)
        con.execute(
            f"insert into {SCHEMA}.about values (?, ?, ?, ?, ?)",
            [
                provenance.run_id,
                provenance.as_of,
                provenance.built_at,
                published_at,
                len(marts),
            ],
        )
        con.execute("checkpoint")  # everything in the file itself, no write-ahead log
    finally:
        con.close()
    return rows, published_at


def _has_table(con: duckdb.DuckDBPyConnection, schema: str, table: str) -> bool:
    return bool(
        con.execute(
            "select count(*) from duckdb_tables() "
            "where database_name = ? and schema_name = ? and table_name = ?",
            [_SOURCE, schema, table],
        ).fetchone()[0]
    )


def _sql_text(text: str) -> str:
    return text.replace("'", "''")


def read_about(path: Path | str) -> dict[str, object] | None:
    """The publication's `about` row (None when there is no publication)."""
    path = Path(path)
    if not path.exists():
        return None
    with duckdb.connect(str(path), read_only=True) as con:
        cur = con.execute(f"select * from {SCHEMA}.about")
        names = [d[0] for d in cur.description]
        return dict(zip(names, cur.fetchone(), strict=True))
