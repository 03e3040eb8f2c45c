"""Great Expectations suites (expectations/*.json) as blocking Dagster asset checks.

One check per suite file, on the asset named in its meta.aow.asset_key. Blocking: a failed
suite fails its step (and so the run), and assets downstream of the checked one are not
materialized in that run. Dagster can only hold back other ops, which is why the dbt project
runs as three ops (pipelines.orchestration.dbt.assets): a failed suite on a raw table or a staging
model stops the ops that build the marts.

Each check holds the warehouse's writer lock and one writable connection (closed before the
lock is released) to validate and to append its result to the history table
(pipelines.quality.history): opening the file costs more than most validations. A suite whose
inputs are unchanged since its last validation, which passed, is not validated again
(pipelines.quality.unchanged): its check passes with a note saying so and naming that run.
The history, and so that shortcut, is kept in a DuckDB warehouse; on a server engine
(pipelines.warehouse.engines) every check validates its suite, and Dagster keeps the result.
"""

import dagster as dg

from pipelines.orchestration.resources import DUCKDB_POOL, WarehouseResource
from pipelines.quality.gx_suites import Suite, load_suites, run_suite
from pipelines.quality.history import write_results
from pipelines.quality.unchanged import check_suite


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
        with (
            warehouse.writer(f"dagster run {context.run.run_id}"),
            warehouse.connect(read_only=False) as con,
        ):
            if warehouse.is_duckdb:
                result = check_suite(con, suite)
                write_results(con, context.run.run_id, [result])
            else:
                result = run_suite(con, suite)
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
                # Set when the inputs were unchanged: the run whose validation this repeats.
                **({"validated_in_run": result.validated_in} if result.validated_in else {}),
            },
        )

    return _check


def build_gx_checks() -> list[dg.AssetChecksDefinition]:
    return [build_gx_check(suite) for suite in load_suites()]
