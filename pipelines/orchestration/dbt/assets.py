"""The dbt project as Dagster assets, built by `dbt build` in three ops.

One op per stage, so that a blocking check holds back what is downstream of it: Dagster
skips the ops that depend on a failed check, but cannot stop the rest of an op's own
`dbt build` (dbt itself skips the models downstream of a failed dbt test).

    dbt_foundation   seeds, staging views, and the identity models the spend needs
    dbt_daily_spend  int_ai_spend, daily-partitioned: a run rebuilds its partition's days
    dbt_outcomes     everything else: intermediate models and the marts
"""

import shutil
from collections.abc import Iterator, Mapping

import dagster as dg
from dagster_dbt import DbtCliResource, DbtProject, dbt_assets

from pipelines.envvars import temporary_env
from pipelines.orchestration.partitions import daily_partitions, single_run_backfill, window_env
from pipelines.orchestration.resources import DUCKDB_POOL, WarehouseResource
from pipelines.transform.dbt_runner import (
    DBT_EXECUTABLE,
    DBT_PROJECT_DIR,
    PARTIAL_PARSE,
    manifest_is_stale,
    parse_project,
    publish_target_files,
)
from pipelines.transform.org_seeds import dbt_seed_env

dbt_project = DbtProject(project_dir=DBT_PROJECT_DIR)
# Parse when the manifest is missing or older than any project file, so every load (and
# `dagster dev` after an edit) sees the models on disk. In-process: dbt need not be on PATH.
if manifest_is_stale(dbt_project.manifest_path):
    parse_project()

dbt_resource = DbtCliResource(project_dir=dbt_project, dbt_executable=DBT_EXECUTABLE)

DAILY_MODELS = "int_ai_spend"
# What the daily models read: closed under ancestors, so no later op feeds an earlier one.
FOUNDATION = f"resource_type:seed path:models/staging +{DAILY_MODELS}"


def build(
    context: dg.AssetExecutionContext,
    dbt: DbtCliResource,
    warehouse: WarehouseResource,
    op_name: str,
    env: Mapping[str, str] | None = None,
) -> Iterator:
    """`dbt build` of the op's selection, holding the warehouse's writer lock.

    Tests run "buildable": a test whose models span two ops (a relationship from an
    outcome model to an identity model) runs in the later op, once all of them are built,
    instead of failing in the earlier one on a table that does not exist yet.
    """
    holder = f"dagster run {context.run.run_id} ({op_name})"
    with (
        warehouse.writer(holder),
        warehouse.exported_path(),
        temporary_env({"DBT_INDIRECT_SELECTION": "buildable", **dbt_seed_env(), **(env or {})}),
    ):
        invocation = dbt.cli(["build"], context=context)
        yield from invocation.stream()
    # Hand this invocation's parse to the next one. dagster-dbt starts each invocation from
    # the project's partial_parse.msgpack; a parse made for another profile (warehouse path)
    # or other environment is discarded by dbt, so without this every op of every run parses
    # the whole project again (seconds each).
    publish_target_files(invocation.target_path, [PARTIAL_PARSE])
    # dagster-dbt leaves each invocation's target (compiled SQL, logs: tens of MB) behind.
    # Reached only when dbt succeeded: a failed invocation's directory stays, to debug.
    shutil.rmtree(invocation.target_path, ignore_errors=True)


@dbt_assets(
    manifest=dbt_project.manifest_path,
    project=dbt_project,
    name="dbt_foundation",
    select=FOUNDATION,
    exclude=DAILY_MODELS,
    pool=DUCKDB_POOL,
)
def dbt_foundation(
    context: dg.AssetExecutionContext, dbt: DbtCliResource, warehouse: WarehouseResource
):
    yield from build(context, dbt, warehouse, "dbt_foundation")


@dbt_assets(
    manifest=dbt_project.manifest_path,
    project=dbt_project,
    name="dbt_daily_spend",
    select=DAILY_MODELS,
    partitions_def=daily_partitions,
    backfill_policy=single_run_backfill,
    pool=DUCKDB_POOL,
)
def dbt_daily_spend(
    context: dg.AssetExecutionContext, dbt: DbtCliResource, warehouse: WarehouseResource
):
    yield from build(context, dbt, warehouse, "dbt_daily_spend", window_env(context))


@dbt_assets(
    manifest=dbt_project.manifest_path,
    project=dbt_project,
    name="dbt_outcomes",
    exclude=f"{FOUNDATION} {DAILY_MODELS}",
    pool=DUCKDB_POOL,
)
def dbt_outcomes(
    context: dg.AssetExecutionContext, dbt: DbtCliResource, warehouse: WarehouseResource
):
    yield from build(context, dbt, warehouse, "dbt_outcomes")


dbt_models = [dbt_foundation, dbt_daily_spend, dbt_outcomes]
