"""The warehouse's record of every source load: `ops.source_loads`.

One row per load attempt of a source: `loaded`, `not_configured` (the organisation does not
use that vendor) or `failed` (with the reason). dbt's coverage models read it to tell a reader
what each number rests on: which sources were loaded, when last, and which never were. It
also separates a vendor that is absent (its figures are null, with a reason) from one that is
configured but reported nothing (its zeros are true zeros).

Written by the process that holds the warehouse's writer lock, after the dlt runs it
describes have committed.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import duckdb

SCHEMA = "ops"
TABLE = f"{SCHEMA}.source_loads"
LOADED, NOT_CONFIGURED, FAILED = "loaded", "not_configured", "failed"

_DDL = f"""
create table if not exists {TABLE} (
    source varchar not null,
    status varchar not null,
    detail varchar,
    started_at timestamptz not null,
    finished_at timestamptz not null,
    rows_loaded json,
    load_ids json
)
"""


@dataclass
class SourceLoad:
    source: str
    status: str
    started_at: datetime
    detail: str | None = None
    rows_loaded: Mapping[str, int] = field(default_factory=dict)
    load_ids: Sequence[str] = ()
    finished_at: datetime | None = None


def record_load(warehouse: Path | str, load: SourceLoad) -> None:
    """Append `load` to ops.source_loads (created on first use). The caller holds the
    warehouse's writer lock."""
    finished = load.finished_at or datetime.now(UTC)
    with duckdb.connect(str(Path(warehouse).resolve())) as con:
        con.execute(f"create schema if not exists {SCHEMA}")
        con.execute(_DDL)
        con.execute(
            f"insert into {TABLE} values (?, ?, ?, ?, ?, ?, ?)",
            [
                load.source,
                load.status,
                load.detail,
                load.started_at,
                finished,
                json.dumps(dict(sorted(load.rows_loaded.items()))),
                json.dumps(list(load.load_ids)),
            ],
        )


def latest_loads(warehouse: Path | str) -> dict[str, tuple[str, str | None]]:
    """Each source's latest (status, detail); empty when nothing was recorded yet."""
    with duckdb.connect(str(Path(warehouse).resolve()), read_only=True) as con:
        if not _log_exists(con):
            return {}
        rows = con.execute(
            f"select source, status, detail from {TABLE} "
            "qualify row_number() over (partition by source order by finished_at desc) = 1"
        ).fetchall()
    return {source: (status, detail) for source, status, detail in rows}


def last_loaded_at(warehouse: Path | str, source: str) -> datetime | None:
    """When the source's last successful load finished; None when none is recorded."""
    with duckdb.connect(str(Path(warehouse).resolve()), read_only=True) as con:
        if not _log_exists(con):
            return None
        (finished,) = con.execute(
            f"select max(finished_at) from {TABLE} where source = ? and status = ?",
            [source, LOADED],
        ).fetchone()
    return finished


def _log_exists(con: duckdb.DuckDBPyConnection) -> bool:
    return bool(
        con.execute(
            "select count(*) from information_schema.tables "
            "where table_schema = ? and table_name = 'source_loads'",
            [SCHEMA],
        ).fetchone()[0]
    )
