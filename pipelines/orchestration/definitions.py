"""The Dagster code location: assembles pipelines/orchestration, defines nothing itself.

Importing this module does no work. `dagster` calls `defs` as it loads the code location
(workspace.yaml, [tool.dagster] in pyproject.toml): it reads the settings once (a broken one
fails the load, named: pipelines.settings), prepares the dbt manifest, then builds the
definitions from the settings. Tests and the demo call `build_definitions` with settings of
their own.
"""

from __future__ import annotations

from functools import cache

import dagster as dg

from pipelines.orchestration.dbt.assets import dbt_models
from pipelines.orchestration.dbt.docs import dbt_docs_asset
from pipelines.orchestration.dlt.assets import source_assets
from pipelines.orchestration.freshness import build_freshness_checks
from pipelines.orchestration.jobs import daily_warehouse_job
from pipelines.orchestration.publication import build_publication
from pipelines.orchestration.quality.checks import build_gx_checks
from pipelines.orchestration.quality.quarantine import build_quarantine_checks
from pipelines.orchestration.resources import WarehouseResource
from pipelines.orchestration.schedules import daily_warehouse_schedule
from pipelines.orchestration.source_loads import no_failed_source_loads
from pipelines.settings import Settings, read_settings
from pipelines.sources import SOURCES
from pipelines.transform.dbt_runner import prepare_manifest


@cache
def build_definitions(settings: Settings) -> dg.Definitions:
    """Every asset, check, job, schedule, sensor and resource, as `settings` make them. The
    dbt manifest must be prepared (pipelines.transform.dbt_runner.prepare_manifest)."""
    sources = source_assets(settings.source_retry_delay, settings.partitions_start)
    freshness_checks, freshness_sensor = build_freshness_checks(sources)
    models = dbt_models(settings.partitions_start, settings.seeds_dir, settings.as_of)
    marts = [key for assets in models for key in assets.keys if key.path[0] == "marts"]
    # The docs page and the publication are files made from a DuckDB warehouse; a server's
    # readers read its marts schema (docs/warehouses.md).
    serving = (
        [
            dbt_docs_asset(models, settings.seeds_dir, settings.as_of),
            build_publication(marts, settings.publication_path, settings.as_of),
        ]
        if settings.server is None
        else []
    )
    return dg.Definitions(
        assets=[*sources, *models, *serving],
        asset_checks=[
            *build_gx_checks(),
            *build_quarantine_checks(sources, SOURCES, settings.quarantine_max_share),
            *freshness_checks,
            no_failed_source_loads,
        ],
        jobs=[daily_warehouse_job],
        schedules=[daily_warehouse_schedule(settings.schedule_cron, settings.timezone)],
        sensors=[freshness_sensor],
        resources={
            "warehouse": WarehouseResource(
                duckdb_path=str(settings.duckdb_path), engine=settings.engine
            ),
        },
    )


@dg.definitions
def defs() -> dg.Definitions:
    """The code location as `dagster` loads it, from the process environment's settings."""
    settings = read_settings()
    prepare_manifest()
    return build_definitions(settings)
