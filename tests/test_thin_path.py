"""The thin end-to-end path: simulator -> dlt -> DuckDB -> dbt staging -> GX asset check,
all materialized by the Dagster job, plus the CLI-facing library functions."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import dagster as dg
import duckdb
import pytest

from pipelines.definitions import defs
from pipelines.loads import run_load
from pipelines.simulator.credentials import SIM_CREDENTIALS
from pipelines.simulator.seeds import simulated_org_env
from pipelines.simulator.server import SimulatorServer
from pipelines.simulator.sources_env import simulator_sources_env

REPO_ROOT = Path(__file__).resolve().parents[1]
TOKEN = SIM_CREDENTIALS["github"]
RAW_PRS = dg.AssetKey(["raw_github", "pull_requests"])
STG_PRS = dg.AssetKey(["staging", "stg_github__pull_requests"])
GX_CHECK = dg.AssetCheckKey(STG_PRS, "gx_stg_github__pull_requests")


@dataclass
class Run:
    result: dg.ExecuteInProcessResult
    warehouse: Path
    store: Path


def _github_env(mp: pytest.MonkeyPatch, sim: SimulatorServer, token: str = TOKEN) -> None:
    mp.setenv("SOURCES__GITHUB__BASE_URL", sim.base_url("github"))
    mp.setenv("SOURCES__GITHUB__ACCESS_TOKEN", token)
    mp.setenv("SOURCES__GITHUB__REPOSITORIES", json.dumps(sim.repositories()))


def _scalar(path: Path, sql: str):
    with duckdb.connect(str(path), read_only=True) as con:
        return con.execute(sql).fetchone()[0]


def _copy_db(src: Path, dst: Path) -> Path:
    shutil.copy(src, dst)
    wal = src.with_name(src.name + ".wal")
    if wal.exists():
        shutil.copy(wal, dst.with_name(dst.name + ".wal"))
    return dst


def _run_job(**kwargs) -> dg.ExecuteInProcessResult:
    job = defs.resolve_job_def("daily_warehouse_job")
    return job.execute_in_process(
        instance=dg.DagsterInstance.ephemeral(), raise_on_error=False, **kwargs
    )


@pytest.fixture(scope="module")
def workspace_validation(tmp_path_factory: pytest.TempPathFactory) -> Iterator[subprocess.Popen]:
    """`dagster definitions validate -w workspace.yaml`, started early to overlap the job run."""
    # Without DAGSTER_HOME the CLI makes a temporary instance inside the repository.
    dagster_home = tmp_path_factory.mktemp("dagster_home")
    proc = subprocess.Popen(
        [str(Path(sys.executable).with_name("dagster")), "definitions", "validate"]
        + ["-w", "workspace.yaml"],
        cwd=REPO_ROOT,
        env={**os.environ, "DAGSTER_HOME": str(dagster_home)},
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    yield proc
    proc.kill()
    proc.communicate()


@pytest.fixture(scope="module")
def job_run(
    tiny_store: Path, tmp_path_factory: pytest.TempPathFactory, workspace_validation
) -> Iterator[Run]:
    """One run of the whole job against a fresh warehouse, shared by the module's tests."""
    warehouse = tmp_path_factory.mktemp("warehouse") / "warehouse.duckdb"
    with SimulatorServer(tiny_store) as sim, pytest.MonkeyPatch.context() as mp:
        for key, value in {
            **simulator_sources_env(sim),
            **simulated_org_env(tiny_store),  # dbt: this organisation's seeds and clock
        }.items():
            mp.setenv(key, value)
        mp.setenv("AOW_DUCKDB_PATH", str(warehouse))
        # one checkpointed run per repository, so the step aggregates several dlt runs
        mp.setenv("SOURCES__GITHUB__REPOSITORIES_PER_RUN", "1")
        yield Run(_run_job(), warehouse, tiny_store)


# --- definitions ---------------------------------------------------------------------------


def test_definitions_asset_keys_and_lineage():
    graph = defs.resolve_asset_graph()
    assert {RAW_PRS, STG_PRS} <= set(graph.get_all_asset_keys())
    # the dbt source's meta.dagster.asset_key joins dbt to the dlt asset
    assert graph.get(STG_PRS).parent_keys == {RAW_PRS}
    assert GX_CHECK in graph.asset_check_keys
    assert graph.get_check_spec(GX_CHECK).blocking
    job = defs.resolve_job_def("daily_warehouse_job")
    assert {RAW_PRS, STG_PRS} <= set(job.asset_layer.executable_asset_keys)


# --- the job ---------------------------------------------------------------------------------


def test_job_succeeds(job_run: Run):
    assert job_run.result.success
    materialized = {
        e.asset_key for e in job_run.result.get_asset_materialization_events() if e.asset_key
    }
    assert {RAW_PRS, STG_PRS} <= materialized


def test_raw_rows_match_store(job_run: Run):
    expected = _scalar(job_run.store, "select count(*) from gh_pull_requests")
    assert expected > 0
    (event,) = [
        e for e in job_run.result.get_asset_materialization_events() if e.asset_key == RAW_PRS
    ]
    metadata = event.materialization.metadata
    # one materialization for the whole load, its rows summed over the checkpointed runs
    assert metadata["rows_loaded"].value == expected
    repos = _scalar(job_run.store, "select count(*) from gh_repositories")
    assert metadata["dlt_runs"].value == repos > 1
    assert "merged_at" in {c.name for c in metadata["dagster/column_schema"].value.columns}
    assert _scalar(job_run.warehouse, "select count(*) from raw_github.pull_requests") == expected
    assert (
        _scalar(job_run.warehouse, "select count(distinct id) from raw_github.pull_requests")
        == expected
    )


def test_staging_view_matches_store(job_run: Run):
    fields = (
        "pull_request_number, repo_full_name, pull_request_title, pull_request_body, "
        "author_login, head_ref, base_ref, created_at, closed_at, merged_at, "
        "pull_request_state, label_names"
    )
    with duckdb.connect(str(job_run.warehouse), read_only=True) as con:
        kind = con.execute(
            "select table_type from information_schema.tables "
            "where table_schema = 'staging' and table_name = 'stg_github__pull_requests'"
        ).fetchone()
        assert kind == ("VIEW",)
        staged = {
            row[0]: row[1:]
            for row in con.execute(
                f"select pull_request_id, {fields} from staging.stg_github__pull_requests"
            ).fetchall()
        }
    with duckdb.connect(str(job_run.store), read_only=True) as con:
        truth = {
            row[0]: row[1:]
            for row in con.execute(
                # the API speaks whole seconds, like GitHub
                "select id, number, repo_full_name, title, body, author_login, head_ref, "
                "base_ref, date_trunc('second', created_at), date_trunc('second', closed_at), "
                "date_trunc('second', merged_at), "
                "case when closed_at is null then 'open' else 'closed' end, labels "
                "from gh_pull_requests"
            ).fetchall()
        }
    assert staged.keys() == truth.keys()
    for pr_id, want in truth.items():
        got = staged[pr_id]
        assert got[:-1] == want[:-1], pr_id
        assert json.loads(got[-1]) == json.loads(want[-1]), pr_id


def test_checks_passed(job_run: Run):
    evaluations = {e.asset_check_key: e for e in job_run.result.get_asset_check_evaluations()}
    assert evaluations[GX_CHECK].passed, evaluations[GX_CHECK].metadata
    assert evaluations[GX_CHECK].metadata["failed_expectations"].value == []
    # dbt's own data tests arrive as asset checks too
    dbt_tests = {k.name for k in evaluations if k.name != GX_CHECK.name}
    assert {
        "unique_stg_github__pull_requests_pull_request_id",
        "not_null_stg_github__pull_requests_pull_request_id",
    } <= dbt_tests
    assert all(e.passed for e in evaluations.values())


def test_secrets_never_reach_warehouse_or_events(job_run: Run):
    secrets = [v for k, v in SIM_CREDENTIALS.items() if k != "jira_email"]
    for path in job_run.warehouse.parent.iterdir():
        content = path.read_bytes()
        for secret in secrets:
            assert secret.encode() not in content, (path, secret)
    events = "\n".join(repr(e) for e in job_run.result.all_events)
    for secret in secrets:
        assert secret not in events


def test_check_fails_on_corrupt_row(job_run: Run, tmp_path: Path, monkeypatch):
    corrupt = _copy_db(job_run.warehouse, tmp_path / "corrupt.duckdb")
    with duckdb.connect(str(corrupt)) as con:
        bad_id = con.execute(
            "update raw_github.pull_requests set state = 'exploded' "
            "where id = (select min(id) from raw_github.pull_requests) returning id"
        ).fetchone()[0]
    monkeypatch.setenv("AOW_DUCKDB_PATH", str(corrupt))
    job = defs.resolve_job_def("daily_warehouse_job")
    check_op = next(n.name for n in job.nodes if n.name.endswith(GX_CHECK.name))
    result = _run_job(op_selection=[check_op])

    assert not result.success  # blocking: a failed suite fails the step, so the run
    (evaluation,) = result.get_asset_check_evaluations()
    assert evaluation.asset_check_key == GX_CHECK
    assert not evaluation.passed
    assert evaluation.severity == dg.AssetCheckSeverity.ERROR
    failed = evaluation.metadata["failed_expectations"].value
    assert "expect_column_values_to_be_in_set(pull_request_state)" in failed
    failure = next(
        f
        for f in evaluation.metadata["failures"].value
        if f["expectation"] == "expect_column_values_to_be_in_set"
    )
    assert failure["unexpected_count"] == 1
    assert failure["sample_rows"] == [{"pull_request_id": bad_id, "pull_request_state": "exploded"}]


# --- the CLI-facing functions -----------------------------------------------------------------


def test_run_load_is_incremental_and_fails_without_leaking(
    tiny_store: Path, tmp_path: Path, monkeypatch
):
    warehouse = tmp_path / "cli.duckdb"
    expected = _scalar(tiny_store, "select count(*) from gh_pull_requests")
    with SimulatorServer(tiny_store) as sim:
        _github_env(monkeypatch, sim)
        assert run_load("github", warehouse)["pull_requests"] == expected

        # Second run: cursors restored from the warehouse; one page per list per repo, and
        # nothing unchanged is written again.
        sim.reset_stats()
        assert run_load("github", warehouse) == {}
        routes = ("repo", "pulls", "review_comments", "issue_comments", "deployments", "runs")
        repos = len(sim.repositories())
        assert sim.stats()["by_route"] == {f"github.{r}": repos for r in routes}
        assert _scalar(warehouse, "select count(*) from raw_github.pull_requests") == expected

        wrong = "not-the-token-0123456789"
        _github_env(monkeypatch, sim, token=wrong)
        with pytest.raises(Exception) as excinfo:
            run_load("github", tmp_path / "denied.duckdb")
    assert "401" in str(excinfo.value)
    assert wrong not in str(excinfo.value) and wrong not in repr(excinfo.value)


def test_build_models_and_run_checks(job_run: Run, tmp_path: Path):
    from pipelines.quality import run_checks
    from pipelines.transform import build_models

    warehouse = _copy_db(job_run.warehouse, tmp_path / "copy.duckdb")
    built = build_models(warehouse, select="staging")
    assert built.success, built
    assert {n.unique_id for n in built.nodes} >= {"model.ai_outcomes.stg_github__pull_requests"}
    results = run_checks(warehouse)
    assert set(results) == {"stg_github__pull_requests"}
    assert results["stg_github__pull_requests"].success
    assert results["stg_github__pull_requests"].rows_validated == _scalar(
        job_run.store, "select count(*) from gh_pull_requests"
    )


# Last: by now the validation, started with the job run, has had time to finish.
def test_workspace_validates(workspace_validation: subprocess.Popen):
    output, _ = workspace_validation.communicate(timeout=240)
    assert workspace_validation.returncode == 0, output[-3000:]
