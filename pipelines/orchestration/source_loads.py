"""The run fails when a source's latest load failed, naming the source.

A source step whose load fails for good does not fail (pipelines.orchestration.dlt.assets): the dbt
ops must still build the marts, on that source's last good data. So that the run still ends
failed, and the schedule's alerting sees it, this check reads mart_source_coverage, built in
the same run after the loads, and fails when any source is stale (its latest load attempt
failed). Blocking, so that a failed result fails its step and the run, and holds back the
publication (pipelines.orchestration.publication): readers keep the last good one.
"""

from __future__ import annotations

import dagster as dg

from pipelines.orchestration.resources import DUCKDB_POOL, WarehouseResource

COVERAGE_MART = dg.AssetKey(["marts", "mart_source_coverage"])


@dg.asset_check(
    asset=COVERAGE_MART,
    name="no_failed_source_loads",
    description="Fails when a source's latest load attempt failed: its figures are stale.",
    blocking=True,
    pool=DUCKDB_POOL,
)
def no_failed_source_loads(warehouse: WarehouseResource) -> dg.AssetCheckResult:
    with warehouse.connect(read_only=True) as con:
        stale = con.execute(
            "select source, last_successful_load_at, last_load_detail "
            "from marts.mart_source_coverage where is_stale order by source"
        ).fetchall()
    return dg.AssetCheckResult(
        passed=not stale,
        severity=dg.AssetCheckSeverity.ERROR,
        description=(
            "stale sources: " + "; ".join(_stale_line(*row) for row in stale)
            if stale
            else "every configured source's latest load succeeded"
        ),
        metadata={
            "stale_sources": dg.MetadataValue.json([source for source, _, _ in stale]),
            "failures": dg.MetadataValue.json({source: detail for source, _, detail in stale}),
        },
    )


def _stale_line(source: str, last_good, detail: str | None) -> str:
    since = f"last successful load {last_good:%Y-%m-%d %H:%M} UTC" if last_good else "never loaded"
    return f"{source} ({since}): {detail or 'no detail recorded'}"
