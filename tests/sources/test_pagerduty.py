"""The PagerDuty loader against the simulated tiny organisation.

The loader reads every window up to `utc_now()`; tests pin it to the day after the store's
as-of, so the windows (and so the request counts) do not depend on the day the tests run.
"""

from __future__ import annotations

import json
import logging
import math
import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import duckdb
import pytest

from org_simulator.credentials import SIM_CREDENTIALS
from org_simulator.faults import Fault
from org_simulator.server import SimulatorServer
from pipelines.ingest.loads import run_load
from pipelines.sources import pagerduty
from pipelines.sources.failures import LoadFailed
from pipelines.sources.http_session import RetryPolicy
from tests.sources.conftest import Loader, make_loader

PINNED_NOW = datetime(2026, 11, 2, tzinfo=UTC)
# Midnight on 12 September: two incidents are acknowledged but not resolved yet (a payments
# release that paged, then errors its rollback did not cure), and thirteen more follow
# before the as-of.
EARLIER = datetime(2026, 9, 12)
START_DATE = "SOURCES__PAGERDUTY__START_DATE"
TABLES = ("services", "users", "incident_log_entries", "incidents")


@pytest.fixture(autouse=True)
def pinned(monkeypatch: pytest.MonkeyPatch) -> None:
    """Windows end at PINNED_NOW (START_DATE is the store's first day: simulator_sources_env)."""
    monkeypatch.setattr(pagerduty, "utc_now", lambda: PINNED_NOW)


@dataclass
class FullLoad:
    loader: Loader
    backfill: dict[str, int]  # requests per route of the first run
    rerun: dict[str, int]  # requests per route of an immediate second run
    counts_before_rerun: dict[str, int]


@pytest.fixture(scope="module")
def full(tiny_store: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[FullLoad]:
    """One backfill of the whole history, then a second run with nothing new."""
    with pytest.MonkeyPatch.context() as mp, SimulatorServer(tiny_store) as sim:
        mp.setattr(pagerduty, "utc_now", lambda: PINNED_NOW)
        loader = make_loader(sim, tiny_store, tmp_path_factory.mktemp("pd") / "w.duckdb", mp)
        loader.load("pagerduty")
        backfill = sim.stats()["by_route"]
        before = table_counts(loader)
        sim.reset_stats()
        loader.load("pagerduty")
        yield FullLoad(loader, backfill, sim.stats()["by_route"], before)


# --- expectations from the store ------------------------------------------------------------


def table_counts(loader: Loader) -> dict[str, int]:
    return {t: loader.scalar(f"select count(*) from raw_pagerduty.{t}") for t in TABLES}


def naive(value: Any) -> Any:
    """Warehouse timestamps are aware UTC; the store's are naive UTC."""
    if isinstance(value, datetime) and value.tzinfo is not None:
        return value.astimezone(UTC).replace(tzinfo=None)
    return value


def expected_incidents(loader: Loader, now: datetime) -> list[tuple]:
    return loader.store_rows(
        """
        select id, incident_number, title, coalesce(description, title),
            case when resolved_at <= $now then 'resolved'
                 when acknowledged_at <= $now then 'acknowledged' else 'triggered' end,
            urgency, priority, service_id, incident_key, created_at,
            case when resolved_at <= $now then resolved_at end
        from pd_incidents where created_at <= $now order by id
        """.replace("$now", f"timestamp '{now.isoformat()}'")
    )


def loaded_incidents(loader: Loader) -> list[tuple]:
    rows = loader.rows(
        """
        select id, incident_number, title, description, status, urgency, priority,
            service_id, incident_key, created_at, resolved_at
        from raw_pagerduty.incidents order by id
        """
    )
    return [tuple(naive(v) for v in row) for row in rows]


def expected_log_entries(loader: Loader, now: datetime, since: str = "1970-01-01") -> list[tuple]:
    return loader.store_rows(
        f"""
        select e.id, e.incident_id, e.type, e.created_at, e.agent_type, e.agent_id, e.summary,
            case when e.type = 'annotate_log_entry' then coalesce(e.note, e.summary) end
        from pd_log_entries e join pd_incidents i on i.id = e.incident_id
        where e.created_at <= timestamp '{now.isoformat()}'
            and i.created_at <= timestamp '{now.isoformat()}'
            and e.created_at >= timestamp '{since}'
        order by e.id
        """
    )


def loaded_log_entries(loader: Loader) -> list[tuple]:
    rows = loader.rows(
        """
        select id, incident_id, type, created_at, agent_type, agent_id, summary, note
        from raw_pagerduty.incident_log_entries order by id
        """
    )
    return [tuple(naive(v) for v in row) for row in rows]


def assert_equals_store(loader: Loader, now: datetime) -> None:
    assert loaded_incidents(loader) == expected_incidents(loader, now)
    assert loaded_log_entries(loader) == expected_log_entries(loader, now)
    for table in TABLES:  # merged on id: never two rows for one object
        assert (
            loader.scalar(f"select count(*) - count(distinct id) from raw_pagerduty.{table}") == 0
        ), table


def quarantined(loader: Loader) -> int:
    """Rows in the quarantine table, which exists only once something was quarantined."""
    exists = loader.scalar(
        "select count(*) from information_schema.tables "
        "where table_schema = 'raw_pagerduty' and table_name = 'quarantine'"
    )
    return loader.scalar("select count(*) from raw_pagerduty.quarantine") if exists else 0


def pages(rows: int) -> int:
    return max(1, math.ceil(rows / 100))


# --- full load ------------------------------------------------------------------------------


def test_full_load_equals_the_store(full: FullLoad):
    loader = full.loader
    assert_equals_store(loader, loader.sim.now)
    assert len(loaded_incidents(loader)) == loader.store_scalar("select count(*) from pd_incidents")

    services = loader.rows(
        "select id, name, description, team_ids from raw_pagerduty.services order by id"
    )
    expected = loader.store_rows(
        "select id, name, repo_full_name, team_id from pd_services order by id"
    )
    assert [(i, n, d, json.loads(t)) for i, n, d, t in services] == [
        (i, n, d, [team]) for i, n, d, team in expected
    ]
    users = loader.rows("select id, name, email from raw_pagerduty.users order by id")
    assert users == loader.store_rows("select id, name, email from pd_users order by id")


def test_incident_references_and_notes_are_kept(full: FullLoad):
    loader = full.loader
    teams, assignees, service_name = loader.rows(
        "select team_ids, assignee_ids, service_name from raw_pagerduty.incidents where id = 'Q4Z'"
    )[0]
    assert json.loads(teams) == ["PT0000"]
    assert json.loads(assignees) == []  # PagerDuty clears assignments on resolve
    assert service_name == "payments-web"
    # A note naming a deployment survives word for word, URL included.
    note = loader.store_scalar("select note from pd_log_entries where id = 'R5YC6L02'")
    assert "https://api.github.com/repos/acme/checkout-api/deployments/" in note
    assert (
        loader.scalar("select note from raw_pagerduty.incident_log_entries where id = 'R5YC6L02'")
        == note
    )
    # Incidents without a priority load it as null, not as an empty object.
    assert (
        loader.scalar("select count(*) from raw_pagerduty.incidents where priority is null")
        == loader.store_scalar("select count(*) from pd_incidents where priority is null")
        > 0
    )


def test_backfill_reads_the_minimum_number_of_pages(full: FullLoad):
    loader = full.loader
    minimum = {
        "pagerduty.incidents": pages(loader.store_scalar("select count(*) from pd_incidents")),
        "pagerduty.log_entries": pages(loader.store_scalar("select count(*) from pd_log_entries")),
        "pagerduty.services": pages(loader.store_scalar("select count(*) from pd_services")),
        "pagerduty.users": pages(loader.store_scalar("select count(*) from pd_users")),
    }
    assert full.backfill == minimum  # no per-incident request at all
    assert sum(full.backfill.values()) <= 1.05 * sum(minimum.values())


def test_a_second_run_without_changes_adds_nothing(full: FullLoad):
    # One page per table: the log (empty but for its one-hour overlap), the incidents of
    # the last three days and the two small lists; never an incident by id.
    assert full.rerun == {
        "pagerduty.incidents": 1,
        "pagerduty.log_entries": 1,
        "pagerduty.services": 1,
        "pagerduty.users": 1,
    }
    assert table_counts(full.loader) == full.counts_before_rerun


# --- incremental ----------------------------------------------------------------------------


def open_at(loader: Loader, now: datetime) -> list[str]:
    return [
        r[0]
        for r in loader.store_rows(
            f"select id from pd_incidents where created_at <= timestamp '{now.isoformat()}' "
            f"and (resolved_at is null or resolved_at > timestamp '{now.isoformat()}') order by id"
        )
    ]


def test_changes_between_runs_arrive_without_duplicates(loader: Loader):
    as_of = loader.sim.now
    still_open = open_at(loader, EARLIER)
    assert len(still_open) >= 2
    loader.sim.set_now(EARLIER)
    loader.load("pagerduty")
    assert_equals_store(loader, EARLIER)
    statuses = loader.rows(
        "select status, resolved_at from raw_pagerduty.incidents where id in "
        f"({', '.join(repr(i) for i in still_open)})"
    )
    assert statuses == [("acknowledged", None)] * len(still_open)

    loader.sim.set_now(as_of)
    loader.sim.reset_stats()
    loader.load("pagerduty")
    assert_equals_store(loader, as_of)
    resolved = loader.rows(
        "select resolved_at from raw_pagerduty.incidents where id in "
        f"({', '.join(repr(i) for i in still_open)}) and status = 'resolved'"
    )
    assert len(resolved) == len(still_open)

    # Efficiency: pages of what changed since the first run.
    new_entries = loader.store_scalar(
        f"select count(*) from pd_log_entries where created_at > timestamp '{EARLIER}'"
    )
    changed = loader.store_scalar(
        "select count(distinct incident_id) from pd_log_entries "
        f"where created_at > timestamp '{EARLIER}'"
    )
    minimum = pages(new_entries) + pages(changed) + 2  # + services and users
    requests = loader.sim.stats()["by_route"]
    assert "pagerduty.incident" not in requests  # the open ones were inside the look-back
    assert sum(requests.values()) <= 1.05 * minimum


def test_a_late_change_to_an_incident_outside_the_look_back_is_fetched_by_id(
    loader: Loader, monkeypatch: pytest.MonkeyPatch
):
    monkeypatch.setattr(pagerduty, "LOOKBACK", timedelta(0))
    as_of = loader.sim.now
    loader.sim.set_now(EARLIER)
    loader.load("pagerduty")
    cursor = loader.store_scalar(
        f"select max(created_at) from pd_incidents where created_at <= timestamp '{EARLIER}'"
    )
    older_changed = loader.store_scalar(
        "select count(distinct e.incident_id) from pd_log_entries e "
        "join pd_incidents i on i.id = e.incident_id "
        f"where e.created_at > timestamp '{EARLIER}' and i.created_at < timestamp '{cursor}'"
    )
    assert older_changed >= 1
    loader.sim.set_now(as_of)
    loader.sim.reset_stats()
    loader.load("pagerduty")
    assert loader.sim.stats()["by_route"]["pagerduty.incident"] == older_changed
    assert_equals_store(loader, loader.sim.now)


def test_a_failed_run_resumes_without_gaps_or_duplicates(loader: Loader):
    as_of = loader.sim.now
    loader.sim.set_now(EARLIER)
    loader.load("pagerduty")
    loader.sim.set_now(as_of)
    # The log is read, then every incidents request fails: nothing of the run may commit.
    loader.sim.inject(Fault("server_error", vendor="pagerduty", path=r"^/incidents$", times=-1))
    with pytest.raises(LoadFailed, match="503"):
        loader.load("pagerduty")
    assert_equals_store(loader, EARLIER)
    loader.sim.faults.clear()
    loader.load("pagerduty")
    assert_equals_store(loader, as_of)


# --- configuration --------------------------------------------------------------------------


def test_without_a_start_date_a_year_of_history_loads(loader: Loader, monkeypatch):
    monkeypatch.delenv(START_DATE)
    loader.load("pagerduty")
    assert_equals_store(loader, loader.sim.now)
    # 365 days in windows of at most 180: three requests per list.
    requests = loader.sim.stats()["by_route"]
    assert requests["pagerduty.incidents"] == requests["pagerduty.log_entries"] == 3


def test_a_start_date_leaves_older_history_out(loader: Loader, monkeypatch):
    monkeypatch.setenv(START_DATE, "2026-10-01")
    loader.load("pagerduty")
    expected = [
        r for r in expected_incidents(loader, loader.sim.now) if r[9] >= datetime(2026, 10, 1)
    ]
    assert loaded_incidents(loader) == expected
    assert loaded_log_entries(loader) == expected_log_entries(loader, loader.sim.now, "2026-10-01")


def test_full_windows_are_narrowed_past_the_offset_ceiling(loader: Loader, monkeypatch):
    # The same logic as at 10,000 records, on a ceiling the tiny store reaches.
    monkeypatch.setattr(pagerduty, "PAGE_LIMIT", 5)
    monkeypatch.setattr(pagerduty, "OFFSET_CEILING", 10)
    loader.load("pagerduty")
    assert_equals_store(loader, loader.sim.now)
    requests = loader.sim.stats()["by_route"]
    entries = loader.store_scalar("select count(*) from pd_log_entries")
    assert requests["pagerduty.log_entries"] >= math.ceil(entries / 5)


# --- faults ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("kind", "path", "route"),
    [
        ("rate_limit", r"^/incidents$", "pagerduty.incidents"),
        ("server_error", r"^/log_entries$", "pagerduty.log_entries"),
        ("slow", r"^/services$", "pagerduty.services"),
        ("invalid_json", r"^/incidents$", "pagerduty.incidents"),
        ("truncated", r"^/log_entries$", "pagerduty.log_entries"),
    ],
)
def test_transient_faults_are_retried_and_the_data_is_complete(
    loader: Loader, kind, path, route, monkeypatch: pytest.MonkeyPatch
):
    # A read timeout shorter than the slow answer, so the slow request is retried too.
    monkeypatch.setattr(
        "pipelines.sources.http_session.DEFAULT_POLICY",
        RetryPolicy(backoff_base=0.01, backoff_cap=0.05, max_wait=30.0, timeout=(5.0, 4.0)),
    )
    fault = loader.sim.inject(
        Fault(kind, vendor="pagerduty", path=path, times=1, retry_after=0, delay=6.0)
    )
    loader.load("pagerduty")
    assert fault.hits == 1
    assert loader.sim.stats()["by_route"][route] == 2  # the faulted answer, then the retry
    assert_equals_store(loader, loader.sim.now)
    assert quarantined(loader) == 0


@pytest.mark.parametrize(
    ("path", "resource", "store_table"),
    [
        (r"^/incidents$", "incidents", "pd_incidents"),
        (r"^/log_entries$", "incident_log_entries", "pd_log_entries"),
    ],
)
def test_a_malformed_record_is_quarantined_and_the_rest_loads(
    loader: Loader, path, resource, store_table
):
    loader.sim.inject(Fault("malformed", vendor="pagerduty", path=path, times=1))
    counts = loader.load("pagerduty")
    assert counts["quarantine"] == 1
    source, name, reason, payload = loader.rows(
        "select source, resource, reason, payload from raw_pagerduty.quarantine"
    )[0]
    assert (source, name) == ("pagerduty", resource)
    assert "id" in reason and '"_malformed": true' in payload
    expected = loader.store_scalar(f"select count(*) from {store_table}")
    assert loader.scalar(f"select count(*) from raw_pagerduty.{resource}") == expected - 1
    assert loader.scalar("select count(*) from raw_pagerduty.users") == loader.store_scalar(
        "select count(*) from pd_users"
    )


# --- secrets --------------------------------------------------------------------------------


def test_the_api_key_never_reaches_logs_warehouse_or_traces(
    loader: Loader, tmp_path: Path, caplog: pytest.LogCaptureFixture
):
    key = SIM_CREDENTIALS["pagerduty"]
    loader.sim.inject(Fault("rate_limit", vendor="pagerduty", path=r"^/incidents$", retry_after=0))
    pipelines_dir = tmp_path / "dlt"
    with caplog.at_level(logging.DEBUG):
        run_load("pagerduty", loader.warehouse, pipelines_dir)
    assert "rate limited" in caplog.text and key not in caplog.text
    for path in pipelines_dir.rglob("*"):  # dlt's state, schemas and pickled traces
        if path.is_file():
            assert key.encode() not in path.read_bytes(), path
    columns = loader.rows(
        "select table_name, column_name from information_schema.columns "
        "where table_schema = 'raw_pagerduty'"
    )
    for table, column in columns:
        hits = loader.scalar(
            f'select count(*) from raw_pagerduty."{table}" '
            f"where cast(\"{column}\" as varchar) like '%{key}%'"
        )
        assert hits == 0, (table, column)


def test_a_wrong_key_fails_with_a_clear_message_without_the_key(loader: Loader, monkeypatch):
    monkeypatch.setenv("SOURCES__PAGERDUTY__API_KEY", "pd_wrong_key_0123456789")
    with pytest.raises(LoadFailed) as failed:
        loader.load("pagerduty")
    assert "401" in str(failed.value)
    assert "pd_wrong_key_0123456789" not in str(failed.value)


# --- messy data -----------------------------------------------------------------------------


def test_messy_records_load(tiny_store: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    """Null users and services, unicode, a very long title, an incident without entries."""
    store = tmp_path / "messy.duckdb"
    shutil.copy(tiny_store, store)
    title = "Zahlungen schlagen fehl — 支付失败 🔥 " * 200
    note = "Rollback von https://github.com/acme/payments-web/pull/23 — ça marche ✅"
    with duckdb.connect(str(store)) as con:
        con.execute(
            "insert into pd_incidents values ('QMESSY', 999, ?, null, 'low', null, null, null, "
            "null, null, timestamp '2026-10-20 10:00:00', null, null)",
            [title],
        )
        con.execute(
            "insert into pd_incidents values ('QEMPTY', 1000, 'no entries', 'x', 'high', 'P2', "
            "'PS0000', 'PT0000', 'PNOBODY', 'k', timestamp '2026-10-21 10:00:00', null, null)"
        )
        con.execute(
            "insert into pd_log_entries values "
            "('RMESSY00', 'QMESSY', 'trigger_log_entry', timestamp '2026-10-20 10:00:00', "
            "null, null, 'Triggered', null), "
            "('RMESSY01', 'QMESSY', 'annotate_log_entry', timestamp '2026-10-20 11:00:00', "
            "'user_reference', null, 'Note added', ?)",
            [note],
        )
    with SimulatorServer(store) as sim:
        loader = make_loader(sim, store, tmp_path / "w.duckdb", monkeypatch)
        loader.load("pagerduty")
        assert quarantined(loader) == 0
        messy = loader.rows(
            "select title, service_id, team_ids, assignee_ids, priority, status "
            "from raw_pagerduty.incidents where id = 'QMESSY'"
        )[0]
        assert messy[0] == title and messy[1:] == (None, "[]", "[]", None, "triggered")
        assert json.loads(
            loader.scalar("select assignee_ids from raw_pagerduty.incidents where id = 'QEMPTY'")
        ) == ["PNOBODY"]
        entries = loader.rows(
            "select id, agent_type, agent_id, note from raw_pagerduty.incident_log_entries "
            "where incident_id = 'QMESSY' order by id"
        )
        assert entries == [("RMESSY00", None, None, None), ("RMESSY01", None, None, note)]
        assert loaded_incidents(loader)[0][0] is not None
        # every incident of the store, the two messy ones included
        (incidents,) = loader.store_rows("select count(*) from pd_incidents")[0]
        assert len(loaded_incidents(loader)) == incidents
