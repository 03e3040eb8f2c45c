"""The dbt project as Dagster assets, built by `dbt build` in three ops.

One op per stage, so that a blocking check holds back what is downstream of it: Dagster
skips the ops that depend on a failed check, but cannot stop the rest of an op's own
`dbt build` (dbt itself skips the models downstream of a failed dbt test).

    dbt_foundation   seeds, staging views, and the identity models the spend needs
    dbt_daily_spend  int_ai_spend, daily-partitioned: a run rebuilds its partition's days
    dbt_outcomes     everything else: intermediate models and the marts
"""

import json
import shutil
from collections.abc import Iterator
from functools import cache
from pathlib import Path

import dagster as dg
from dagster_dbt import DbtCliResource, DbtProject, dbt_assets

from pipelines.envvars import temporary_env
from pipelines.orchestration.partitions import daily_partitions, single_run_backfill, window_vars
from pipelines.orchestration.resources import DUCKDB_POOL, WarehouseResource
from pipelines.transform.dbt_runner import (
    DBT_EXECUTABLE,
    DBT_PROJECT_DIR,
    PARTIAL_PARSE,
    publish_target_files,
    run_vars,
)

DAILY_MODELS = "int_ai_spend"
# What the daily models read: closed under ancestors, so no later op feeds an earlier one.
FOUNDATION = f"resource_type:seed path:models/staging +{DAILY_MODELS}"


@cache
def dbt_project() -> DbtProject:
    """The dbt project; its manifest must be prepared first (dbt_runner.prepare_manifest)."""
    return DbtProject(project_dir=DBT_PROJECT_DIR)


@cache
def dbt_resource() -> DbtCliResource:
    # In-process parse aside, dbt runs as this environment's CLI: it need not be on PATH.
    return DbtCliResource(project_dir=dbt_project(), dbt_executable=DBT_EXECUTABLE)


def build(
    context: dg.AssetExecutionContext,
    dbt: DbtCliResource,
    warehouse: WarehouseResource,
    op_name: str,
    dbt_vars: dict[str, str],
) -> Iterator:
    """`dbt build` of the op's selection with `dbt_vars`, holding the warehouse's writer lock.

    Tests run "buildable": a test whose models span two ops (a relationship from an
    outcome model to an identity model) runs in the later op, once all of them are built,
    instead of failing in the earlier one on a table that does not exist yet. That setting
    alone goes through the environment (DBT_INDIRECT_SELECTION, for the length of the call),
    not as dbt's flag: dagster-dbt reads the variable as the default it replaces with "empty"
    when a run leaves out some of the op's checks, and a flag would override its choice.
    """
    holder = f"dagster run {context.run.run_id} ({op_name})"
    with (
        warehouse.writer(holder),
        temporary_env({"DBT_INDIRECT_SELECTION": "buildable"}),
    ):
        invocation = dbt.cli(["build", "--vars", json.dumps(dbt_vars)], context=context)
        yield from invocation.stream()
    # Hand this invocation's parse to the next one. dagster-dbt starts each invocation from
    # the project's partial_parse.msgpack; a parse made for other vars (the warehouse path,
    # the window of days) is discarded by dbt, so without this every op of every run parses
    # the whole project again (seconds each).
    publish_target_files(invocation.target_path, [PARTIAL_PARSE])
    # dagster-dbt leaves each invocation's target (compiled SQL, logs: tens of MB) behind.
    # Reached only when dbt succeeded: a failed invocation's directory stays, to debug.
    shutil.rmtree(invocation.target_path, ignore_errors=True)


@cache
def dbt_models(
    partitions_start: str, seeds_dir: Path | None, as_of: str | None
) -> tuple[dg.AssetsDefinition, ...]:
    """The three ops, reading the organisation's seeds (`seeds_dir`, AOW_SEEDS_DIR) and clock
    (`as_of`, AOW_AS_OF), the daily one partitioned from `partitions_start`."""
    project = dbt_project()

    def op_vars(context: dg.AssetExecutionContext, warehouse: WarehouseResource) -> dict:
        # The same vars for every op of a run, the window of days included (only the daily
        # models read it): dbt parses the whole project again whenever the vars change.
        return {**run_vars(warehouse.path, seeds_dir, as_of), **window_vars(context)}

    @dbt_assets(
        manifest=project.manifest_path,
        project=project,
        name="dbt_foundation",
        select=FOUNDATION,
        exclude=DAILY_MODELS,
        pool=DUCKDB_POOL,
    )
    def dbt_foundation(
        context: dg.AssetExecutionContext, dbt: DbtCliResource, warehouse: WarehouseResource
    ):
        yield from build(context, dbt, warehouse, "dbt_foundation", op_vars(context, warehouse))

    @dbt_assets(
        manifest=project.manifest_path,
        project=project,
        name="dbt_daily_spend",
        select=DAILY_MODELS,
        partitions_def=daily_partitions(partitions_start),
        backfill_policy=single_run_backfill,
        pool=DUCKDB_POOL,
    )
    def dbt_daily_spend(
        context: dg.AssetExecutionContext, dbt: DbtCliResource, warehouse: WarehouseResource
    ):
        yield from build(context, dbt, warehouse, "dbt_daily_spend", op_vars(context, warehouse))

    @dbt_assets(
        manifest=project.manifest_path,
        project=project,
        name="dbt_outcomes",
        exclude=f"{FOUNDATION} {DAILY_MODELS}",
        pool=DUCKDB_POOL,
    )
    def dbt_outcomes(
        context: dg.AssetExecutionContext, dbt: DbtCliResource, warehouse: WarehouseResource
    ):
        yield from build(context, dbt, warehouse, "dbt_outcomes", op_vars(context, warehouse))

    return dbt_foundation, dbt_daily_spend, dbt_outcomes
