"""The daily schedule: the whole graph once a day, at a time of the organisation's day.

The tick fires at SCHEDULE_CRON in the organisation's time zone and requests the latest
complete UTC day's partition (partitions are UTC days, pipelines.orchestration.partitions): at 06:00
in Berlin that is yesterday, at 06:00 in Tokyo (21:00 UTC) the day before. The sources
without partitions load whatever changed since their last load in the same run.
"""

from __future__ import annotations

import os
from datetime import UTC, datetime, timedelta

import dagster as dg

from pipelines.orchestration.jobs import daily_warehouse_job
from pipelines.orchestration.partitions import org_timezone

SCHEDULE_CRON_ENV = "AOW_SCHEDULE_CRON"
DEFAULT_SCHEDULE_CRON = "0 6 * * *"


def last_complete_day(moment: datetime) -> str:
    """The partition key of the last UTC day wholly before `moment`."""
    return (moment.astimezone(UTC).date() - timedelta(days=1)).isoformat()


@dg.schedule(
    name="daily_warehouse_schedule",
    job=daily_warehouse_job,
    cron_schedule=os.environ.get(SCHEDULE_CRON_ENV) or DEFAULT_SCHEDULE_CRON,
    execution_timezone=org_timezone(),
    description="Load yesterday's (UTC) billing partition and every source's changes, "
    "then build and check the models.",
)
def daily_warehouse_schedule(context: dg.ScheduleEvaluationContext) -> dg.RunRequest:
    partition = last_complete_day(context.scheduled_execution_time)
    # run_key: a tick re-evaluated for the same day never starts a second run.
    return dg.RunRequest(run_key=partition, partition_key=partition)
