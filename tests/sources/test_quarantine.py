"""Quarantine through the simulator: a type change that rejects a whole table fails the
quarantine check with the field named and is kept once however often it is rerun (issue 15,
problem 1); a malformed record on a later page is fetched again by id on the next load and
nothing is lost (problem 3)."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime
from typing import Any

import dagster as dg
import dlt
import duckdb
import pytest

from org_simulator.faults import Fault
from org_simulator.vendors import github_objects
from pipelines.cli import _check_quarantine as check_quarantine
from pipelines.cli import main
from pipelines.orchestration.quality.quarantine import CHECK_NAME, build_quarantine_check
from pipelines.orchestration.resources import WarehouseResource
from pipelines.quality.quarantine import QuarantineShare, check_source
from pipelines.settings import Settings, read_settings
from pipelines.sources import SOURCES
from pipelines.sources.contract import Quarantine
from pipelines.sources.record_keys import (
    jira_issue_key,
    pull_request_key,
    record_key,
    workflow_run_key,
)
from pipelines.sources.unresolved import describe_reason
from tests.daily_job import source_step
from tests.sources.conftest import Loader

REPO = "acme/checkout-api"


# --- the pieces -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "received, quarantined, limit, passed",
    [
        (100, 1, 0.01, True),  # at the limit
        (100, 2, 0.01, False),
        (100, 1, 0.0, False),  # 0: any quarantined record fails
        (10, 10, 0.99, False),  # every record rejected fails whatever the limit
        (0, 0, 0.01, True),
    ],
)
def test_the_check_fails_above_the_share_or_when_all_were_rejected(
    received, quarantined, limit, passed
):
    share = QuarantineShare("github", "pull_requests", received, quarantined, limit)
    assert share.passed is passed


def test_the_share_setting_is_validated_by_name():
    name = "AOW_QUARANTINE_MAX_SHARE"
    assert read_settings({name: "0.05"}).quarantine_max_share == 0.05
    for bad in ("5%", "1", "-0.1"):
        with pytest.raises(ValueError, match=name):
            read_settings({name: bad})
    assert read_settings({}).quarantine_max_share == 0.01


@pytest.mark.parametrize(
    "reason, payload, described",
    [
        (
            "draft: 'false' is not valid (str is not a boolean)",
            {"draft": "false"},
            ("draft", "bool", 'str "false"'),
        ),
        ("id: required, but missing or null", {"id": None}, ("id", "present", "null")),
        ("merged_at: required, but missing or null", {}, ("merged_at", "present", "absent")),
        ("expected an object, got str", "x", (None, None, None)),
    ],
)
def test_a_reason_names_the_field_and_the_types(reason, payload, described):
    assert describe_reason(reason, payload) == described


def test_keys_are_read_from_the_record_or_its_own_link():
    pr = {"number": 12, "base": {"repo": {"full_name": "Acme/API"}}}
    assert pull_request_key(pr) == "acme/api#12"
    broken = {"number": None, "url": "http://h/github/repos/acme/api/pulls/12"}
    assert pull_request_key(broken) == "acme/api#12"
    run = {"id": None, "url": "http://h/github/repos/acme/api/actions/runs/99"}
    assert workflow_run_key(run) == "99"
    assert jira_issue_key({"id": None, "self": "http://h/rest/api/3/issue/10023"}) == "10023"
    assert jira_issue_key({"id": "10023"}) == "10023"
    assert record_key(None, {"id": True}) is None and record_key(None, "x") is None


def test_a_record_rejected_twice_in_one_run_is_kept_once_and_accepting_it_resolves_nothing_new():
    quarantine = Quarantine("github", {"pull_requests": pull_request_key})
    pr = {"number": 1, "base": {"repo": {"full_name": "acme/api"}}, "draft": "false"}
    quarantine.add("pull_requests", pr, "draft: 'false' is not valid (str is not a boolean)")
    quarantine.add("pull_requests", dict(pr), "draft: 'false' is not valid (str is not a boolean)")
    (row,) = quarantine.rows
    assert row["record_key"] == "acme/api#1" and row["times_quarantined"] == 1
    assert (row["field"], row["expected_type"]) == ("draft", "bool")
    quarantine.accepted("pull_requests", {**pr, "draft": False})  # no warehouse: nothing pending
    assert quarantine.unread("pull_requests") == []


def shares(loader: Loader, source: str, limit: float = 0.01) -> list[QuarantineShare]:
    with duckdb.connect(str(loader.warehouse), read_only=True) as con:
        return check_source(con, source, f"raw_{source}", limit)


def quarantine_rows(loader: Loader, source: str) -> list[dict[str, Any]]:
    with duckdb.connect(str(loader.warehouse), read_only=True) as con:
        cur = con.execute(f"select * from raw_{source}.quarantine order by record_key")
        names = [d[0] for d in cur.description]
        return [dict(zip(names, r, strict=True)) for r in cur.fetchall()]


@pytest.fixture
def draft_as_text(monkeypatch: pytest.MonkeyPatch) -> dict[str, bool]:
    """While `drift["on"]`, GitHub sends `draft` as the string "false" on every pull request
    (list and single reads)."""
    render = github_objects.pull_request
    drift = {"on": True}

    def retyped(*args: Any, **kwargs: Any) -> dict[str, Any]:
        pr = render(*args, **kwargs)
        return {**pr, "draft": "false"} if drift["on"] else pr

    monkeypatch.setattr(github_objects, "pull_request", retyped)
    return drift


def test_a_retyped_field_fails_the_check_naming_it_and_is_kept_once(
    loader: Loader, monkeypatch: pytest.MonkeyPatch, draft_as_text: dict[str, bool], capsys
):
    monkeypatch.setenv("SOURCES__GITHUB__REPOSITORIES", json.dumps([REPO]))
    prs = loader.store_scalar(
        f"select count(*) from gh_pull_requests where repo_full_name = '{REPO}'"
    )
    first = loader.load("github")
    assert "pull_requests" not in first and first["quarantine"] == prs

    (result,) = [s for s in shares(loader, "github") if s.resource == "pull_requests"]
    assert not result.passed and result.all_rejected
    assert (result.quarantined, result.received) == (prs, prs)
    assert (result.field, result.expected, result.seen) == ("draft", "bool", "str 'false'")
    assert result.field_count == prs
    message = result.message()
    for part in (
        "github.pull_requests",
        "`draft`",
        "expected bool",
        "seen str 'false'",
        f"{prs} of {prs}",
    ):
        assert part in message, message
    assert result.sample["record_key"].startswith(f"{REPO}#")
    # what `python -m pipelines check` reports
    assert check_quarantine(loader.warehouse, Settings().quarantine_max_share).failed
    out = capsys.readouterr().out
    assert "FAIL  quarantine github.pull_requests" in out
    assert re.search(
        r"^check quarantine +FAILED +\d+ passed, 1 failed \(github.pull_requests: ", out, re.M
    )

    # Rerun with the same drift: the same records, kept once, counted twice.
    loader.load("github")
    rows = quarantine_rows(loader, "github")
    assert len(rows) == prs == len({r["record_hash"] for r in rows})
    assert {r["times_quarantined"] for r in rows} == {2}
    assert all(r["last_quarantined_at"] > r["quarantined_at"] for r in rows)
    assert not shares(loader, "github")[0].passed

    # The vendor fixed: every PR loads, every quarantined record is resolved, the check passes.
    draft_as_text["on"] = False
    fixed = loader.load("github")
    assert fixed["pull_requests"] == prs
    assert loader.scalar("select count(*) from raw_github.pull_requests") == prs
    assert all(r["resolved_at"] is not None for r in quarantine_rows(loader, "github"))
    assert shares(loader, "github") == []
    assert check_quarantine(loader.warehouse, Settings().quarantine_max_share)


def test_a_malformed_jira_issue_on_a_later_page_is_recovered_by_replay(
    loader: Loader, monkeypatch: pytest.MonkeyPatch, tmp_path, capsys
):
    monkeypatch.setenv("SOURCES__JIRA__MAX_RESULTS", "20")
    # A clean load of the same history, to count what the faulty one lost.
    clean = Loader(loader.sim, loader.store, tmp_path / "clean.duckdb")
    clean.load("jira")
    issues = clean.scalar("select count(*) from raw_jira.issues")
    changes = clean.scalar("select count(*) from raw_jira.issues__changelog")
    assert issues > 40  # several pages

    # The first issue of the second page arrives broken (ids null, timestamps garbled).
    loader.sim.inject(Fault("malformed", vendor="jira", path=r"/search/jql$", skip=1, times=1))
    loader.load("jira")
    (row,) = quarantine_rows(loader, "jira")
    assert (row["resource"], row["field"], row["expected_type"]) == ("issues", "id", "bigint")
    broken = int(row["record_key"])  # read from the record's own link: its id fields are null
    assert loader.scalar("select count(*) from raw_jira.issues") == issues - 1
    (result,) = shares(loader, "jira")
    assert (result.quarantined, result.received) == (1, issues)
    assert result.passed  # 1 of 150 is within the default 1%
    assert not shares(loader, "jira", limit=0.005)[0].passed

    # Replayed (the next scheduled load does the same): the search window does not reach
    # the issue any more, so it is fetched by id.
    loader.sim.reset_stats()
    assert main(["replay", "jira", "--duckdb", str(loader.warehouse)]) == 0
    assert "jira.issues: 1 of 1 recovered, 0 still quarantined" in capsys.readouterr().out
    assert loader.sim.stats()["by_route"]["jira.issue"] == 1
    assert loader.scalar("select count(*) from raw_jira.issues") == issues  # 0 lost
    assert loader.scalar(f"select count(*) from raw_jira.issues where id = {broken}") == 1
    assert loader.scalar("select count(*) from raw_jira.issues__changelog") == changes
    (row,) = quarantine_rows(loader, "jira")
    assert row["resolved_at"] is not None and row["times_quarantined"] == 1
    assert shares(loader, "jira") == []

    # Nothing left to fetch: a third load asks for no single issue.
    loader.sim.reset_stats()
    loader.load("jira")
    assert "jira.issue" not in loader.sim.stats()["by_route"]


# resource, its child table, the fault's path and pages skipped (the broken record lies
# behind the next load's window), the single-record route, and the least rows to expect.
REFETCHED = [
    pytest.param(
        "workflow_runs", "workflow_jobs", r"/actions/runs$", 10, "github.run", 20, id="run"
    ),
    pytest.param(
        "deployments",
        "deployment_statuses",
        r"/deployments$",
        2,
        "github.deployment",
        30,
        id="deployment",
    ),
]


@pytest.mark.parametrize(("resource", "child", "path", "skip", "route", "least"), REFETCHED)
def test_a_malformed_record_on_a_later_page_is_fetched_again_by_the_next_load(
    loader: Loader,
    monkeypatch: pytest.MonkeyPatch,
    tmp_path,
    resource,
    child,
    path,
    skip,
    route,
    least,
):
    monkeypatch.setenv("SOURCES__GITHUB__REPOSITORIES", json.dumps([REPO]))
    monkeypatch.setenv("SOURCES__GITHUB__PER_PAGE", "10")
    clean = Loader(loader.sim, loader.store, tmp_path / "clean.duckdb")
    clean.load("github")
    records = clean.scalar(f"select count(*) from raw_github.{resource}")
    children = clean.scalar(f"select count(*) from raw_github.{child}")
    assert records > least

    # The first record of a later page (behind the next load's window) arrives broken.
    loader.sim.inject(Fault("malformed", vendor="github", path=path, skip=skip))
    loader.load("github")
    (row,) = quarantine_rows(loader, "github")
    assert row["resource"] == resource and row["record_key"].isdigit()
    assert loader.scalar(f"select count(*) from raw_github.{resource}") == records - 1

    # The next load's window does not reach it; it is fetched by id instead.
    loader.sim.reset_stats()
    loader.load("github")
    assert loader.sim.stats()["by_route"][route] == 1
    assert loader.scalar(f"select count(*) from raw_github.{resource}") == records  # 0 lost
    assert loader.scalar(f"select count(*) from raw_github.{child}") == children
    (row,) = quarantine_rows(loader, "github")
    assert row["resolved_at"] is not None


def test_a_malformed_incident_is_fetched_again_by_the_next_load(loader: Loader, tmp_path):
    clean = Loader(loader.sim, loader.store, tmp_path / "clean.duckdb")
    clean.load("pagerduty")
    incidents = clean.scalar("select count(*) from raw_pagerduty.incidents")
    assert incidents > 1

    # The first incident of the list arrives broken (ids null, timestamps garbled).
    loader.sim.inject(Fault("malformed", vendor="pagerduty", path=r"^/incidents$"))
    loader.load("pagerduty")
    (row,) = quarantine_rows(loader, "pagerduty")
    assert row["resource"] == "incidents" and row["record_key"]
    assert loader.scalar("select count(*) from raw_pagerduty.incidents") == incidents - 1

    # The next load's window starts after it; it is fetched by id instead.
    loader.sim.reset_stats()
    loader.load("pagerduty")
    assert loader.sim.stats()["by_route"]["pagerduty.incident"] == 1
    assert loader.scalar("select count(*) from raw_pagerduty.incidents") == incidents  # 0 lost
    (row,) = quarantine_rows(loader, "pagerduty")
    assert row["resolved_at"] is not None


def test_the_dagster_check_blocks_what_reads_a_source_whose_load_quarantined_a_table(
    loader: Loader, monkeypatch: pytest.MonkeyPatch, draft_as_text: dict[str, bool]
):
    monkeypatch.setenv("SOURCES__GITHUB__REPOSITORIES", json.dumps([REPO]))
    monkeypatch.setenv("SOURCES__GITHUB__START_DATE", "2026-10-25")
    spec = SOURCES["github"]
    assets = source_step("github", dg.RetryPolicy(max_retries=0))
    checks = build_quarantine_check(spec, sorted(assets.keys), Settings().quarantine_max_share)
    pulls = dg.AssetKey(["raw_github", "pull_requests"])
    runs = dg.AssetKey(["raw_github", "workflow_runs"])

    @dg.asset(deps=[pulls])
    def reads_pull_requests() -> None:
        pass

    @dg.asset(deps=[runs])
    def reads_workflow_runs() -> None:
        pass

    def run() -> tuple[dict[dg.AssetKey, Any], set[dg.AssetKey]]:
        result = dg.materialize(
            [assets, checks, reads_pull_requests, reads_workflow_runs],
            resources={"warehouse": WarehouseResource(duckdb_path=str(loader.warehouse))},
            instance=dg.DagsterInstance.ephemeral(),
            raise_on_error=False,
        )
        evaluations = {e.asset_key: e for e in result.get_asset_check_evaluations()}
        return evaluations, {e.asset_key for e in result.get_asset_materialization_events()}

    evaluations, materialized = run()
    failed = evaluations[pulls]
    assert not failed.passed and failed.check_name == CHECK_NAME
    assert "`draft` expected bool" in failed.description
    (resource,) = failed.metadata["resources"].value
    assert resource["field"] == "draft" and resource["quarantined"] == resource["received"] > 0
    assert evaluations[runs].passed
    # One check step per source: what reads any of its tables waits for this load's data.
    assert {dg.AssetKey("reads_pull_requests"), dg.AssetKey("reads_workflow_runs")}.isdisjoint(
        materialized
    )

    draft_as_text["on"] = False  # fixed: the next run passes and builds what reads it
    evaluations, materialized = run()
    assert all(e.passed for e in evaluations.values())
    assert {dg.AssetKey("reads_pull_requests"), dg.AssetKey("reads_workflow_runs")} <= materialized


def test_a_quarantine_table_from_before_is_upgraded_to_one_row_per_record(tmp_path):
    """Rows appended once per rejection (the table before `record_hash`) are merged into one
    row per record on the next load, which then counts on from them."""
    warehouse = tmp_path / "w.duckdb"
    legacy = {
        "source": {"data_type": "text", "nullable": False},
        "resource": {"data_type": "text", "nullable": False},
        "reason": {"data_type": "text", "nullable": False},
        "payload": {"data_type": "text"},
        "quarantined_at": {"data_type": "timestamp", "nullable": False},
    }
    rejected = {
        "source": "t",
        "resource": "things",
        "reason": "id: required",
        "payload": '{"id": null}',
    }

    @dlt.resource(name="quarantine", write_disposition="append", columns=legacy)
    def appended():
        yield [{**rejected, "quarantined_at": datetime(2026, 10, 1, tzinfo=UTC)}]

    def run(resource) -> None:
        pipeline = dlt.pipeline(
            pipeline_name="legacy_quarantine",
            destination=dlt.destinations.duckdb(str(warehouse)),
            dataset_name="raw_t",
            pipelines_dir=str(tmp_path / "pipelines"),
        )
        pipeline.run(dlt.source(lambda: [resource], name="t")())

    run(appended())
    run(appended())  # the same record, rejected by two loads: two rows
    quarantine = Quarantine("t")
    quarantine.add("things", {"id": None}, "id: required, but missing or null")
    run(quarantine.resource())
    with duckdb.connect(str(warehouse), read_only=True) as con:
        rows = con.execute(
            "select times_quarantined, quarantined_at, field from raw_t.quarantine"
        ).fetchall()
    assert rows == [(3, datetime(2026, 10, 1, tzinfo=UTC), "id")]
