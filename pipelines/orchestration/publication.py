"""The publication (pipelines.serving.publication) as the Dagster asset `publication`.

Downstream of every mart, so Dagster runs it only once they are all built and every blocking
check upstream of them passed: a failed GX suite or quarantine check holds back the dbt ops,
and so this asset, and `no_failed_source_loads` (blocking, on mart_source_coverage) holds it
back when any source load of the run failed. A run that fails this way leaves the last good
publication in place. The publish runs in the `duckdb_warehouse` pool, under the warehouse's
writer lock, as every other step that opens the warehouse.

Its `quality_checks` table is read from the Dagster instance: the latest evaluation of every
asset check on the marts and everything upstream of them (GX suites, quarantine shares, dbt
data tests, freshness), with each check's blocking flag from its definition.
"""

from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path

import dagster as dg
from dagster._core.storage.asset_check_execution_record import AssetCheckExecutionRecordStatus

from pipelines.orchestration.resources import DUCKDB_POOL, WarehouseResource
from pipelines.serving.publication import Provenance, QualityCheck, publish

PUBLICATION = dg.AssetKey("publication")
_DONE = (AssetCheckExecutionRecordStatus.SUCCEEDED, AssetCheckExecutionRecordStatus.FAILED)


def build_publication(
    marts: Sequence[dg.AssetKey], target: Path, as_of: str | None
) -> dg.AssetsDefinition:
    """The asset publishing `marts` to `target` (Settings.publication_path); `as_of` is the
    metrics' "now" the dbt ops are given (AOW_AS_OF; None: the build's time)."""
    marts = sorted(marts)

    @dg.asset(
        key=PUBLICATION,
        group_name="serving",
        deps=marts,
        pool=DUCKDB_POOL,
        kinds={"duckdb"},
        description=f"The marts published for readers, replaced whole at {target} "
        "(docs/serving.md).",
    )
    def publication(
        context: dg.AssetExecutionContext, warehouse: WarehouseResource
    ) -> dg.MaterializeResult:
        provenance = Provenance(
            run_id=context.run.run_id,
            as_of=_as_of(context, marts, as_of),
            built_at=_built_at(context.instance, marts),
        )
        with warehouse.writer(f"dagster run {context.run.run_id} (publication)"):
            published = publish(warehouse.path, target, provenance, quality_checks(context))
        context.log.info(
            f"published {published.tables} marts ({sum(published.rows.values())} rows, "
            f"{published.size_bytes} bytes) to {published.path}"
        )
        return dg.MaterializeResult(
            metadata={
                "path": dg.MetadataValue.path(str(published.path)),
                "run_id": published.run_id,
                "as_of": published.as_of.isoformat() if published.as_of else None,
                "published_at": dg.MetadataValue.timestamp(published.published_at),
                "tables": published.tables,
                "rows": sum(published.rows.values()),
                "rows_by_mart": dg.MetadataValue.json(published.rows),
                "size_bytes": published.size_bytes,
                "seconds_after_build": published.seconds_after_build,
            }
        )

    return publication


def quality_checks(context: dg.AssetExecutionContext) -> list[QualityCheck]:
    """The latest completed evaluation of every check on the publication's upstream assets."""
    graph = context.job_def.asset_layer.asset_graph
    keys = sorted(graph.get_check_keys_for_assets(graph.get_ancestor_asset_keys(PUBLICATION)))
    storage = context.instance.event_log_storage
    latest = storage.get_latest_asset_check_execution_by_key(keys)
    found = []
    for key in keys:
        record = latest.get(key)
        if record is None or record.status not in _DONE:
            # Planned in this run but not evaluated (yet): its last evaluation before.
            history = storage.get_asset_check_execution_history(key, limit=10)
            record = next((r for r in history if r.status in _DONE), None)
        if record is None or record.evaluation is None:
            continue
        evaluation, spec = record.evaluation, graph.get_check_spec(key)
        found.append(
            QualityCheck(
                check_name=key.name,
                asset_key=key.asset_key.to_user_string(),
                passed=evaluation.passed,
                severity=evaluation.severity.value,
                blocking=spec.blocking,
                evaluated_at=datetime.fromtimestamp(record.event.timestamp, UTC),
                description=evaluation.description or spec.description,
            )
        )
    return found


def _built_at(instance: dg.DagsterInstance, marts: Sequence[dg.AssetKey]) -> datetime | None:
    """When the last of the marts was materialized."""
    stamps = [
        event.timestamp
        for key in marts
        if (event := instance.get_latest_materialization_event(key)) is not None
    ]
    return datetime.fromtimestamp(max(stamps), UTC) if stamps else None


def _as_of(
    context: dg.AssetExecutionContext, marts: Sequence[dg.AssetKey], fixed: str | None
) -> datetime | None:
    """The metrics' "now": AOW_AS_OF, else the build's time, which dbt reads as each model
    runs; the start of the step that built the marts is its earliest."""
    if fixed:
        moment = datetime.fromisoformat(fixed.replace("Z", "+00:00"))
        return moment.astimezone(UTC).replace(tzinfo=None) if moment.tzinfo else moment
    event = context.instance.get_latest_materialization_event(marts[-1])
    if event is None or event.step_key is None:
        return None
    starts = context.instance.all_logs(event.run_id, of_type=dg.DagsterEventType.STEP_START)
    started = [e.timestamp for e in starts if e.step_key == event.step_key]
    return datetime.fromtimestamp(min(started), UTC).replace(tzinfo=None) if started else None
