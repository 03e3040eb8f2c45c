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
from collections.abc import Sequence
from datetime import timedelta

import dagster as dg

STALE_AFTER = timedelta(days=1)


def build_freshness_checks(
    source_assets: Sequence[dg.AssetsDefinition],
) -> tuple[list[dg.AssetChecksDefinition], dg.SensorDefinition]:
    """A freshness check per raw table and the sensor that evaluates them."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", dg.SupersessionWarning)
        checks = dg.build_last_update_freshness_checks(
            assets=list(source_assets), lower_bound_delta=STALE_AFTER
        )
        # Running from the start: it only reads the instance's records, it never calls a vendor.
        sensor = dg.build_sensor_for_freshness_checks(
            freshness_checks=checks,
            minimum_interval_seconds=15 * 60,
            name="freshness_checks_sensor",
            default_status=dg.DefaultSensorStatus.RUNNING,
        )
    return list(checks), sensor
