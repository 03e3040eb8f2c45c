"""A publication made from a built warehouse, per its contract (docs/dashboard.md): every table
of `marts` under the same names, and the `publication` schema's `about`, `source_freshness`
and `quality_checks`. The dashboard's tests read it as the dashboard reads the real one.

`quality_checks` holds the build's dbt tests (each its model's asset key), the checks a test
warehouse has run.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import duckdb

from pipelines.transform.dbt_runner import BuildResult, prepare_manifest


def publish(warehouse: Path, target: Path, run_id: str, as_of: str | None, build: BuildResult):
    manifest = json.loads(prepare_manifest().read_text())["nodes"]
    checks = []
    for node in build.nodes:
        if not node.unique_id.startswith("test."):
            continue
        test = manifest.get(node.unique_id, {})
        model = manifest.get(test.get("attached_node") or "", {})
        severity = str(test.get("config", {}).get("severity", "error")).lower()
        asset = f"{model['schema']}/{model['name']}" if model else None
        description = node.message or f"dbt test {test.get('name', node.unique_id)}"
        checks.append(
            (
                test.get("name", node.unique_id),
                asset,
                node.status == "pass",
                severity,
                severity == "error",
                description,
            )
        )
    now = datetime.now(UTC)
    with duckdb.connect(str(target)) as con:
        con.execute(f"attach '{warehouse}' as warehouse (read_only)")
        tables = [
            name
            for (name,) in con.execute(
                "select table_name from information_schema.tables "
                "where table_catalog = 'warehouse' and table_schema = 'marts' order by 1"
            ).fetchall()
        ]
        con.execute("create schema marts")
        for name in tables:
            con.execute(f"create table marts.{name} as select * from warehouse.marts.{name}")
        con.execute("create schema publication")
        con.execute(
            "create table publication.about (run_id varchar, as_of timestamp, "
            "built_at timestamptz, published_at timestamptz, tables integer)"
        )
        con.execute(
            "insert into publication.about values (?, cast(? as timestamp), ?, ?, ?)",
            [run_id, as_of or now.replace(tzinfo=None), now, now, len(tables)],
        )
        con.execute(
            "create table publication.source_freshness as select source, is_available, "
            "cast(last_successful_load_at as timestamptz) as last_successful_load_at, "
            "is_stale, status from marts.mart_source_coverage"
        )
        con.execute(
            "create table publication.quality_checks (check_name varchar, asset_key varchar, "
            "passed boolean, severity varchar, blocking boolean, evaluated_at timestamptz, "
            "description varchar)"
        )
        if checks:
            con.executemany(
                "insert into publication.quality_checks values (?, ?, ?, ?, ?, ?, ?)",
                [(n, a, p, s, b, now, d) for n, a, p, s, b, d in checks],
            )
        con.execute("detach warehouse")
