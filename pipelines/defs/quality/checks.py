"""Great Expectations suites (expectations/*.json) as blocking Dagster asset checks.

One check per suite file, on the asset named in its meta.aow.asset_key. Blocking: a failed
suite fails its step (and so the run), and assets downstream of the checked one are not
materialized in that run. Dagster can only hold back other ops: models built by the same
`dbt build` op as the checked model are not held back, so marts that must wait on a
staging suite belong in a separate @dbt_assets op (select/exclude by layer).
"""

import dagster as dg

from pipelines.defs.resources import DUCKDB_POOL, WarehouseResource
from pipelines.quality.gx_suites import Suite, load_suite, run_suite, suite_paths


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
    def _check(warehouse: WarehouseResource) -> dg.AssetCheckResult:
        with warehouse.connect(read_only=True) as con:
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
            },
        )

    return _check


def build_gx_checks() -> list[dg.AssetChecksDefinition]:
    return [build_gx_check(load_suite(path)) for path in suite_paths()]
