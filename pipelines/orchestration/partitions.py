"""Daily partitions, and the windows of days a run loads and builds.

Partitions are UTC days: the vendors bucket usage and cost by UTC day and docs/metrics.md counts
days in UTC, so a partition is exactly one bucket of every billing report. The organisation's
time zone only decides when the schedule fires (pipelines.orchestration.schedules).
"""

from __future__ import annotations

from datetime import UTC, datetime
from functools import cache

import dagster as dg


@cache
def daily_partitions(start: str) -> dg.DailyPartitionsDefinition:
    """UTC days from `start` (YYYY-MM-DD: the setting AOW_PARTITIONS_START)."""
    return dg.DailyPartitionsDefinition(start_date=start, timezone="UTC")


# A backfill of many days runs as one run over the whole range: one load reads the range's
# buckets page by page, one dbt build processes it, instead of one run per day.
single_run_backfill = dg.BackfillPolicy.single_run()


def range_tags(first: str, last: str) -> dict[str, str]:
    """Tags of one run over the partitions first..last (inclusive), as a backfill makes."""
    return {
        "dagster/asset_partition_range_start": first,
        "dagster/asset_partition_range_end": last,
    }


def window_dates(context: dg.AssetExecutionContext) -> dict[str, str]:
    """The run's partition or partition range as the factory arguments start_date and
    end_date (UTC dates, end exclusive)."""
    window = context.partition_time_window
    return {"start_date": _utc_date(window.start), "end_date": _utc_date(window.end)}


def window_vars(context: dg.AssetExecutionContext) -> dict[str, str]:
    """The run's window of days as the dbt vars the partitioned models read (int_ai_spend);
    none for a run without partitions. Any step of a partitioned run has the window, the
    steps of unpartitioned assets too."""
    if not (context.has_partition_key or context.has_partition_key_range):
        return {}
    dates = window_dates(context)
    return {"partition_start": dates["start_date"], "partition_end": dates["end_date"]}


def _utc_date(moment: datetime) -> str:
    return moment.astimezone(UTC).date().isoformat()
