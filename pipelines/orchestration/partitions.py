"""Daily partitions and the organisation's time zone.

Partitions are UTC days: the vendors bucket usage and cost by UTC day and docs/metrics.md counts
days in UTC, so a partition is exactly one bucket of every billing report. The organisation's
time zone only decides when the schedule fires (pipelines.orchestration.schedules).
"""

from __future__ import annotations

import os
from datetime import UTC, datetime
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import dagster as dg

# The first day a backfill can load (YYYY-MM-DD). The billing APIs keep about a year.
PARTITIONS_START_ENV = "AOW_PARTITIONS_START"
DEFAULT_PARTITIONS_START = "2025-01-01"
# IANA name of the organisation's time zone, e.g. Europe/Berlin.
TIMEZONE_ENV = "AOW_TIMEZONE"
DEFAULT_TIMEZONE = "UTC"


def org_timezone() -> str:
    name = os.environ.get(TIMEZONE_ENV) or DEFAULT_TIMEZONE
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError(f"{TIMEZONE_ENV}={name!r} is not an IANA time zone name") from None
    return name


def partitions_start() -> str:
    value = os.environ.get(PARTITIONS_START_ENV) or DEFAULT_PARTITIONS_START
    try:
        datetime.strptime(value, "%Y-%m-%d")
    except ValueError:
        raise ValueError(f"{PARTITIONS_START_ENV}={value!r} is not a YYYY-MM-DD date") from None
    return value


daily_partitions = dg.DailyPartitionsDefinition(start_date=partitions_start(), timezone="UTC")

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


def window_env(context: dg.AssetExecutionContext) -> dict[str, str]:
    """The same window for the partitioned dbt models (int_ai_spend reads these variables)."""
    dates = window_dates(context)
    return {"AOW_PARTITION_START": dates["start_date"], "AOW_PARTITION_END": dates["end_date"]}


def _utc_date(moment: datetime) -> str:
    return moment.astimezone(UTC).date().isoformat()
