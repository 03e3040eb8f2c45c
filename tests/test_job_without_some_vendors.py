"""The whole Dagster job for an organisation that uses neither OpenAI nor PagerDuty.

The tiny organisation is served with only GitHub, Jira and Anthropic configured (the others
have no settings at all). One run of `daily_warehouse_job` over a few days must succeed: the two
source steps load nothing and say why, every dbt op and every check runs, the coverage mart
says which sources the numbers rest on, and the figures that need PagerDuty are null with their
reason while the spend figures, which Anthropic alone can give, are not.
"""

from __future__ import annotations

import io
import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import dagster as dg
import duckdb
import pytest

from org_simulator.server import SimulatorServer
from org_simulator.sources_env import simulator_sources_env
from pipelines.orchestration.definitions import build_definitions
from pipelines.progress import Console
from pipelines.sources import SOURCES
from tests.daily_job import org_settings, run_daily_job
from tests.test_run_progress import figure, load_lines

CONFIGURED = ("github", "jira", "anthropic")
ABSENT = ("openai", "pagerduty")
# One run over the last working week (a backfill's range): billing is loaded per UTC day.
FIRST_DAY, LAST_DAY = "2026-10-26", "2026-10-30"


@dataclass
class Run:
    result: dg.ExecuteInProcessResult
    warehouse: Path
    defs: dg.Definitions
    out: str  # the run's progress, as the demo prints it (pipelines.progress)
    err: str

    def rows(self, sql: str) -> list[tuple]:
        with duckdb.connect(str(self.warehouse), read_only=True) as con:
            return con.execute(sql).fetchall()


@pytest.fixture(scope="module")
def job_without_vendors(
    tiny_store: Path, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Run]:
    work = tmp_path_factory.mktemp("without-vendors")
    warehouse = work / "warehouse.duckdb"
    with SimulatorServer(tiny_store) as sim, pytest.MonkeyPatch.context() as mp:
        mp.chdir(work)  # no .dlt/ configuration here
        for key in [k for k in os.environ if k.startswith("SOURCES__")]:
            mp.delenv(key)
        settings = org_settings(tiny_store, warehouse)
        env = simulator_sources_env(sim, vendors=CONFIGURED)
        out, err = io.StringIO(), io.StringIO()
        result = run_daily_job(settings, env, FIRST_DAY, LAST_DAY, Console(out, err, tty=False))
    yield Run(result, warehouse, build_definitions(settings), out.getvalue(), err.getvalue())


def test_the_job_succeeds_and_materializes_the_whole_graph(job_without_vendors: Run):
    assert job_without_vendors.result.success
    materialized = {
        e.asset_key for e in job_without_vendors.result.get_asset_materialization_events()
    }
    assert materialized == set(job_without_vendors.defs.resolve_asset_graph().get_all_asset_keys())
    failed = [
        e.asset_check_key
        for e in job_without_vendors.result.get_asset_check_evaluations()
        if not e.passed
    ]
    assert failed == []


def test_the_absent_sources_load_nothing_and_say_why(job_without_vendors: Run):
    for event in job_without_vendors.result.get_asset_materialization_events():
        source = event.asset_key.path[0].removeprefix("raw_")
        if source not in ABSENT:
            continue
        metadata = event.materialization.metadata
        assert metadata["source_status"].value == "not configured", event.asset_key
        assert f"SOURCES__{source.upper()}__" in metadata["reason"].value
    schemas = {
        s
        for (s,) in job_without_vendors.rows("select schema_name from information_schema.schemata")
    }
    assert not schemas & {f"raw_{source}" for source in ABSENT}
    assert {f"raw_{source}" for source in CONFIGURED} <= schemas


def test_the_coverage_mart_says_what_the_numbers_rest_on(job_without_vendors: Run):
    coverage = {
        source: (configured, available, status)
        for source, configured, available, status in job_without_vendors.rows(
            "select source, is_configured, is_available, last_load_status "
            "from marts.mart_source_coverage"
        )
    }
    assert coverage == {
        **{source: (True, True, "loaded") for source in CONFIGURED},
        **{source: (False, False, "not_configured") for source in ABSENT},
    }
    # An absent source is not a stale one: no source's latest load failed.
    assert job_without_vendors.rows(
        "select count(*) filter (where is_stale), count(*) from marts.mart_source_coverage"
    ) == [(0, len(CONFIGURED) + len(ABSENT))]
    assert job_without_vendors.rows(
        "select distinct stale_sources from marts.mart_outcome_board"
    ) == [(None,)]


def test_figures_that_need_pagerduty_are_null_and_spend_is_not(job_without_vendors: Run):
    dora = job_without_vendors.rows(
        "select change_failure_rate, unavailable_reason from marts.mart_dora"
    )
    assert dora and all(rate is None for rate, _ in dora)
    assert all("PagerDuty is not available" in reason for _, reason in dora)
    spend = job_without_vendors.rows(
        "select sum(attributed_spend_usd), count(*) filter (where unavailable_reason is null) "
        "from marts.mart_cost_per_outcome"
    )
    (total, computable) = spend[0]
    assert total > 0 and computable > 0


def _step_metadata(run: Run, step: str) -> dict[dg.AssetKey, dict]:
    """Each asset the step materialized, its metadata (the same for each partition)."""
    return {
        e.asset_key: {k: v.value for k, v in e.materialization.metadata.items()}
        for e in run.result.get_asset_materialization_events()
        if e.step_key == step
    }


def test_the_progress_is_a_line_per_source_and_stage_with_the_runs_counts(
    job_without_vendors: Run,
):
    run = job_without_vendors
    loads = load_lines(run.out)
    assert sorted(loads) == sorted(SOURCES)
    for source in ABSENT:
        assert loads[source]["status"] == "skipped"
        assert f"{source} is not configured (SOURCES__{source.upper()}__" in run.out
    for source in CONFIGURED:
        line, metadata = loads[source], _step_metadata(run, source).values()
        assert line["status"] == "ok"
        # A new warehouse: the rows loaded are what the source's raw tables hold.
        tables = run.rows(
            "select table_name from information_schema.tables "
            f"where table_schema = '{SOURCES[source].dataset}' and table_name not like '_dlt%'"
        )
        held = sum(
            run.rows(f"select count(*) from {SOURCES[source].dataset}.{table}")[0][0]
            for (table,) in tables
        )
        assert figure(line, "rows") == held > 0, source
        assert {figure(line, "requests")} == {m["api_requests"] for m in metadata}, source

    stages = [
        line
        for line in run.out.splitlines()
        if line.startswith("dbt ") and not line.startswith("dbt docs")
    ]
    assert [line[:20].strip() for line in stages] == [
        "dbt foundation",
        "dbt daily spend",
        "dbt outcomes",
    ]
    for line in stages:
        step = line[:20].strip().replace(" ", "_")
        kinds = [str(m["unique_id"]).split(".")[0] for m in _step_metadata(run, step).values()]
        events = [e for e in run.result.all_events if e.step_key == step]
        # The tests: Dagster's checks, and those dbt ran outside its check selection, as an
        # observation on each model they read (pipelines/orchestration/dbt/assets.py).
        tests = {
            (e.asset_key, e.asset_check_evaluation_data.check_name)
            for e in events
            if e.event_type_value == "ASSET_CHECK_EVALUATION"
        } | {
            e.asset_observation_data.asset_observation.metadata["unique_id"].value
            for e in events
            if e.is_asset_observation
        }
        assert line[21:].startswith(f"ok      {kinds.count('model')} model"), line
        assert f" {len(tests)} tests" in line, line

    # The serving steps: the dbt docs' page, and the publication's marts and rows.
    [docs] = [line for line in run.out.splitlines() if line.startswith("dbt docs")]
    assert docs.startswith("dbt docs             ok      -> ") and "static_index.html" in docs
    [publish] = [line for line in run.out.splitlines() if line.startswith("publish ")]
    [published] = _step_metadata(run, "publication").values()
    assert publish.startswith(
        f"publish              ok      {published['tables']} marts  {published['rows']:,} rows  "
        f"-> {published['path']}"
    ), publish

    gx = [e for e in run.result.get_asset_check_evaluations() if e.check_name.startswith("gx_")]
    checks = [line for line in run.out.splitlines() if line.startswith("check ")]
    assert checks[0] == f"check gx suites      ok      {len(gx)} passed"
    assert [line[:20].strip() for line in checks] == [
        "check gx suites",
        "check quarantine",
        "check freshness",
        "check source loads",
    ]
    assert run.out.splitlines()[-1] == checks[-1]  # the checks end the run
    for text in (run.out, run.err):
        assert "STEP_START" not in text and "DEBUG" not in text
