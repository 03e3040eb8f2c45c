"""Stale sources: a freshness check per raw table, evaluated by each run and by a sensor.

A source that has not loaded for a day (its credentials expired, the schedule was turned
off, the vendor was down past every retry) shows as a failed (warning) check on each of its
tables in the UI, even when no run happens to include it.

A table's age is its data's, not its step's: a load that failed for good still reports its
tables (so the models rebuild on the last good data) with `dagster/last_updated_timestamp`
set to the last successful load. Dagster's `FreshnessPolicy` judges only the time of the
last materialization, so it would call a source whose token expired a week ago fresh; these
checks read the timestamp instead, with Dagster's current check and sensor APIs.
"""

import json
from collections.abc import Iterable, Iterator, Sequence
from datetime import UTC, datetime, timedelta

import dagster as dg

STALE_AFTER = timedelta(days=1)
CHECK_NAME = "freshness_check"
SENSOR_NAME = "freshness_checks_sensor"
LAST_UPDATED = "dagster/last_updated_timestamp"


def build_freshness_checks(
    source_assets: Sequence[dg.AssetsDefinition],
) -> tuple[list[dg.AssetChecksDefinition], dg.SensorDefinition]:
    """A freshness check per raw table and the sensor that evaluates them between runs."""
    keys = sorted({key for assets in source_assets for key in assets.keys})
    return [_checks(keys)], _sensor(keys)


def last_updated(event: dg.EventLogEntry | None) -> float | None:
    """When the table's data was last loaded, from its latest materialization `event`: the
    load's own timestamp when its step reported one (a failed load reports the last
    successful one), else the event's time; None when it never materialized."""
    if event is None or event.asset_materialization is None:
        return None
    reported = event.asset_materialization.metadata.get(LAST_UPDATED)
    return float(reported.value) if reported is not None else event.timestamp


def evaluate(
    instance: dg.DagsterInstance, keys: Iterable[dg.AssetKey], now: datetime
) -> Iterator[dg.AssetCheckEvaluation]:
    """Each table's freshness at `now`: it passes when its data is younger than STALE_AFTER."""
    keys = list(keys)
    # One query for every table's latest materialization, not one per table.
    latest = instance.get_latest_materialization_events(keys)
    for key in keys:
        updated = last_updated(latest.get(key))
        if updated is None:
            passed, description, metadata = False, "never loaded", {}
        else:
            age = now - datetime.fromtimestamp(updated, UTC)
            passed = age < STALE_AFTER
            description = f"last loaded {age} ago; stale after {STALE_AFTER}"
            metadata = {
                "last_updated_timestamp": dg.MetadataValue.timestamp(updated),
                "age_hours": dg.MetadataValue.float(round(age.total_seconds() / 3600, 2)),
            }
        yield dg.AssetCheckEvaluation(
            asset_key=key,
            check_name=CHECK_NAME,
            passed=passed,
            metadata=metadata,
            severity=dg.AssetCheckSeverity.WARN,
            description=description,
        )


def _checks(keys: list[dg.AssetKey]) -> dg.AssetChecksDefinition:
    @dg.multi_asset_check(
        name="raw_table_freshness",
        specs=[
            dg.AssetCheckSpec(
                CHECK_NAME,
                asset=key,
                description=f"Warns when the table's data is older than {STALE_AFTER}.",
            )
            for key in keys
        ],
        can_subset=True,
    )
    def _freshness(context: dg.AssetCheckExecutionContext) -> Iterator[dg.AssetCheckResult]:
        selected = [key.asset_key for key in sorted(context.selected_asset_check_keys)]
        for evaluation in evaluate(context.instance, selected, datetime.now(UTC)):
            yield dg.AssetCheckResult(
                asset_key=evaluation.asset_key,
                check_name=evaluation.check_name,
                passed=evaluation.passed,
                metadata=evaluation.metadata,
                severity=evaluation.severity,
                description=evaluation.description,
            )

    return _freshness


def _sensor(keys: list[dg.AssetKey]) -> dg.SensorDefinition:
    """Reports each check's result without launching a run (it only reads the instance's
    records, so it runs from the start), and only when a table's state changed since its
    last report: the check's history shows when a source went stale and came back."""

    @dg.sensor(
        name=SENSOR_NAME,
        minimum_interval_seconds=15 * 60,
        default_status=dg.DefaultSensorStatus.RUNNING,
        description=f"Fails a raw table's freshness check once its data is {STALE_AFTER} old.",
    )
    def _freshness_sensor(context: dg.SensorEvaluationContext) -> dg.SensorResult:
        reported: dict[str, bool] = json.loads(context.cursor) if context.cursor else {}
        changed = [
            evaluation
            for evaluation in evaluate(context.instance, keys, datetime.now(UTC))
            if reported.get(evaluation.asset_key.to_user_string()) != evaluation.passed
        ]
        for evaluation in changed:
            reported[evaluation.asset_key.to_user_string()] = evaluation.passed
        return dg.SensorResult(asset_events=changed, cursor=json.dumps(reported, sort_keys=True))

    return _freshness_sensor
