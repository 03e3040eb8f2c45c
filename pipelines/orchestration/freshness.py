"""Stale sources: a freshness check per raw table and a sensor that evaluates them.

A source that has not loaded for a day (its credentials expired, the schedule was turned
off, the vendor was down past every retry) shows as a failed (warning) check on each of its
tables in the UI, even when no run happens to include it. The daily run evaluates the checks
too, right after its loads.

Dagster marks these factories superseded by FreshnessPolicy, which only its freshness daemon
evaluates: checks can be run by any run, sensor or test, and keep their history per asset.
"""

from __future__ import annotations

import warnings
from datetime import timedelta

import dagster as dg

from pipelines.orchestration.dlt.assets import source_assets

STALE_AFTER = timedelta(days=1)

with warnings.catch_warnings():
    warnings.simplefilter("ignore", dg.SupersessionWarning)
    source_freshness_checks = dg.build_last_update_freshness_checks(
        assets=source_assets, lower_bound_delta=STALE_AFTER
    )
    # Running from the start: it only reads the instance's records, it never calls a vendor.
    freshness_checks_sensor = dg.build_sensor_for_freshness_checks(
        freshness_checks=source_freshness_checks,
        minimum_interval_seconds=15 * 60,
        name="freshness_checks_sensor",
        default_status=dg.DefaultSensorStatus.RUNNING,
    )
