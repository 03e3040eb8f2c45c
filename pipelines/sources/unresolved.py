"""The warehouse side of a source's quarantine while it loads: the records earlier runs
quarantined and nothing has accepted since, and the first time and count of a record
rejected before. Read through the running dlt pipeline's own connection, so the load needs
no second one to its warehouse.

Also what a quarantine row says about its record when the Conformer that rejected it did
not say it: the field, the expected and the seen type, read from the reason.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from dlt.common.configuration.container import Container
from dlt.common.pipeline import PipelineContext
from dlt.destinations.exceptions import DatabaseException

QUARANTINE_TABLE = "quarantine"

# The converters' words (pipelines.sources.contract) -> the declared type they check.
_EXPECTED = {
    "a boolean": "bool",
    "a timestamp": "timestamp",
    "an integer": "bigint",
    "a number": "double",
    "text": "text",
}
_FIELD = re.compile(r"^([A-Za-z_][\w.]*): ")
_NOT_A = re.compile(r"is not (a boolean|a timestamp|an integer|a number|text)\)?$")


def record_hash(source: str, resource: str, payload: str) -> str:
    return hashlib.sha256(f"{source}|{resource}|{payload}".encode()).hexdigest()


def describe_reason(reason: str, payload: Any) -> tuple[str | None, str | None, str | None]:
    """(field, expected type, seen type) from a reason such as
    "draft: 'false' is not valid (str is not a boolean)" or "id: required, but missing or
    null"; the seen type from the payload when the field is one of its top-level keys."""
    found = _FIELD.match(reason)
    if not found:
        return None, None, None
    field = found[1]
    expected = None
    if "required, but missing or null" in reason:
        expected = "present"
    elif not_a := _NOT_A.search(reason):
        expected = _EXPECTED[not_a[1]]
    return field, expected, seen_type(payload, field)


def seen_type(payload: Any, field: str) -> str | None:
    if not isinstance(payload, dict):
        return None
    if field not in payload:
        return "absent"
    value = payload[field]
    if value is None:
        return "null"
    return f"{type(value).__name__} {json.dumps(value, default=str)[:40]}"


def unresolved_by_key(source: str) -> dict[str, dict[str, list[dict[str, Any]]]]:
    """resource -> record key -> the unresolved quarantine rows of that record (oldest
    first), from the warehouse the running pipeline loads into; empty outside a load. A
    record whose key could not be read is listed under its hash (its parent may still be)."""
    found: dict[str, dict[str, list[dict[str, Any]]]] = {}
    with _warehouse() as query:
        if query is None:
            return found
        rows = query(
            "select * from {table} where source = %s and resolved_at is null "
            "order by quarantined_at",
            source,
        )
        for row in rows:
            # Written back as they are when resolved; dlt sets its own columns again.
            kept = {k: v for k, v in row.items() if not k.startswith("_dlt")}
            key = row["record_key"] if row["record_key"] is not None else row["record_hash"]
            found.setdefault(row["resource"], {}).setdefault(key, []).append(kept)
    return found


def again(source: str, rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """`rows` (this run's rejections) with the first quarantine time and the count of the
    records an earlier run rejected too, so the merge keeps one row per record."""
    if not rows:
        return rows
    with _warehouse() as query:
        if query is None:
            return rows
        before = {
            r["record_hash"]: r
            for r in query(
                "select record_hash, quarantined_at, times_quarantined from {table} "
                "where source = %s and record_hash in (select unnest(%s))",
                source,
                [r["record_hash"] for r in rows],
            )
        }
    for row in rows:
        if earlier := before.get(row["record_hash"]):
            row["quarantined_at"] = earlier["quarantined_at"]
            row["times_quarantined"] = (earlier["times_quarantined"] or 1) + 1
    return rows


@contextmanager
def _warehouse() -> Iterator[Any]:
    """A query function over the running pipeline's quarantine table (`{table}` in the
    SQL), or None when no pipeline runs or the table (or its columns) is not there yet."""
    context = Container()[PipelineContext]
    if not context.is_active():
        yield None
        return
    pipeline = context.pipeline()
    try:
        client = pipeline.sql_client()
    except Exception:  # noqa: BLE001 - no destination (a pipeline without one): nothing kept
        yield None
        return
    with client:
        table = client.make_qualified_table_name(QUARANTINE_TABLE)
        _upgrade(client, table)

        def query(sql: str, *args: Any) -> list[dict[str, Any]]:
            try:
                with client.execute_query(sql.format(table=table), *args) as cursor:
                    names = [d[0] for d in cursor.description]
                    return [dict(zip(names, r, strict=True)) for r in cursor.fetchall()]
            except DatabaseException:  # no table yet, or one from before these columns
                return []

        yield query


# A quarantine table from before `record_hash` (appended to, one row per rejection): its rows
# get their hash, first and latest time and count, one row per record, so the merge that
# writes it now finds them (and dlt's NOT NULL columns are not added to a table with rows).
_UPGRADE = (
    "alter table {table} add column if not exists record_hash varchar",
    "alter table {table} add column if not exists last_quarantined_at timestamp with time zone",
    "alter table {table} add column if not exists times_quarantined bigint",
    "update {table} set record_hash = "
    "sha256(source || '|' || resource || '|' || coalesce(payload, 'null'))",
    "update {table} as t set times_quarantined = c.n, last_quarantined_at = c.latest "
    "from (select record_hash, count(*) as n, max(quarantined_at) as latest "
    "from {table} group by record_hash) as c where t.record_hash = c.record_hash",
    "delete from {table} where rowid not in (select min(rowid) from {table} group by record_hash)",
)


def _upgrade(client: Any, table: str) -> None:
    try:
        with client.execute_query(f"select * from {table} limit 0") as cursor:
            columns = {d[0] for d in cursor.description}
    except DatabaseException:  # no quarantine table yet
        return
    if "record_hash" in columns:
        return
    for statement in _UPGRADE:
        client.execute_sql(statement.format(table=table))
