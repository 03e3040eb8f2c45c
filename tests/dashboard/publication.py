"""The publication the dashboard's tests read: the real `publish` of the built tiny
organisation, with the build's dbt tests as its quality checks (each on its model's asset key;
a Dagster run reports its asset checks the same way).
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

from pipelines.serving.publication import Provenance, QualityCheck, publish
from pipelines.transform.dbt_runner import BuildResult, prepare_manifest


def dbt_test_checks(build: BuildResult, evaluated_at: datetime) -> list[QualityCheck]:
    manifest = json.loads(prepare_manifest().read_text())["nodes"]
    checks = []
    for node in build.nodes:
        if not node.unique_id.startswith("test."):
            continue
        test = manifest.get(node.unique_id, {})
        model = manifest.get(test.get("attached_node") or "", {})
        severity = str(test.get("config", {}).get("severity", "error")).upper()
        checks.append(
            QualityCheck(
                check_name=test.get("name", node.unique_id),
                asset_key=f"{model['schema']}/{model['name']}" if model else "",
                passed=node.status == "pass",
                severity="WARN" if severity == "WARN" else "ERROR",
                blocking=severity != "WARN",
                evaluated_at=evaluated_at,
                description=node.message or f"dbt test {test.get('name', node.unique_id)}",
            )
        )
    return checks


def publish_built(
    warehouse: Path, target: Path, run_id: str, as_of: str | None, build: BuildResult
) -> None:
    now = datetime.now(UTC)
    as_of_time = datetime.fromisoformat(as_of).replace(tzinfo=None) if as_of else None
    publish(warehouse, target, Provenance(run_id, as_of_time, now), dbt_test_checks(build, now))
