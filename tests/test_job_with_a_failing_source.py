"""One source fails in a Dagster run: the others' marts are still built, the run still fails.

The tiny organisation, loaded once (tiny_raw_warehouse), then `daily_warehouse_job` runs over a
few days with a GitHub token the vendor refuses (401). A refused token is permanent: the GitHub
step does not retry, it gives up after one request and reports its tables as failed, so the
dbt ops run: the spend marts equal the truth, the GitHub marts keep their last good data,
mart_source_coverage says GitHub is stale, and the run fails on `no_failed_source_loads`,
naming GitHub, without publishing: the previous publication stays as it was. Then the
transient side: a 503 that outlasts the HTTP session's retries is retried by Dagster, first
until it recovers, then until the retries are spent.
"""

from __future__ import annotations

import hashlib
import io
import shutil
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from pathlib import Path

import dagster as dg
import duckdb
import pytest

from org_simulator.demo import store_path
from org_simulator.faults import Fault
from org_simulator.server import SimulatorServer
from org_simulator.sources_env import simulator_sources_env
from org_simulator.testing import TINY_SEED
from pipelines.orchestration.publication import PUBLICATION
from pipelines.orchestration.resources import WarehouseResource
from pipelines.progress import Console
from pipelines.serving.publication import Provenance, publish, read_about
from pipelines.sources import SOURCES
from pipelines.sources.http_session import RetryPolicy
from tests.daily_job import org_settings, run_daily_job, source_step
from tests.test_run_progress import figure, load_lines

FIRST_DAY, LAST_DAY = "2026-10-26", "2026-10-30"
WRONG_TOKEN = "ghp_refused0000000000000000000000000000"
RAW_PRS = dg.AssetKey(["raw_github", "pull_requests"])
COVERAGE_CHECK = dg.AssetCheckKey(
    dg.AssetKey(["marts", "mart_source_coverage"]), "no_failed_source_loads"
)
SPEND_MARTS = ("mart_model_mix", "mart_budget_runway")
# Two HTTP attempts per request, quickly: a fault of more than two answers outlasts them.
TWO_HTTP_ATTEMPTS = RetryPolicy(max_attempts=2, backoff_base=0.01, backoff_cap=0.02)


@dataclass
class Run:
    result: dg.ExecuteInProcessResult
    warehouse: Path
    store: Path
    github_answers: dict[int, int]  # HTTP status -> answers the simulated GitHub gave
    repositories: int  # configured GitHub repositories
    loaded_before: datetime  # GitHub's last successful load, before the run
    raw_prs_before: int
    out: str  # the run's progress, as the demo prints it (pipelines.progress)
    err: str
    publication: Path
    publication_before: str  # sha256 of the publication made before the run

    def rows(self, sql: str) -> list[tuple]:
        with duckdb.connect(str(self.warehouse), read_only=True) as con:
            con.execute(f"attach '{self.store}' as sim (read_only)")
            return con.execute(sql).fetchall()


def _answers(sim: SimulatorServer, vendor: str) -> dict[int, int]:
    answers: dict[int, int] = defaultdict(int)
    for row in sim.stats()["by_status"]:
        if row["vendor"] == vendor:
            answers[row["status"]] += row["count"]
    return dict(answers)


@pytest.fixture(scope="module")
def refused_github(
    tiny_raw_warehouse: Path, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Run]:
    store = store_path("tiny", TINY_SEED)  # the organisation tiny_raw_warehouse holds
    warehouse = tmp_path_factory.mktemp("refused-github") / "warehouse.duckdb"
    shutil.copyfile(tiny_raw_warehouse, warehouse)
    with duckdb.connect(str(warehouse), read_only=True) as con:
        (loaded_before,) = con.execute(
            "select max(finished_at) from ops.source_loads "
            "where source = 'github' and status = 'loaded'"
        ).fetchone()
        (raw_prs,) = con.execute("select count(*) from raw_github.pull_requests").fetchone()
    settings = org_settings(store, warehouse)
    # The last good publication (of a warehouse without marts yet): the run must keep it.
    publish(warehouse, settings.publication_path, Provenance("previous", None, None))
    before = hashlib.sha256(settings.publication_path.read_bytes()).hexdigest()
    with SimulatorServer(store) as sim:
        env = {**simulator_sources_env(sim), "SOURCES__GITHUB__ACCESS_TOKEN": WRONG_TOKEN}
        out, err = io.StringIO(), io.StringIO()
        console = Console(out, err, tty=False)
        result = run_daily_job(settings, env, FIRST_DAY, LAST_DAY, console)
        answers = _answers(sim, "github")
        repositories = len(sim.repositories())
    yield Run(
        result,
        warehouse,
        store,
        answers,
        repositories,
        loaded_before,
        raw_prs,
        out.getvalue(),
        err.getvalue(),
        settings.publication_path,
        before,
    )


def _steps(run: Run, kind: str) -> list[str]:
    return [e.step_key for e in run.result.all_events if e.event_type_value == kind]


def test_a_refused_token_is_tried_once_and_not_retried(refused_github: Run):
    # One attempt: at most the first request of each repository (sent concurrently; the
    # first refusal ends the load, so some may never be sent), none repeated.
    (answers,) = refused_github.github_answers.items()
    assert answers[0] == 401 and 1 <= answers[1] <= refused_github.repositories
    assert "github" not in _steps(refused_github, "STEP_UP_FOR_RETRY")
    assert _steps(refused_github, "STEP_START").count("github") == 1
    attempts = refused_github.rows(
        "select status, count(*) from ops.source_loads "
        f"where source = 'github' and started_at > '{refused_github.loaded_before}' group by 1"
    )
    assert attempts == [("failed", 1)]
    assert "github" in _steps(refused_github, "STEP_SUCCESS")  # gave up without failing
    (prs,) = [
        e
        for e in refused_github.result.get_asset_materialization_events()
        if e.asset_key == RAW_PRS
    ]
    metadata = prs.materialization.metadata
    assert metadata["source_status"].value == "failed"
    assert metadata["failure"].value == "permanent"
    assert metadata["attempts"].value == 1
    assert "HTTP 401" in metadata["reason"].value
    assert WRONG_TOKEN not in metadata["reason"].value
    # The freshness checks judge the data: its last successful load, not this step.
    updated = metadata["dagster/last_updated_timestamp"].value
    assert updated == refused_github.loaded_before.timestamp()


def test_every_dbt_op_runs_and_the_spend_marts_equal_the_truth(refused_github: Run):
    assert {"dbt_foundation", "dbt_daily_spend", "dbt_outcomes"} <= set(
        _steps(refused_github, "STEP_SUCCESS")
    )
    materialized = {e.asset_key for e in refused_github.result.get_asset_materialization_events()}
    assert {dg.AssetKey(["marts", mart]) for mart in SPEND_MARTS} <= materialized
    spend = refused_github.rows(
        "select provider, month, sum(spend_usd) from marts.mart_model_mix group by all"
    )
    truth = {
        (provider, month): usd
        for provider, month, usd in refused_github.rows(
            "select provider, date_trunc('month', day)::date, sum(cost_usd) "
            "from sim.truth_spend group by all"
        )
    }
    assert len(spend) == len(truth) > 0
    for provider, month, usd in spend:
        assert abs(Decimal(str(usd)) - truth[(provider, month)]) <= Decimal("0.0001")


def test_github_figures_rest_on_its_last_good_data(refused_github: Run):
    (raw_prs, shipped) = refused_github.rows(
        "select (select count(*) from raw_github.pull_requests), "
        "(select count(*) from marts.fct_pull_requests)"
    )[0]
    assert raw_prs == refused_github.raw_prs_before > 0
    assert shipped == raw_prs


def test_the_coverage_mart_says_github_is_stale(refused_github: Run):
    coverage = {
        row[0]: row[1:]
        for row in refused_github.rows(
            "select source, is_stale, last_load_status, last_successful_load_at, "
            "last_failed_load_at, last_load_detail, status from marts.mart_source_coverage"
        )
    }
    stale, status, last_good, last_failed, detail, sentence = coverage.pop("github")
    assert (stale, status) == (True, "failed")
    assert last_good == refused_github.loaded_before.replace(tzinfo=None)  # the marts keep UTC
    assert last_failed > last_good
    assert "HTTP 401" in detail and WRONG_TOKEN not in detail
    assert "latest attempt failed" in sentence and "stale" in sentence
    assert {source: row[:2] for source, row in coverage.items()} == {
        source: (False, "loaded") for source in SOURCES if source != "github"
    }


def test_the_board_names_the_stale_source(refused_github: Run):
    for mart in ("mart_outcome_board", "mart_ai_assisted_outcomes"):
        stale = refused_github.rows(f"select stale_sources, count(*) from marts.{mart} group by 1")
        assert stale == [("github", stale[0][1])] and stale[0][1] > 0, mart


def test_the_run_fails_naming_github(refused_github: Run):
    assert not refused_github.result.success
    result = refused_github.result
    evaluations = {e.asset_check_key: e for e in result.get_asset_check_evaluations()}
    check = evaluations.pop(COVERAGE_CHECK)
    assert not check.passed
    assert check.metadata["stale_sources"].value == ["github"]
    assert "HTTP 401" in check.metadata["failures"].value["github"]
    assert check.description.startswith("stale sources: github (last successful load ")
    # That check is what fails the run: every other check and step passed.
    assert [key for key, e in evaluations.items() if not e.passed] == []
    assert len(_steps(refused_github, "STEP_FAILURE")) == 1


def test_the_progress_shows_github_failed_and_the_check_that_fails_the_run(refused_github: Run):
    loads = load_lines(refused_github.out)
    assert {source: m["status"] for source, m in loads.items()} == {
        source: "FAILED" if source == "github" else "ok" for source in SOURCES
    }
    [github] = [line for line in refused_github.out.splitlines() if line.startswith("load github")]
    assert "HTTP 401" in github
    assert figure(loads["github"], "requests") == sum(refused_github.github_answers.values())
    [check] = [line for line in refused_github.out.splitlines() if "check source loads" in line]
    assert check.startswith("check source loads   FAILED  0 passed, 1 failed (")
    assert "no_failed_source_loads: stale sources: github" in check
    assert "error: github: " in refused_github.err  # the step's own account of what follows
    for text in (refused_github.out, refused_github.err):
        assert WRONG_TOKEN not in text
        assert "STEP_START" not in text and "DEBUG" not in text


def test_a_failed_source_load_publishes_nothing(refused_github: Run):
    # The blocking coverage check failed: Dagster skipped the publication (never started).
    assert "publication" not in _steps(refused_github, "STEP_START")
    materialized = {e.asset_key for e in refused_github.result.get_asset_materialization_events()}
    assert PUBLICATION not in materialized
    digest = hashlib.sha256(refused_github.publication.read_bytes()).hexdigest()
    assert digest == refused_github.publication_before
    assert read_about(refused_github.publication)["run_id"] == "previous"
    # and left nothing half-written beside it
    assert sorted(p.name for p in refused_github.publication.parent.glob("*serving*")) == [
        "warehouse.serving.duckdb"
    ]


# --- transient failures -------------------------------------------------------------------------


def _load_step(warehouse: Path, source: str, retries: int) -> dg.ExecuteInProcessResult:
    assets = source_step(source, dg.RetryPolicy(max_retries=retries, delay=0))
    return dg.materialize(
        [assets],
        resources={"warehouse": WarehouseResource(duckdb_path=str(warehouse))},
        instance=dg.DagsterInstance.ephemeral(),
        raise_on_error=False,
    )


@pytest.fixture
def vendors(simulator: SimulatorServer, monkeypatch: pytest.MonkeyPatch) -> SimulatorServer:
    for key, value in simulator_sources_env(simulator).items():
        monkeypatch.setenv(key, value)
    monkeypatch.setattr("pipelines.sources.http_session.DEFAULT_POLICY", TWO_HTTP_ATTEMPTS)
    return simulator


def test_an_outage_longer_than_the_http_retries_is_retried_by_dagster(
    vendors: SimulatorServer, tmp_path: Path
):
    # Both HTTP attempts of the first request fail: the step fails, Dagster runs it again.
    vendors.inject(Fault("server_error", vendor="pagerduty", times=2))
    warehouse = tmp_path / "warehouse.duckdb"
    result = _load_step(warehouse, "pagerduty", retries=2)
    assert result.success
    assert len([e for e in result.all_events if e.event_type_value == "STEP_UP_FOR_RETRY"]) == 1
    assert _answers(vendors, "pagerduty")[503] == 2
    with duckdb.connect(str(warehouse), read_only=True) as con:
        statuses = con.execute("select status from ops.source_loads order by started_at").fetchall()
        (incidents,) = con.execute("select count(*) from raw_pagerduty.incidents").fetchone()
    assert statuses == [("failed",), ("loaded",)]
    assert incidents > 0


def test_an_outage_past_every_retry_gives_up_without_failing_the_step(
    vendors: SimulatorServer, tmp_path: Path
):
    vendors.inject(Fault("server_error", vendor="pagerduty", times=-1))
    warehouse = tmp_path / "warehouse.duckdb"
    result = _load_step(warehouse, "pagerduty", retries=2)
    assert result.success  # the dbt ops downstream would run; the coverage check fails the run
    assert len([e for e in result.all_events if e.event_type_value == "STEP_UP_FOR_RETRY"]) == 2
    # three step attempts of two HTTP attempts each, all on the first request
    assert _answers(vendors, "pagerduty") == {503: 6}
    for event in result.get_asset_materialization_events():
        metadata = event.materialization.metadata
        assert metadata["source_status"].value == "failed", event.asset_key
        assert metadata["failure"].value == "transient"
        assert metadata["attempts"].value == 3
        assert "HTTP 503" in metadata["reason"].value
        assert metadata["rows_loaded"].value == 0
        assert metadata["api_requests"].value == 2  # the last attempt's two HTTP attempts
        # never loaded: the epoch, which every freshness check finds stale
        assert metadata["dagster/last_updated_timestamp"].value == 1.0
    with duckdb.connect(str(warehouse), read_only=True) as con:
        assert con.execute("select status from ops.source_loads").fetchall() == [("failed",)] * 3
