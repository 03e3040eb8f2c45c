"""The Dagster code location: assembles pipelines/defs, defines nothing itself."""

from __future__ import annotations

import dagster as dg

from pipelines.defs.dbt.assets import dbt_models, dbt_resource
from pipelines.defs.dlt.assets import source_assets
from pipelines.defs.jobs import daily_warehouse_job
from pipelines.defs.quality.checks import build_gx_checks
from pipelines.defs.resources import WarehouseResource

defs = dg.Definitions(
    assets=[*source_assets, dbt_models],
    asset_checks=build_gx_checks(),
    jobs=[daily_warehouse_job],
    resources={
        "dbt": dbt_resource,
        "warehouse": WarehouseResource(),
    },
)
