"""Running the whole daily job in a test: one run over a range of days, as a backfill makes."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

import dagster as dg
import pytest

from pipelines.orchestration.definitions import defs
from pipelines.orchestration.partitions import range_tags


def run_daily_job(
    env: Mapping[str, str], warehouse: Path, first_day: str, last_day: str
) -> dg.ExecuteInProcessResult:
    """`daily_warehouse_job` over first_day..last_day in this process, with `env` set and the
    warehouse at `warehouse`; a failed run is returned, not raised."""
    with pytest.MonkeyPatch.context() as mp:
        for key, value in {**env, "AOW_DUCKDB_PATH": str(warehouse)}.items():
            mp.setenv(key, value)
        return defs.resolve_job_def("daily_warehouse_job").execute_in_process(
            instance=dg.DagsterInstance.ephemeral(),
            tags=range_tags(first_day, last_day),
            raise_on_error=False,
        )
