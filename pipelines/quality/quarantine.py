"""The quarantine check: did the last load of a source reject more of a table's records than
a small share, or all of them?

Per resource, share = records the source's latest load quarantined / records it received
(loaded + quarantined). It fails when the share is above the allowed one (the setting
`AOW_QUARANTINE_MAX_SHARE`, given by the caller), and always when every record received was
rejected: a vendor that changed a field's type sends every record that way, and a load that
quarantines a whole table otherwise "succeeds". The message names the source, the resource,
the field that broke, the type declared and the type seen, the count and a sample record
(vendor data, never credentials: they are not in payloads).

"Quarantined by this load" is what the load wrote to `raw_<source>.quarantine` and did not
resolve: a record rejected again is merged into its row under the new load id, so a rerun
counts it once and the table keeps it once. Reads only: `ops.source_loads` for the load's
ids and rows, and the quarantine table.
"""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import dataclass
from typing import Any

from pipelines.ingest.load_log import TABLE as SOURCE_LOADS
from pipelines.sources.unresolved import QUARANTINE_TABLE
from pipelines.warehouse.engines import Warehouse, connect, identifier_quote, relation_exists

SAMPLE_CHARS = 300


@dataclass(frozen=True)
class QuarantineShare:
    """What the latest load of a source quarantined of one resource's records."""

    source: str
    resource: str
    received: int
    quarantined: int
    max_share: float
    field: str | None = None
    expected: str | None = None
    seen: str | None = None
    field_count: int = 0  # of the quarantined records, how many broke on `field`
    sample: dict[str, Any] | None = None  # record_key, reason, payload

    @property
    def share(self) -> float:
        return self.quarantined / self.received if self.received else 0.0

    @property
    def all_rejected(self) -> bool:
        return self.received > 0 and self.quarantined == self.received

    @property
    def passed(self) -> bool:
        return not self.all_rejected and self.share <= self.max_share

    @property
    def table(self) -> str:
        """The table (and Dagster asset) of the resource: a child's parent."""
        return self.resource.split("__")[0]

    def message(self) -> str:
        limit = "every record rejected" if self.all_rejected else f"limit {self.max_share:.1%}"
        text = (
            f"{self.source}.{self.resource}: {self.quarantined} of {self.received} records "
            f"quarantined by the last load ({self.share:.1%}; {limit})"
        )
        if self.field:
            text += (
                f"; field `{self.field}` expected {self.expected or 'unknown'}, "
                f"seen {self.seen or 'unknown'} ({self.field_count} records)"
            )
        if self.sample:
            key = self.sample.get("record_key") or "no readable key"
            text += f"; sample ({key}): {self.sample.get('payload', '')[:SAMPLE_CHARS]}"
        return text

    def metadata(self) -> dict[str, Any]:
        return {
            "source": self.source,
            "resource": self.resource,
            "received": self.received,
            "quarantined": self.quarantined,
            "share": round(self.share, 6),
            "max_share": self.max_share,
            "field": self.field,
            "expected_type": self.expected,
            "seen_type": self.seen,
            "field_count": self.field_count,
            "sample": self.sample,
        }


def check_source(con: Any, source: str, dataset: str, limit: float) -> list[QuarantineShare]:
    """One result per resource the source's latest load quarantined records of (none: it
    rejected nothing, or the source never loaded); `limit` is the allowed share."""
    load = _latest_load(con, source)
    if load is None or not relation_exists(con, dataset, QUARANTINE_TABLE):
        return []
    rows_loaded, load_ids = load
    if not load_ids:
        return []
    table = f"{identifier_quote(con)(dataset)}.{QUARANTINE_TABLE}"
    results = []
    for resource, quarantined in sorted(quarantined_by_resource(con, dataset, load_ids).items()):
        field_, expected, seen, field_count = _commonest_break(con, table, resource, load_ids)
        results.append(
            QuarantineShare(
                source=source,
                resource=resource,
                received=int(rows_loaded.get(resource, 0)) + quarantined,
                quarantined=quarantined,
                max_share=limit,
                field=field_,
                expected=expected,
                seen=seen,
                field_count=field_count,
                sample=_sample(con, table, resource, load_ids, field_),
            )
        )
    return results


def quarantined_by_resource(con: Any, dataset: str, load_ids: list[str]) -> Counter[str]:
    """The records the loads `load_ids` quarantined and nothing resolved since, per resource
    they were meant for (none when the dataset has no quarantine table)."""
    if not load_ids or not relation_exists(con, dataset, QUARANTINE_TABLE):
        return Counter()
    found = con.execute(
        f"select resource, count(*) from {identifier_quote(con)(dataset)}.{QUARANTINE_TABLE} "
        f"where _dlt_load_id in {_placeholders(load_ids)} and resolved_at is null "
        "group by resource",
        load_ids,
    ).fetchall()
    return Counter(dict(found))


def check_sources(warehouse: Warehouse, limit: float) -> list[QuarantineShare]:
    """`check_source` of every source, on a read-only connection."""
    from pipelines.sources import SOURCES

    with connect(warehouse) as con:
        return [
            r
            for spec in SOURCES.values()
            for r in check_source(con, spec.name, spec.dataset, limit)
        ]


def _latest_load(con: Any, source: str) -> tuple[dict[str, int], list[str]] | None:
    schema, name = SOURCE_LOADS.split(".")
    if not relation_exists(con, schema, name):
        return None
    found = con.execute(
        f"select rows_loaded, load_ids from {SOURCE_LOADS} "
        "where source = ? and status <> 'not_configured' order by finished_at desc limit 1",
        [source],
    ).fetchone()
    if found is None:
        return None
    return _json(found[0], {}), _json(found[1], [])


def _json(value: Any, empty: Any) -> Any:
    """A JSON column's value: text on DuckDB and Spark, decoded already by Postgres' driver."""
    if value is None:
        return empty
    return json.loads(value) if isinstance(value, str) else value


def _placeholders(values: list[Any]) -> str:
    """An `in` list of one placeholder per value (every engine's driver takes these)."""
    return "(" + ", ".join("?" * len(values)) + ")"


def _commonest_break(
    con: Any, table: str, resource: str, load_ids: list[str]
) -> tuple[str | None, str | None, str | None, int]:
    found = con.execute(
        f"select field, expected_type, seen_type, count(*) from {table} "
        f"where _dlt_load_id in {_placeholders(load_ids)} and resolved_at is null "
        "and resource = ? group by field, expected_type, seen_type "
        "order by count(*) desc, field nulls last limit 1",
        [*load_ids, resource],
    ).fetchone()
    return found[0], found[1], found[2], found[3]


def _sample(
    con: Any,
    table: str,
    resource: str,
    load_ids: list[str],
    field_: str | None,
) -> dict[str, Any]:
    found = con.execute(
        f"select record_key, reason, payload from {table} "
        f"where _dlt_load_id in {_placeholders(load_ids)} and resolved_at is null "
        "and resource = ? order by field is not distinct from ? desc, record_key nulls last "
        "limit 1",
        [*load_ids, resource, field_],
    ).fetchone()
    if found is None:
        return {}
    return {"record_key": found[0], "reason": found[1], "payload": (found[2] or "")[:2000]}
