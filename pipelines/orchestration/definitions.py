"""The Dagster code location: assembles pipelines/orchestration, defines nothing itself."""

from __future__ import annotations

import dagster as dg

from pipelines.orchestration.dbt.assets import dbt_models, dbt_resource
from pipelines.orchestration.dlt.assets import source_assets
from pipelines.orchestration.freshness import freshness_checks_sensor, source_freshness_checks
from pipelines.orchestration.jobs import daily_warehouse_job
from pipelines.orchestration.quality.checks import build_gx_checks
from pipelines.orchestration.quality.quarantine import build_quarantine_checks
from pipelines.orchestration.resources import WarehouseResource
from pipelines.orchestration.schedules import daily_warehouse_schedule
from pipelines.orchestration.source_loads import no_failed_source_loads
from pipelines.sources import SOURCES

defs = dg.Definitions(
    assets=[*source_assets, *dbt_models],
    asset_checks=[
        *build_gx_checks(),
        *build_quarantine_checks(source_assets, SOURCES),
        *source_freshness_checks,
        no_failed_source_loads,
    ],
    jobs=[daily_warehouse_job],
    schedules=[daily_warehouse_schedule],
    sensors=[freshness_checks_sensor],
    resources={
        "dbt": dbt_resource,
        "warehouse": WarehouseResource(),
    },
)
