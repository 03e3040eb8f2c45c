"""The daily schedule: the whole graph once a day, at a time of the organisation's day.

The tick fires at AOW_SCHEDULE_CRON in the organisation's time zone (AOW_TIMEZONE) and
requests the latest complete UTC day's partition (partitions are UTC days,
pipelines.orchestration.partitions): at 06:00 in Berlin that is yesterday, at 06:00 in Tokyo
(21:00 UTC) the day before. The sources without partitions load whatever changed since their
last load in the same run.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from functools import cache

import dagster as dg

from pipelines.orchestration.jobs import daily_warehouse_job


def last_complete_day(moment: datetime) -> str:
    """The partition key of the last UTC day wholly before `moment`."""
    return (moment.astimezone(UTC).date() - timedelta(days=1)).isoformat()


@cache
def daily_warehouse_schedule(cron: str, timezone: str) -> dg.ScheduleDefinition:
    """The schedule firing at `cron` in `timezone` (an IANA name)."""

    @dg.schedule(
        name="daily_warehouse_schedule",
        job=daily_warehouse_job,
        cron_schedule=cron,
        execution_timezone=timezone,
        description="Load yesterday's (UTC) billing partition and every source's changes, "
        "then build and check the models.",
    )
    def _schedule(context: dg.ScheduleEvaluationContext) -> dg.RunRequest:
        partition = last_complete_day(context.scheduled_execution_time)
        # run_key: a tick re-evaluated for the same day never starts a second run.
        return dg.RunRequest(run_key=partition, partition_key=partition)

    return _schedule
