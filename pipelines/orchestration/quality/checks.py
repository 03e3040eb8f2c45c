"""Great Expectations suites (expectations/*.json) as blocking Dagster asset checks.

One check per suite file, on the asset named in its meta.aow.asset_key. Blocking: a failed
suite fails its step (and so the run), and assets downstream of the checked one are not
materialized in that run. Dagster can only hold back other ops, which is why the dbt project
runs as three ops (pipelines.orchestration.dbt.assets): a failed suite on a raw table or a staging
model stops the ops that build the marts.

Each check validates on a read-only connection, then appends its result to the warehouse's
history table (pipelines.quality.history) under the writer lock, on a writable connection
closed before the lock is released.
"""

import dagster as dg

from pipelines.orchestration.resources import DUCKDB_POOL, WarehouseResource
from pipelines.quality.gx_suites import Suite, load_suites, run_suite
from pipelines.quality.history import write_results


def gx_check_name(suite: Suite) -> str:
    return f"gx_{suite.name}"


def build_gx_check(suite: Suite) -> dg.AssetChecksDefinition:
    @dg.asset_check(
        asset=dg.AssetKey(list(suite.asset_key)),
        name=gx_check_name(suite),
        description=f"Great Expectations suite {suite.path.name} on {suite.relation}.",
        blocking=True,
        pool=DUCKDB_POOL,
        metadata={"suite_file": str(suite.path.name)},
    )
    def _check(
        context: dg.AssetCheckExecutionContext, warehouse: WarehouseResource
    ) -> dg.AssetCheckResult:
        with warehouse.connect(read_only=True) as con:
            result = run_suite(con, suite)
        with (
            warehouse.writer(f"dagster run {context.run.run_id}"),
            warehouse.connect(read_only=False) as con,
        ):
            write_results(con, context.run.run_id, [result])
        return dg.AssetCheckResult(
            passed=result.success,
            severity=dg.AssetCheckSeverity.ERROR,
            metadata={
                "failed_expectations": dg.MetadataValue.json(result.failed_labels),
                # Per expectation: kwargs, unexpected counts and up to 5 failing rows (by id).
                "failures": dg.MetadataValue.json(result.to_dict()["failed"]),
                "evaluated_expectations": result.evaluated,
                "rows_validated": result.rows_validated,
                "rows_truncated": result.truncated,
                **({"note": result.note} if result.note else {}),
            },
        )

    return _check


def build_gx_checks() -> list[dg.AssetChecksDefinition]:
    return [build_gx_check(suite) for suite in load_suites()]
