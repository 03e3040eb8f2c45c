"""The dbt project as Dagster assets, built by `dbt build` in three ops.

One op per stage, so that a blocking check holds back what is downstream of it: Dagster
skips the ops that depend on a failed check, but cannot stop the rest of an op's own
`dbt build` (dbt itself skips the models downstream of a failed dbt test).

    dbt_foundation   seeds, staging views, and the identity models the spend needs
    dbt_daily_spend  int_ai_spend, daily-partitioned: a run rebuilds its partition's days
    dbt_outcomes     everything else: intermediate models and the marts
"""

from collections.abc import Iterator
from functools import cache
from pathlib import Path

import dagster as dg
from dagster_dbt import DbtProject, dbt_assets
from dagster_dbt.asset_utils import get_manifest_and_translator_from_dbt_assets
from dagster_dbt.core.dbt_cli_event import DbtCoreCliEventMessage

from pipelines.envvars import temporary_env
from pipelines.orchestration.dbt.unrun_tests import expect_no_result
from pipelines.orchestration.partitions import daily_partitions, single_run_backfill, window_vars
from pipelines.orchestration.resources import DUCKDB_POOL, WarehouseResource
from pipelines.transform.changes import (
    WINDOW_VARS,
    BuildPlan,
    build_everything,
    in_graph_order,
    op_tests,
    plan_build,
    record_results,
    selection_names,
)
from pipelines.transform.dbt_runner import (
    DBT_PROJECT_DIR,
    FAILED,
    build_in_process,
    run_vars,
    window_env,
)

DAILY_MODELS = "int_ai_spend"
# What the daily models read: closed under ancestors, so no later op feeds an earlier one.
FOUNDATION = f"resource_type:seed path:models/staging +{DAILY_MODELS}"


@cache
def dbt_project() -> DbtProject:
    """The dbt project; its manifest must be prepared first (dbt_runner.prepare_manifest)."""
    return DbtProject(project_dir=DBT_PROJECT_DIR)


def build(
    context: dg.AssetExecutionContext,
    warehouse: WarehouseResource,
    op_name: str,
    dbt_vars: dict[str, str],
) -> Iterator:
    """`dbt build` of what changed in the op's selection, holding the warehouse's writer lock.

    The nodes to build are those whose inputs changed since they last succeeded
    (pipelines.transform.changes): the models new data reaches, and their tests. When nothing
    in the whole project changed, the op yields nothing: Dagster skips the later ops, the
    checks on the marts and the publication, and the run is done. When something did, the
    op's unchanged models are reported unrebuilt (metadata `rebuilt`: false, the data version
    they were built at), so that the later ops and the publication go on with them; its
    unchanged tests are not run, and Dagster is told not to warn of their missing results
    (unrun_tests).

    Tests run "buildable" (changes.op_tests): a test whose models span two ops (a
    relationship from an outcome model to an identity model) runs in the later op, once all
    of them are built. The window of days reaches dbt through the environment, not as vars:
    dbt parses the whole project again whenever its vars change, and only the file that
    reads a changed environment variable.
    """
    manifest, translator, project = get_manifest_and_translator_from_dbt_assets(
        [context.assets_def]
    )
    specs = {spec.key: spec for spec in context.assets_def.specs}
    models = {
        specs[key].metadata["dagster_dbt/unique_id"]: key for key in context.selected_asset_keys
    }
    holder = f"dagster run {context.run.run_id} ({op_name})"
    with warehouse.writer(holder):
        plan = _run_plan(context.run.run_id, warehouse, manifest, dbt_vars)
        if not plan.changed:
            context.log.info("Nothing changed since the last build: no dbt node to build.")
            return
        tests = op_tests(manifest, models)
        todo = plan.selected(models.keys() | tests)
        # Data tests are asset checks; unit tests are not (they live apart in the manifest).
        unrun = [manifest["nodes"][uid] for uid in tests - set(todo) if uid in manifest["nodes"]]
        expect_no_result(node["name"] for node in unrun)
        # Unchanged models come first: none of them is downstream of a changed one, and
        # Dagster takes a multi-asset's outputs in the order of its graph.
        for uid in in_graph_order(manifest, models.keys() - set(todo)):
            yield dg.Output(
                None,
                output_name=context.assets_def.get_output_name_for_asset_key(models[uid]),
                data_version=dg.DataVersion(plan.signatures[uid][:16]),
                metadata={"rebuilt": False},
            )
        if not todo:
            return
        outcome = yield from _run_dbt(
            context, manifest, translator, project, todo, dbt_vars, warehouse.target
        )
        if warehouse.is_duckdb:
            with warehouse.connect(read_only=False) as con:
                record_results(con, plan, outcome.statuses)
    if outcome.error:
        raise dg.Failure(description=f"dbt build failed: {outcome.error}")
    failed = sorted(uid for uid, status in outcome.statuses.items() if status in FAILED)
    if failed:
        raise dg.Failure(description="dbt nodes failed: " + ", ".join(failed))


_plans: dict[str, BuildPlan] = {}


def _run_plan(run_id: str, warehouse: WarehouseResource, manifest, dbt_vars) -> BuildPlan:
    """The run's build plan, made by its first dbt op: the raw tables, the clock and the code
    are the same for every op of a run, and reading every raw table once is enough."""
    if run_id not in _plans:
        if warehouse.is_duckdb:
            with warehouse.connect(read_only=True) as con:
                plan = plan_build(con, manifest, dbt_vars)
        else:  # the record of what was built is a DuckDB warehouse's: build everything
            plan = build_everything(manifest)
        _plans.clear()
        _plans[run_id] = plan
    return _plans[run_id]


def _run_dbt(context, manifest, translator, project, todo, dbt_vars, target) -> Iterator:
    """dbt build of exactly `todo`, in this process, its results as Dagster events (dagster-
    dbt's own translation of dbt's result events); returns dbt's outcome."""
    window = {k: v for k, v in dbt_vars.items() if k in WINDOW_VARS}
    others = {k: v for k, v in dbt_vars.items() if k not in WINDOW_VARS}
    with temporary_env(window_env(window)):
        outcome = build_in_process(selection_names(manifest, todo), others, target)
    for raw in outcome.result_events:
        event = DbtCoreCliEventMessage(raw_event=raw, event_history_metadata={})
        yield from event.to_default_asset_events(
            manifest=manifest, dagster_dbt_translator=translator, context=context, project=project
        )
    return outcome


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
        return {**run_vars(warehouse.target, seeds_dir, as_of), **window_vars(context)}

    @dbt_assets(
        manifest=project.manifest_path,
        project=project,
        name="dbt_foundation",
        select=FOUNDATION,
        exclude=DAILY_MODELS,
        pool=DUCKDB_POOL,
    )
    def dbt_foundation(context: dg.AssetExecutionContext, warehouse: WarehouseResource):
        yield from build(context, warehouse, "dbt_foundation", op_vars(context, warehouse))

    @dbt_assets(
        manifest=project.manifest_path,
        project=project,
        name="dbt_daily_spend",
        select=DAILY_MODELS,
        partitions_def=daily_partitions(partitions_start),
        backfill_policy=single_run_backfill,
        pool=DUCKDB_POOL,
    )
    def dbt_daily_spend(context: dg.AssetExecutionContext, warehouse: WarehouseResource):
        yield from build(context, warehouse, "dbt_daily_spend", op_vars(context, warehouse))

    @dbt_assets(
        manifest=project.manifest_path,
        project=project,
        name="dbt_outcomes",
        exclude=f"{FOUNDATION} {DAILY_MODELS}",
        pool=DUCKDB_POOL,
    )
    def dbt_outcomes(context: dg.AssetExecutionContext, warehouse: WarehouseResource):
        yield from build(context, warehouse, "dbt_outcomes", op_vars(context, warehouse))

    return dbt_foundation, dbt_daily_spend, dbt_outcomes
