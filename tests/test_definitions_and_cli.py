"""The Dagster definitions as `dagster` loads them, and the library functions behind the
command line. (The job itself runs in test_daily_schedule.py.)"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import dagster as dg
import duckdb
import pytest

from org_simulator.credentials import SIM_CREDENTIALS
from org_simulator.server import SimulatorServer
from pipelines.ingest.loads import run_load
from pipelines.orchestration.definitions import build_definitions
from pipelines.sources import SOURCES
from tests.daily_job import TEST_SETTINGS
from tests.definition_keys import SNAPSHOT, definition_keys

REPO_ROOT = Path(__file__).resolve().parents[1]
TOKEN = SIM_CREDENTIALS["github"]
RAW_PRS = dg.AssetKey(["raw_github", "pull_requests"])
STG_PRS = dg.AssetKey(["staging", "stg_github__pull_requests"])
GX_CHECK = dg.AssetCheckKey(STG_PRS, "gx_stg_github__pull_requests")


def _github_env(mp: pytest.MonkeyPatch, sim: SimulatorServer, token: str = TOKEN) -> None:
    mp.setenv("SOURCES__GITHUB__BASE_URL", sim.base_url("github"))
    mp.setenv("SOURCES__GITHUB__ACCESS_TOKEN", token)
    mp.setenv("SOURCES__GITHUB__REPOSITORIES", json.dumps(sim.repositories()))


def _rows(path: Path, sql: str) -> list[tuple]:
    with duckdb.connect(str(path), read_only=True) as con:
        return con.execute(sql).fetchall()


def _scalar(path: Path, sql: str):
    with duckdb.connect(str(path), read_only=True) as con:
        return con.execute(sql).fetchone()[0]


def _copy_db(src: Path, dst: Path) -> Path:
    shutil.copy(src, dst)
    wal = src.with_name(src.name + ".wal")
    if wal.exists():
        shutil.copy(wal, dst.with_name(dst.name + ".wal"))
    return dst


@pytest.fixture(scope="module", autouse=True)
def workspace_validation(tmp_path_factory: pytest.TempPathFactory) -> Iterator[subprocess.Popen]:
    """`dagster definitions validate -w workspace.yaml`, started first to overlap the tests."""
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


# --- definitions ---------------------------------------------------------------------------


def test_every_asset_check_job_schedule_and_sensor_key_is_in_the_snapshot():
    keys, expected = definition_keys(), SNAPSHOT.read_text(encoding="utf-8").splitlines()
    added, gone = sorted(set(keys) - set(expected)), sorted(set(expected) - set(keys))
    assert (added, gone) == ([], []), (
        "definition keys changed; if intended: .venv/bin/python -m tests.definition_keys --update"
    )


def test_definitions_asset_keys_and_lineage():
    defs = build_definitions(TEST_SETTINGS)
    graph = defs.resolve_asset_graph()
    assert {RAW_PRS, STG_PRS} <= set(graph.get_all_asset_keys())
    # the dbt source's meta.dagster.asset_key joins dbt to the dlt asset
    assert graph.get(STG_PRS).parent_keys == {RAW_PRS}
    assert GX_CHECK in graph.asset_check_keys
    assert graph.get_check_spec(GX_CHECK).blocking
    job = defs.resolve_job_def("daily_warehouse_job")
    assert {RAW_PRS, STG_PRS} <= set(job.asset_layer.executable_asset_keys)


# Imports every module of `pipelines` in a process whose dbt project (argv[1]) has no
# manifest and whose every project setting is broken, then loads the code location as
# `dagster` does (`defs()`); prints the error that load raised.
IMPORT_ALL_THEN_LOAD = """
import importlib, pkgutil, sys
from pathlib import Path

import pipelines.project_files

pipelines.project_files.DBT_PROJECT_DIR = Path(sys.argv[1])  # read by the modules as imported
import pipelines
for module in pkgutil.walk_packages(pipelines.__path__, "pipelines."):
    if not module.name.endswith("__main__"):
        importlib.import_module(module.name)
assert not (Path(sys.argv[1]) / "target").exists(), "an import ran dbt"
print("imported")
from pipelines.orchestration.definitions import defs
try:
    defs()
except Exception as exc:
    print(type(exc).__name__, exc)
"""
BROKEN_SETTINGS = {
    "AOW_DUCKDB_PATH": "/no/such/directory/warehouse.duckdb",
    "AOW_CREATE_WAREHOUSE": "yes",
    "AOW_SEEDS_DIR": "/no/such/seeds",
    "AOW_TIMEZONE": "Mars/Olympus",
    "AOW_PARTITIONS_START": "2025-13-01",
    "AOW_AS_OF": "tomorrow",
    "AOW_SCHEDULE_CRON": "at six",
    "AOW_SOURCE_RETRY_DELAY": "soon",
    "AOW_QUARANTINE_MAX_SHARE": "5%",
}


def test_importing_the_definitions_does_no_work(tmp_path: Path):
    """No dbt parse and no setting read on import: the work is `defs()`'s, which `dagster`
    calls as it loads the code location, and which names every broken setting."""
    project = tmp_path / "dbt_project"
    shutil.copytree(
        REPO_ROOT / "dbt_project", project, ignore=shutil.ignore_patterns("target", "logs")
    )
    temp = tmp_path / "tmp"  # where the dlt asset specs would be built
    temp.mkdir()
    env = {k: v for k, v in os.environ.items() if not k.startswith("AOW_")}
    done = subprocess.run(
        [sys.executable, "-c", IMPORT_ALL_THEN_LOAD, str(project)],
        cwd=REPO_ROOT,
        env={**env, **BROKEN_SETTINGS, "TMPDIR": str(temp)},
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    imported, error = done.stdout.splitlines()[-2:]
    assert imported == "imported"
    assert error.startswith("SettingError ")
    for name in BROKEN_SETTINGS:
        assert f"{name}: expected " in error, name
    # The load stopped at the settings: still no dbt run, no asset built.
    assert not (project / "target").exists()
    assert list(temp.iterdir()) == []


# --- the CLI-facing functions -----------------------------------------------------------------


# A full GitHub load twice (about 30 s): tests/sources covers the same per vendor.
@pytest.mark.slow
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


def test_build_models_and_run_checks(built_org, tmp_path: Path):
    from pipelines.quality import run_checks
    from pipelines.transform.dbt_runner import build_models

    warehouse = _copy_db(built_org.warehouse, tmp_path / "copy.duckdb")
    built = build_models(warehouse, select="staging")
    assert built.success, built
    staging_prs = "model.ai_outcomes_warehouse.stg_github__pull_requests"
    assert {n.unique_id for n in built.nodes} >= {staging_prs}
    results = run_checks(warehouse, suites=["stg_github__pull_requests"])
    assert results["stg_github__pull_requests"].success
    assert results["stg_github__pull_requests"].rows_validated == _scalar(
        built_org.store, "select count(*) from gh_pull_requests"
    )


def test_check_command_keeps_its_results(built_org, tmp_path: Path, capsys):
    from pipelines.cli import main

    warehouse = _copy_db(built_org.warehouse, tmp_path / "checked.duckdb")
    assert main(["check", "--duckdb", str(warehouse)]) == 0
    suites = len(list((REPO_ROOT / "expectations").glob("*.json")))
    assert re.search(
        rf"^check gx suites +ok +{suites} passed +[\d.]+ s$", capsys.readouterr().out, re.M
    )
    with duckdb.connect(str(warehouse)) as con:
        con.execute("update raw_github.pull_requests set state = 'exploded' where number = 1")
    assert main(["check", "--duckdb", str(warehouse)]) == 1
    out = capsys.readouterr().out
    assert "FAIL  raw_github__pull_requests" in out and "exploded" in out
    tally = re.search(r"^check gx suites +FAILED +(\d+) passed, (\d+) failed \(\w+: ", out, re.M)
    assert tally, out
    # The raw table's suite, and those of the models that read it.
    assert int(tally[1]) + int(tally[2]) == suites and int(tally[2]) >= 1
    history = _rows(
        warehouse,
        "select run_id, bool_and(success), count(*) from quality.gx_results "
        "group by run_id order by min(checked_at)",
    )
    assert [(ok, n) for _run, ok, n in history] == [(True, suites), (False, suites)]
    assert all(run.startswith("cli-") for run, _ok, _n in history)


def test_every_load_is_recorded_in_the_warehouse(built_org):
    """ops.source_loads: one `loaded` row per source of the organisation's load, with the
    rows it wrote; the coverage models read it."""
    rows = _rows(
        built_org.warehouse,
        "select source, status, detail, rows_loaded from ops.source_loads order by source",
    )
    assert [(source, status, detail) for source, status, detail, _ in rows] == [
        (source, "loaded", None) for source in sorted(SOURCES)
    ]
    github = json.loads(dict((r[0], r[3]) for r in rows)["github"])
    assert github["pull_requests"] == _scalar(
        built_org.store, "select count(*) from gh_pull_requests"
    )


def test_a_source_that_is_not_configured_is_not_loaded(tmp_path: Path, monkeypatch, capsys):
    from pipelines.cli import main

    monkeypatch.chdir(tmp_path)  # no .dlt/ config here
    for key in [k for k in os.environ if k.startswith("SOURCES__")]:
        monkeypatch.delenv(key)
    warehouse = tmp_path / "w.duckdb"
    assert main(["ingest", "openai", "--duckdb", str(warehouse), "--create"]) == 0
    assert capsys.readouterr().out.startswith(
        "load openai          skipped  openai is not configured"
    )
    assert _rows(warehouse, "select source, status from ops.source_loads") == [
        ("openai", "not_configured")
    ]

    # Some settings but not all is a configuration error, not an absent vendor.
    monkeypatch.setenv("SOURCES__JIRA__EMAIL", "svc@example.com")
    assert main(["ingest", "jira", "--duckdb", str(warehouse)]) == 1
    err = capsys.readouterr().err
    assert "missing configuration SOURCES__JIRA__BASE_URL" in err
    assert "SOURCES__JIRA__EMAIL" not in err.split("missing configuration", 1)[1]
    assert _rows(warehouse, "select status from ops.source_loads where source = 'jira'") == [
        ("failed",)
    ]


def test_transform_takes_vars_full_refresh_and_a_seeds_directory(built_org, tmp_path: Path, capsys):
    from pipelines.cli import main

    warehouse = _copy_db(built_org.warehouse, tmp_path / "t.duckdb")
    org = ["--seeds-dir", str(built_org.settings.seeds_dir), "--as-of", built_org.settings.as_of]
    person_rows = "select count(*) from marts.mart_outcome_board where person_id is not null"
    before = _scalar(warehouse, person_rows)
    select = "int_reporting_groups mart_outcome_board"  # the groups decide who gets person rows
    board = ["transform", "--duckdb", str(warehouse), "--select", select, *org]
    assert main([*board, "--vars", "{min_group_size: 1}"]) == 0
    assert _scalar(warehouse, person_rows) > before

    # An incremental model keeps what it holds outside its look-back; --full-refresh rebuilds.
    oldest = "select min(day) from intermediate.int_ai_spend"
    with duckdb.connect(str(warehouse)) as con:
        first_day = con.execute(oldest).fetchone()[0]
        con.execute("delete from intermediate.int_ai_spend where day = ?", [first_day])
    spend = ["transform", "--duckdb", str(warehouse), "--select", "int_ai_spend", *org]
    assert main(spend) == 1  # the reconciliation test sees the day missing
    assert _scalar(warehouse, oldest) > first_day
    assert main([*spend, "--full-refresh"]) == 0
    assert _scalar(warehouse, oldest) == first_day


# Last: by now the validation, started with the module, has had time to finish.
def test_workspace_validates(workspace_validation: subprocess.Popen):
    output, _ = workspace_validation.communicate(timeout=240)
    assert workspace_validation.returncode == 0, output[-3000:]
