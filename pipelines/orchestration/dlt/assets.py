"""dlt loaders as Dagster assets: one asset per dlt resource, keyed [<raw dataset>, <table>].

One multi-asset per registered source (pipelines.sources.SOURCES), so each vendor is one
step: its resources share a client and a rate limit. dagster-dlt builds the asset specs from
the source; the step runs the load the way the command line does
(pipelines.ingest.loads.load_checkpoints): in the source's checkpointed runs, so a backfill that
fails part-way keeps what it finished, under the warehouse's writer lock.

Sources that read fixed windows of days (the billing reports) are daily-partitioned: a run
loads exactly its partition's days, and a backfill of a range is one run. The others load
whatever changed since their cursors, every run.

A source the organisation does not use (none of its settings set) is not loaded: its step
succeeds, reports each table with `source_status: not configured` and the reason, and the
models downstream build without it (their figures that need it are null, with a reason).

A load that fails transiently (an outage longer than the HTTP session's own retries, a rate
limit) is retried by Dagster with exponential backoff: the loads are idempotent, and what a
failed attempt committed is kept. A permanent failure (refused credentials, a wrong name, a bad
configuration: pipelines.sources.failures) is not retried. Once a failure is permanent or the
retries are spent, the step gives up on the source without failing: it reports each table with
`source_status: failed` and the reason, so the dbt ops still run and rebuild the marts on the
source's last good raw data. The load log says the source failed, mart_source_coverage says it
is stale, and the check on that mart fails the run, naming it
(pipelines.orchestration.source_loads).
Dagster would skip every op downstream of a failed step: one vendor's expired token would hold
back every mart, the spend marts included.
"""

import tempfile
from collections import Counter
from collections.abc import Iterator
from functools import cache
from pathlib import Path

import dagster as dg
from dagster_dlt import DagsterDltTranslator, build_dlt_asset_specs
from dagster_dlt.translator import DltResourceTranslatorData
from dlt.common.schema import Schema

from pipelines.ingest.load_log import last_loaded_at
from pipelines.ingest.loads import (
    SourceNotConfigured,
    load_checkpoints,
    load_ids,
    make_pipeline,
    source_spec,
)
from pipelines.orchestration.partitions import daily_partitions, single_run_backfill, window_dates
from pipelines.orchestration.resources import DUCKDB_POOL, WarehouseResource
from pipelines.quality.quarantine import quarantined_by_resource
from pipelines.sources import SOURCES, SourceSpec
from pipelines.sources.contract import QUARANTINE_TABLE
from pipelines.sources.failures import LoadFailed
from pipelines.sources.http_session import RequestMeter, metered
from pipelines.warehouse.engines import Warehouse


def source_retry_policy(delay: float) -> dg.RetryPolicy:
    """Three retries, the first after `delay` seconds (AOW_SOURCE_RETRY_DELAY), then doubled,
    with jitter."""
    return dg.RetryPolicy(
        max_retries=3,
        delay=delay,
        backoff=dg.Backoff.EXPONENTIAL,
        jitter=dg.Jitter.PLUS_MINUS,
    )


class RawTranslator(DagsterDltTranslator):
    """Keys match the warehouse table (and the dbt sources' meta.dagster.asset_key)."""

    def get_asset_spec(self, data: DltResourceTranslatorData) -> dg.AssetSpec:
        spec = super().get_asset_spec(data)
        dataset = source_spec(data.resource.source_name).dataset
        return spec.replace_attributes(
            key=dg.AssetKey([dataset, data.resource.table_name]),
            deps=[],  # the vendor API is not an asset
            group_name="raw",
        )


def _definition_pipeline(source: str):
    """A pipeline object for building asset specs only, never run (its warehouse is a
    placeholder). Runs build their own, pointed at the warehouse resource's path, in a
    throwaway pipelines dir (see pipelines.ingest.loads)."""
    specs_dir = Path(tempfile.gettempdir()) / "aow-dlt-definitions"
    return make_pipeline(source, specs_dir / "never-loaded.duckdb", specs_dir)


def build_source_assets(
    spec: SourceSpec, retry_policy: dg.RetryPolicy, partitions: dg.PartitionsDefinition
) -> dg.AssetsDefinition:
    """The source's multi-asset; `partitions` applies if it reads windows of days."""
    # Placeholder arguments: specs need the resources, not credentials (resolved at run).
    definition_source = spec.factory(**spec.spec_args)
    specs = build_dlt_asset_specs(
        definition_source, _definition_pipeline(spec.name), RawTranslator()
    )
    tables = {
        dg.AssetKey([spec.dataset, resource.table_name]): resource.name
        for resource in definition_source.resources.values()
    }

    @dg.multi_asset(
        specs=specs,
        name=spec.name,
        can_subset=True,
        pool=DUCKDB_POOL,
        retry_policy=retry_policy,
        partitions_def=partitions if spec.windowed else None,
        backfill_policy=single_run_backfill if spec.windowed else None,
    )
    def _assets(context: dg.AssetExecutionContext, warehouse: WarehouseResource):
        selected = [tables[key] for key in tables if key in context.selected_asset_keys]
        window = window_dates(context) if spec.windowed else {}
        if window:
            context.log.info("%s: loading the UTC days [%s, %s)", spec.name, *window.values())
        rows: Counter[str] = Counter()
        loaded: list[str] = []
        runs = 0
        schema = None
        with metered() as meter:
            try:
                for pipeline, counts in load_checkpoints(
                    spec.name,
                    warehouse.target,
                    resources=selected if context.is_subset else None,
                    arguments=window,
                    holder=f"dagster run {context.run.run_id} ({spec.name})",
                ):
                    rows.update(counts)
                    loaded += load_ids(pipeline)
                    runs += 1
                    schema = pipeline.default_schema  # read here: the files go with it
                    context.log.info("%s: checkpoint %d loaded %s", spec.name, runs, dict(counts))
            except SourceNotConfigured as exc:
                # Every vendor is optional: the step succeeds without loading, so the models
                # downstream still build (on empty tables), and each table says why.
                context.log.warning(str(exc))
                yield from _not_configured(context, tables, str(exc))
                return
            except LoadFailed as exc:
                if not exc.permanent and context.retry_number < retry_policy.max_retries:
                    raise  # transient: Dagster tries again after the policy's delay
                context.log.error(_giving_up(exc, context.retry_number))
                yield from _failed(context, tables, exc, rows, meter, warehouse.target, spec.name)
                return
        with warehouse.connect() as con:
            quarantined = quarantined_by_resource(con, spec.dataset, loaded)
        for key, table in tables.items():
            if key in context.selected_asset_keys:
                yield dg.MaterializeResult(
                    asset_key=key,
                    metadata={
                        **_table_metadata(spec, table, rows, runs, schema),
                        **_load_metadata(meter, quarantined, table, window),
                    },
                )

    return _assets


def _not_configured(
    context: dg.AssetExecutionContext, tables: dict[dg.AssetKey, str], reason: str
) -> Iterator[dg.MaterializeResult]:
    """One result per selected table of a source that is not configured: nothing was
    loaded, and the metadata says so (Dagster would skip every model downstream of a table
    the step does not report)."""
    for key in tables:
        if key in context.selected_asset_keys:
            yield dg.MaterializeResult(
                asset_key=key,
                metadata={
                    "source_status": "not configured",
                    "reason": reason,
                    "rows_loaded": dg.MetadataValue.int(0),
                },
            )


def _giving_up(exc: LoadFailed, retries: int) -> str:
    why = "permanent, not retried" if exc.permanent else f"still failing after {retries} retries"
    return (
        f"{exc} ({why}). The models are built on this source's last good data; "
        "the run will fail naming it."
    )


def _failed(
    context: dg.AssetExecutionContext,
    tables: dict[dg.AssetKey, str],
    exc: LoadFailed,
    rows: Counter[str],
    meter: RequestMeter,
    warehouse: Warehouse,
    source: str,
) -> Iterator[dg.MaterializeResult]:
    """One result per selected table of a source whose load failed for good: the models
    downstream still run, on what the table holds. `dagster/last_updated_timestamp` is the last
    successful load, so the freshness checks judge the data, not this step; a source that never
    loaded gets the epoch, which every freshness check finds stale."""
    last_good = last_loaded_at(warehouse, source)
    updated = last_good.timestamp() if last_good is not None else 1.0  # 0 would read as unset
    for key, table in tables.items():
        if key in context.selected_asset_keys:
            yield dg.MaterializeResult(
                asset_key=key,
                metadata={
                    "source_status": "failed",
                    "reason": str(exc),
                    "failure": "permanent" if exc.permanent else "transient",
                    "attempts": dg.MetadataValue.int(context.retry_number + 1),
                    "rows_loaded": dg.MetadataValue.int(rows.get(table, 0)),
                    # This attempt's (the source's, shared by its tables).
                    "api_requests": dg.MetadataValue.int(meter.requests),
                    "api_retries": dg.MetadataValue.int(meter.retries),
                    "dagster/last_updated_timestamp": dg.MetadataValue.timestamp(updated),
                },
            )


def _table_metadata(
    spec: SourceSpec, table: str, rows: Counter[str], runs: int, schema: Schema | None
) -> dict[str, object]:
    """Rows this load wrote to the table (and to its child tables), the number of
    checkpointed runs, and the table's columns as dlt declared them."""
    children = {name: n for name, n in sorted(rows.items()) if name.startswith(f"{table}__")}
    metadata: dict[str, object] = {
        "rows_loaded": dg.MetadataValue.int(rows.get(table, 0)),
        "dlt_runs": dg.MetadataValue.int(runs),
        "dataset_name": spec.dataset,
    }
    if children:
        metadata["child_rows_loaded"] = dg.MetadataValue.json(children)
    if schema is not None and table in schema.tables:
        columns = schema.get_table_columns(table)
        # Dagster's standard table keys, which its UI shows as the table's name and columns.
        metadata["dagster/table_name"] = f"{spec.dataset}.{table}"
        metadata["dagster/column_schema"] = dg.TableSchema(
            columns=[
                dg.TableColumn(name, str(column.get("data_type") or "unknown"))
                for name, column in columns.items()
            ]
        )
    return metadata


def _load_metadata(
    meter: RequestMeter, quarantined: Counter[str], table: str, window: dict[str, str]
) -> dict[str, object]:
    """What the whole source load did (requests are shared by its tables), and the records
    of this table it quarantined."""
    metadata: dict[str, object] = {
        "api_requests": dg.MetadataValue.int(meter.requests),
        "api_retries": dg.MetadataValue.int(meter.retries),
        "quarantined_records": dg.MetadataValue.int(
            sum(quarantined.values()) if table == QUARANTINE_TABLE else quarantined[table]
        ),
    }
    if window:
        metadata["window"] = f"[{window['start_date']}, {window['end_date']})"
    return metadata


@cache
def source_assets(retry_delay: float, partitions_start: str) -> tuple[dg.AssetsDefinition, ...]:
    """Every registered source's multi-asset (AOW_SOURCE_RETRY_DELAY, AOW_PARTITIONS_START)."""
    policy, partitions = source_retry_policy(retry_delay), daily_partitions(partitions_start)
    return tuple(build_source_assets(spec, policy, partitions) for spec in SOURCES.values())
