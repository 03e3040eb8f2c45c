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
from typing import Any

from pipelines.warehouse.engines import Warehouse, connect, engine_of, relation_exists

SCHEMA = "ops"
TABLE = f"{SCHEMA}.source_loads"
LOADED, NOT_CONFIGURED, FAILED = "loaded", "not_configured", "failed"

# The log's columns on each engine: its times are instants (Spark's timestamp is one, in the
# session's zone, UTC), its counts and load ids JSON text.
_TYPES = {
    "duckdb": ("varchar", "timestamptz", "json", ""),
    "postgres": ("text", "timestamptz", "jsonb", ""),
    "spark": ("string", "timestamp", "string", " using parquet"),
}


def _ddl(engine: str) -> str:
    text, instant, json_type, using = _TYPES[engine]
    required = "" if engine == "spark" else " not null"  # Spark's parquet tables: no NOT NULL
    return f"""
create table if not exists {TABLE} (
    source {text}{required},
    status {text}{required},
    detail {text},
    started_at {instant}{required},
    finished_at {instant}{required},
    rows_loaded {json_type},
    load_ids {json_type}
){using}
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


def record_load(warehouse: Warehouse, load: SourceLoad) -> None:
    """Append `load` to ops.source_loads (created on first use). The caller holds the
    warehouse's writer lock."""
    finished = load.finished_at or datetime.now(UTC)
    engine = engine_of(warehouse)
    with connect(warehouse, read_only=False) as con:
        con.execute(f"create schema if not exists {SCHEMA}")
        con.execute(_ddl(engine))
        at = f"cast(? as {_TYPES[engine][1]})"
        con.execute(
            f"insert into {TABLE} values (?, ?, ?, {at}, {at}, ?, ?)",
            [
                load.source,
                load.status,
                load.detail,
                _instant(engine, load.started_at),
                _instant(engine, finished),
                json.dumps(dict(sorted(load.rows_loaded.items()))),
                json.dumps(list(load.load_ids)),
            ],
        )


def latest_loads(warehouse: Warehouse) -> dict[str, tuple[str, str | None]]:
    """Each source's latest (status, detail); empty when nothing was recorded yet."""
    with connect(warehouse) as con:
        if not relation_exists(con, SCHEMA, "source_loads"):
            return {}
        rows = con.execute(
            "select source, status, detail from (select source, status, detail, row_number() "
            f"over (partition by source order by finished_at desc) as n from {TABLE}) as l "
            "where n = 1"
        ).fetchall()
    return {source: (status, detail) for source, status, detail in rows}


def last_loaded_at(warehouse: Warehouse, source: str) -> datetime | None:
    """When the source's last successful load finished; None when none is recorded."""
    with connect(warehouse) as con:
        if not relation_exists(con, SCHEMA, "source_loads"):
            return None
        (finished,) = con.execute(
            f"select max(finished_at) from {TABLE} where source = ? and status = ?",
            [source, LOADED],
        ).fetchone()
    if finished is not None and finished.tzinfo is None:  # Spark's timestamps are UTC
        finished = finished.replace(tzinfo=UTC)
    return finished


def _instant(engine: str, moment: datetime) -> Any:
    """A parameter for a timestamp column: Spark's driver writes a datetime as local text,
    so it gets the UTC wall time (its session's zone is UTC)."""
    if engine == "spark":
        return moment.astimezone(UTC).replace(tzinfo=None)
    return moment
