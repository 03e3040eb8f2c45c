"""The Dagster code location: assembles pipelines/defs, defines nothing itself."""

from __future__ import annotations

import dagster as dg

from pipelines.defs.dbt.assets import dbt_models, dbt_resource
from pipelines.defs.dlt.assets import source_assets
from pipelines.defs.freshness import freshness_checks_sensor, source_freshness_checks
from pipelines.defs.jobs import daily_warehouse_job
from pipelines.defs.quality.checks import build_gx_checks
from pipelines.defs.quality.quarantine import build_quarantine_checks
from pipelines.defs.resources import WarehouseResource
from pipelines.defs.schedules import daily_warehouse_schedule
from pipelines.defs.source_loads import no_failed_source_loads
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
