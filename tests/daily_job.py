"""The Dagster definitions in a test, and the whole daily job run over a range of days, as a
backfill makes."""

from __future__ import annotations

import io
from collections.abc import Mapping
from dataclasses import replace
from pathlib import Path

import dagster as dg
import pytest

from org_simulator.seeds import simulated_org_settings
from pipelines.orchestration.definitions import build_definitions
from pipelines.orchestration.dlt.assets import build_source_assets, source_retry_policy
from pipelines.orchestration.partitions import daily_partitions, range_tags
from pipelines.orchestration.run_progress import execute_with_progress
from pipelines.progress import Console
from pipelines.settings import Settings
from pipelines.sources import SOURCES

# A failed source step is retried after a second, not a minute: a test that fails, fails fast.
TEST_SETTINGS = Settings(source_retry_delay=1)


def org_settings(store: Path, warehouse: Path) -> Settings:
    """The test settings for the simulated organisation of `store` (its seeds and clock),
    its warehouse at `warehouse`."""
    org = simulated_org_settings(store)
    return replace(TEST_SETTINGS, seeds_dir=org.seeds_dir, as_of=org.as_of, duckdb_path=warehouse)


def source_step(source: str, retry_policy: dg.RetryPolicy | None = None) -> dg.AssetsDefinition:
    """One source's multi-asset, as the test settings make it, with `retry_policy` instead of
    theirs if given."""
    return build_source_assets(
        SOURCES[source],
        retry_policy or source_retry_policy(TEST_SETTINGS.source_retry_delay),
        daily_partitions(TEST_SETTINGS.partitions_start),
    )


def run_daily_job(
    settings: Settings,
    sources_env: Mapping[str, str],
    first_day: str,
    last_day: str,
    console: Console | None = None,
) -> dg.ExecuteInProcessResult:
    """`daily_warehouse_job` over first_day..last_day in this process, on the definitions
    `settings` make, with the sources' settings `sources_env` in the environment (as dlt
    reads them), its progress on `console` as the demo prints it (by default, nowhere); a
    failed run is returned, not raised."""
    job = build_definitions(settings).resolve_job_def("daily_warehouse_job")
    console = console or Console(io.StringIO(), io.StringIO(), tty=False)
    with pytest.MonkeyPatch.context() as mp:
        for key, value in sources_env.items():
            mp.setenv(key, value)
        return execute_with_progress(
            job,
            console,
            instance=dg.DagsterInstance.ephemeral(),
            tags=range_tags(first_day, last_day),
            raise_on_error=False,
        )
