"""Jobs."""

from __future__ import annotations

import dagster as dg

# Everything: loads, then the dbt stages, with the asset checks, for one UTC day's partition
# (or a range of them: a backfill is one run). In-process, one step at a time: DuckDB takes a
# single writer, so no two steps may overlap.
daily_warehouse_job = dg.define_asset_job(
    name="daily_warehouse_job",
    selection=dg.AssetSelection.all(),
    executor_def=dg.in_process_executor,
    description="Load every vendor source, build the dbt models and run the quality checks.",
)
