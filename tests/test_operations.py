"""Operating the graph: the writer lock, step retries, freshness of sources, the schedule's day."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import dagster as dg
import duckdb
import pytest
from dagster._core.test_utils import freeze_time

from org_simulator.faults import Fault
from org_simulator.server import SimulatorServer
from org_simulator.sources_env import simulator_sources_env
from pipelines.ingest.loads import run_load
from pipelines.orchestration.definitions import build_definitions
from pipelines.orchestration.dlt.assets import source_assets, source_retry_policy
from pipelines.orchestration.freshness import build_freshness_checks
from pipelines.orchestration.resources import WarehouseResource
from pipelines.orchestration.schedules import last_complete_day
from pipelines.settings import read_settings
from pipelines.sources import SOURCES
from pipelines.sources.http_session import RetryPolicy
from pipelines.warehouse.lock import WarehouseBusy, writer_lock
from tests.daily_job import TEST_SETTINGS, source_step

INCIDENTS = dg.AssetKey(["raw_pagerduty", "incidents"])
SOURCE_ASSETS = source_assets(TEST_SETTINGS.source_retry_delay, TEST_SETTINGS.partitions_start)
FRESHNESS_CHECKS, FRESHNESS_SENSOR = build_freshness_checks(SOURCE_ASSETS)
# One attempt per request, so a single 503 fails the load and only Dagster's retry helps.
NO_HTTP_RETRY = RetryPolicy(max_attempts=1, backoff_base=0.01, backoff_cap=0.05)


def _count(path: Path, sql: str) -> int:
    with duckdb.connect(str(path), read_only=True) as con:
        return con.execute(sql).fetchone()[0]


def _vendor_env(mp: pytest.MonkeyPatch, sim: SimulatorServer) -> None:
    for key, value in simulator_sources_env(sim).items():
        mp.setenv(key, value)


# --- one writer per warehouse ------------------------------------------------------------------


@pytest.fixture
def other_writer(tmp_path: Path):
    """Another process holding the warehouse's writer lock, as a second run would."""
    warehouse = tmp_path / "warehouse.duckdb"
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            textwrap.dedent(f"""
                import sys, time
                from pipelines.warehouse.lock import writer_lock
                with writer_lock({str(warehouse)!r}, "nightly cron"):
                    print("held", flush=True)
                    time.sleep(600)
            """),
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    assert holder.stdout.readline().strip() == "held"
    yield warehouse, holder
    holder.kill()
    holder.wait()


def test_second_writer_gets_a_clear_error(other_writer, simulator, monkeypatch):
    warehouse, holder = other_writer
    _vendor_env(monkeypatch, simulator)
    with pytest.raises(WarehouseBusy) as excinfo:
        run_load("pagerduty", warehouse)
    message = str(excinfo.value)
    assert "nightly cron" in message and f"pid {holder.pid}" in message
    assert "one writer" in message and "AOW_DUCKDB_PATH" in message
    assert simulator.stats()["total"] == 0  # it stopped before calling the vendor
    assert not warehouse.exists()

    holder.kill()  # the kernel releases the lock with the process: no stale lock
    holder.wait()
    assert run_load("pagerduty", warehouse)["incidents"] > 0


def test_dagster_step_reports_the_busy_warehouse(other_writer, simulator, monkeypatch):
    warehouse, _holder = other_writer
    _vendor_env(monkeypatch, simulator)
    # (The daily job's policy retries a busy warehouse after a minute: the other run may end.)
    no_retry = dg.RetryPolicy(max_retries=0)
    result = dg.materialize(
        [source_step("pagerduty", no_retry)],
        resources={"warehouse": WarehouseResource(duckdb_path=str(warehouse))},
        instance=dg.DagsterInstance.ephemeral(),
        raise_on_error=False,
    )
    assert not result.success
    (failure,) = [e for e in result.all_events if e.event_type_value == "STEP_FAILURE"]
    error = failure.event_specific_data.error
    messages = []
    while error is not None:
        messages.append(error.message)
        error = error.cause
    assert any("WarehouseBusy" in m and "nightly cron" in m for m in messages), messages


def test_lock_is_not_reentrant_and_is_released_on_exit(tmp_path: Path):
    warehouse = tmp_path / "w.duckdb"
    with (
        writer_lock(warehouse, "first"),
        pytest.raises(WarehouseBusy, match="first"),
        writer_lock(warehouse, "second"),
    ):
        pass
    with writer_lock(warehouse, "third"):
        pass


# --- retries with backoff on source assets ----------------------------------------------------


def test_source_assets_retry_with_exponential_backoff():
    job = build_definitions(TEST_SETTINGS).resolve_job_def("daily_warehouse_job")
    for spec in SOURCES.values():
        policy = job.graph.node_named(spec.name).definition.retry_policy
        assert policy.max_retries >= 3 and policy.delay > 0, spec.name
        assert policy.backoff == dg.Backoff.EXPONENTIAL and policy.jitter is not None


def test_failed_load_step_is_retried_and_succeeds(
    simulator, tmp_path: Path, monkeypatch, tiny_store: Path
):
    warehouse = tmp_path / "warehouse.duckdb"
    _vendor_env(monkeypatch, simulator)
    monkeypatch.setattr("pipelines.sources.http_session.DEFAULT_POLICY", NO_HTTP_RETRY)
    simulator.inject(Fault("server_error", vendor="pagerduty", times=1))
    assets = source_step("pagerduty", dg.RetryPolicy(max_retries=2, delay=0))
    result = dg.materialize(
        [assets],
        resources={"warehouse": WarehouseResource(duckdb_path=str(warehouse))},
        instance=dg.DagsterInstance.ephemeral(),
        raise_on_error=False,
    )
    kinds = [e.event_type_value for e in result.all_events]
    assert "STEP_UP_FOR_RETRY" in kinds and "STEP_RESTARTED" in kinds
    assert result.success
    expected = _count(tiny_store, "select count(*) from pd_incidents")
    assert _count(warehouse, "select count(*) from raw_pagerduty.incidents") == expected > 0
    (event,) = [e for e in result.get_asset_materialization_events() if e.asset_key == INCIDENTS]
    assert event.materialization.metadata["rows_loaded"].value == expected


def test_a_source_that_is_not_configured_succeeds_without_loading(tmp_path: Path, monkeypatch):
    """An organisation without PagerDuty: the step loads nothing, fails nothing, is not
    retried, and every table says why; the warehouse records it for the coverage models."""
    warehouse = tmp_path / "warehouse.duckdb"
    monkeypatch.chdir(tmp_path)  # no .dlt/ configuration here
    for key in [k for k in os.environ if k.startswith("SOURCES__")]:
        monkeypatch.delenv(key)
    assets = source_step("pagerduty")
    result = dg.materialize(
        [assets],
        resources={"warehouse": WarehouseResource(duckdb_path=str(warehouse))},
        instance=dg.DagsterInstance.ephemeral(),
    )
    assert result.success
    assert "STEP_UP_FOR_RETRY" not in [e.event_type_value for e in result.all_events]
    events = {e.asset_key: e for e in result.get_asset_materialization_events()}
    assert set(events) == set(assets.keys)
    metadata = events[INCIDENTS].materialization.metadata
    assert metadata["source_status"].value == "not configured"
    assert "SOURCES__PAGERDUTY__API_KEY" in metadata["reason"].value
    assert metadata["rows_loaded"].value == 0
    with duckdb.connect(str(warehouse), read_only=True) as con:
        assert con.execute("select source, status from ops.source_loads").fetchall() == [
            ("pagerduty", "not_configured")
        ]
        raw = con.execute(
            "select count(*) from information_schema.tables where table_schema = 'raw_pagerduty'"
        ).fetchone()[0]
    assert raw == 0


def test_retry_delay_is_configurable():
    settings = read_settings({"AOW_SOURCE_RETRY_DELAY": "5"})
    assert source_retry_policy(settings.source_retry_delay).delay == 5


# --- freshness of sources -----------------------------------------------------------------------


def _freshness(instance: dg.DagsterInstance) -> dict[dg.AssetCheckKey, bool]:
    result = dg.materialize(
        [*FRESHNESS_CHECKS],
        selection=dg.AssetSelection.checks_for_assets(INCIDENTS),
        instance=instance,
        raise_on_error=False,
    )
    return {e.asset_check_key: e.passed for e in result.get_asset_check_evaluations()}


def _loaded(instance: dg.DagsterInstance, metadata: dict | None = None) -> None:
    instance.report_runless_asset_event(dg.AssetMaterialization(INCIDENTS, metadata=metadata))


def test_source_not_loaded_for_a_day_is_flagged():
    fresh, stale = dg.DagsterInstance.ephemeral(), dg.DagsterInstance.ephemeral()
    _loaded(fresh)
    with freeze_time(datetime.now(UTC) - timedelta(hours=25)):
        _loaded(stale)
    assert list(_freshness(fresh).values()) == [True]
    assert list(_freshness(stale).values()) == [False]


def test_a_failed_load_is_judged_by_its_last_good_data_not_by_its_step():
    """A failed load still reports its tables, with the last successful load's time."""
    now = datetime.now(UTC)
    for age, passed in [(timedelta(hours=23), True), (timedelta(hours=25), False)]:
        instance = dg.DagsterInstance.ephemeral()
        last_good = dg.MetadataValue.timestamp((now - age).timestamp())
        _loaded(instance, {"dagster/last_updated_timestamp": last_good})
        assert list(_freshness(instance).values()) == [passed]


def test_never_loaded_source_is_flagged():
    assert list(_freshness(dg.DagsterInstance.ephemeral()).values()) == [False]


def _tick(instance: dg.DagsterInstance, cursor: str | None) -> dg.SensorResult:
    context = dg.build_sensor_context(instance=instance, cursor=cursor)
    return FRESHNESS_SENSOR.evaluate_tick(context)


def test_the_sensor_reports_a_table_going_stale_and_coming_back_without_a_run():
    instance = dg.DagsterInstance.ephemeral()
    with freeze_time(datetime.now(UTC) - timedelta(hours=25)):
        _loaded(instance)
    first = _tick(instance, None)
    states = {e.asset_key: e.passed for e in first.asset_events}
    assert states[INCIDENTS] is False
    assert len(states) == len({key for assets in SOURCE_ASSETS for key in assets.keys})
    assert not first.run_requests  # reported from the sensor, no run launched
    # Nothing changed: nothing reported again.
    assert _tick(instance, first.cursor).asset_events == []
    _loaded(instance)
    back = _tick(instance, first.cursor).asset_events
    assert [(e.asset_key, e.check_name, e.passed) for e in back] == [
        (INCIDENTS, "freshness_check", True)
    ]


def test_every_raw_table_has_a_freshness_check_and_the_sensor_watches_them():
    raw = {key for assets in SOURCE_ASSETS for key in assets.keys}
    checked = {key.asset_key for checks in FRESHNESS_CHECKS for key in checks.check_keys}
    assert checked == raw
    sensor = build_definitions(TEST_SETTINGS).resolve_sensor_def("freshness_checks_sensor")
    assert sensor.name == FRESHNESS_SENSOR.name
    assert sensor.default_status == dg.DefaultSensorStatus.RUNNING


# --- the schedule's day --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("tick", "zone", "day"),
    [
        (datetime(2026, 11, 2, 6, 0), "Europe/Berlin", "2026-11-01"),  # 05:00 UTC
        (datetime(2026, 11, 2, 6, 0), "Asia/Tokyo", "2026-10-31"),  # 21:00 UTC the day before
        (datetime(2026, 11, 2, 6, 0), "America/Los_Angeles", "2026-11-01"),  # 14:00 UTC
        (datetime(2026, 11, 2, 0, 0), "UTC", "2026-11-01"),
    ],
)
def test_last_complete_day_is_the_utc_day_before_the_tick(tick, zone, day):
    assert last_complete_day(tick.replace(tzinfo=ZoneInfo(zone))) == day


def test_schedule_fires_daily_in_the_organisation_time_zone():
    defs = build_definitions(read_settings({}))  # no setting set
    schedule = defs.resolve_schedule_def("daily_warehouse_schedule")
    assert schedule.cron_schedule == "0 6 * * *"
    assert schedule.execution_timezone == "UTC"
    assert schedule.job_name == "daily_warehouse_job"
    berlin = build_definitions(read_settings({"AOW_TIMEZONE": "Europe/Berlin"}))
    assert berlin.resolve_schedule_def(schedule.name).execution_timezone == "Europe/Berlin"
