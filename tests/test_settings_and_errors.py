"""Clear, early errors: every setting checked before a request, named as it is set; no new
warehouse (or directory) without `--create`; seed files checked by file, line and column;
one line per expected failure on the command line, the traceback only with `--debug`."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from dataclasses import fields as dc_fields
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import duckdb
import pytest

from org_simulator.server import SimulatorServer
from org_simulator.sources_env import simulator_sources_env
from pipelines.cli import main
from pipelines.settings import (
    PROJECT_RULES,
    SERVER_FIELDS,
    SETTING_FIELDS,
    SOURCE_RULES,
    SettingError,
    Settings,
    problem,
    read_settings,
    source_setting_name,
)
from pipelines.sources import SOURCES
from pipelines.sources.configuration import (
    SourceSettingsInvalid,
    settings,
    source_configuration,
)
from pipelines.transform.org_seeds import DEFAULT_SEEDS_DIR, SeedError, check_seed_files, seed_files
from pipelines.warehouse.engines import Postgres, Spark

REPO_ROOT = Path(__file__).resolve().parents[1]
FUTURE = (datetime.now(UTC) + timedelta(days=30)).date().isoformat()

# (source, setting, value, what the message must say besides the setting's name)
BAD_SETTINGS = [
    ("github", "REPOSITORIES", '[acme/api"]', "not JSON"),
    ("github", "REPOSITORIES", '"acme/api"', "a JSON str, not a list"),
    ("github", "REPOSITORIES", '["acme"]', "item 'acme' is not an \"owner/name\""),
    ("github", "REPOSITORIES", "[]", "an empty list"),
    ("github", "START_DATE", "2026-13-01", "not an ISO date"),
    ("github", "START_DATE", FUTURE, "in the future"),
    ("github", "CONCURRENCY", "four", "not a whole number"),
    ("github", "PER_PAGE", "500", "out of range"),
    ("github", "MAX_WAIT_SECONDS", "-1", "out of range"),
    ("github", "REPOSITORIES_PER_RUN", "0", "out of range"),
    ("github", "REPOSITORIES_PER_INCREMENTAL_RUN", "none", "not a whole number"),
    ("github", "BASE_URL", "api.github.com", "not an http(s) URL"),
    ("github", "PRODUCTION_ENVIRONMENTS", "production", "not JSON"),
    ("jira", "PROJECTS", "PAY", "not JSON"),
    ("jira", "PROJECTS", '["pay"]', "not a Jira project key"),
    ("jira", "LOOKBACK_MINUTES", "1h", "not a whole number"),
    ("jira", "CAUSED_BY_FIELD", "Caused by", "not a custom field id"),
    ("jira", "EMAIL", "svc.example.com", "not an email address"),
    ("pagerduty", "START_DATE", "yesterday", "not an ISO date"),
    ("anthropic", "START_DATE", FUTURE, "in the future"),
    ("openai", "BASE_URL", "ftp://api.openai.com", "not an http(s) URL"),
]


def _errors(err: str) -> list[str]:
    return [line for line in err.splitlines() if line.startswith("error: ")]


@pytest.fixture
def sim_env(simulator: SimulatorServer, monkeypatch) -> SimulatorServer:
    """Every source configured, validly, against the simulator; nothing else set."""
    for key in [k for k in os.environ if k.startswith(("SOURCES__", "AOW_"))]:
        monkeypatch.delenv(key)
    for key, value in simulator_sources_env(simulator).items():
        monkeypatch.setenv(key, value)
    return simulator


def test_the_simulators_settings_pass_their_rules(sim_env):
    for spec in SOURCES.values():
        configuration = source_configuration(spec)
        assert configuration.complete and configuration.problems == (), spec.name


@pytest.mark.parametrize(("source", "setting", "value", "says"), BAD_SETTINGS)
def test_each_bad_setting_is_one_line_naming_it_and_nothing_happens(
    sim_env, tmp_path: Path, monkeypatch, capsys, source, setting, value, says
):
    name = f"SOURCES__{source.upper()}__{setting}"
    monkeypatch.setenv(name, value)
    warehouse = tmp_path / "w.duckdb"
    assert main(["ingest", source, "--duckdb", str(warehouse), "--create"]) == 2
    out, err = capsys.readouterr()
    [line] = _errors(err)
    assert line.startswith(f"error: {name}: expected ") and says in line, line
    assert "Traceback" not in err and out == ""
    assert sim_env.stats()["total"] == 0  # not one request
    assert list(tmp_path.iterdir()) == []  # no warehouse, no lock file


def test_a_secret_is_named_but_never_shown(sim_env, tmp_path: Path, monkeypatch, capsys):
    monkeypatch.setenv("SOURCES__PAGERDUTY__API_KEY", "pd-key-1234\n")  # pasted with its newline
    assert main(["ingest", "pagerduty", "--duckdb", str(tmp_path / "w.duckdb"), "--create"]) == 2
    [line] = _errors(capsys.readouterr().err)
    assert line.startswith("error: SOURCES__PAGERDUTY__API_KEY: expected a key without spaces")
    assert "pd-key-1234" not in line and "a secret" in line


def test_every_broken_setting_is_named_at_once(sim_env, tmp_path: Path, monkeypatch, capsys):
    monkeypatch.setenv("SOURCES__GITHUB__REPOSITORIES", "acme/api")
    monkeypatch.setenv("SOURCES__GITHUB__START_DATE", FUTURE)
    assert main(["ingest", "github", "--duckdb", str(tmp_path / "w.duckdb"), "--create"]) == 2
    named = [line.split(":")[1].strip() for line in _errors(capsys.readouterr().err)]
    assert named == ["SOURCES__GITHUB__REPOSITORIES", "SOURCES__GITHUB__START_DATE"]


def test_a_load_refuses_a_bad_setting_and_records_it(sim_env, tmp_path: Path, monkeypatch):
    """The library path every Dagster source step takes: no request, a failed load recorded
    in the existing warehouse (the coverage mart reads it), an error naming the setting."""
    from pipelines.ingest.loads import run_load

    warehouse = tmp_path / "w.duckdb"
    duckdb.connect(str(warehouse)).close()
    monkeypatch.setenv("SOURCES__JIRA__PROJECTS", "PAY, CHK")
    with pytest.raises(SourceSettingsInvalid) as excinfo:
        run_load("jira", warehouse)
    assert str(excinfo.value).startswith("SOURCES__JIRA__PROJECTS: expected a JSON list")
    assert sim_env.stats()["total"] == 0
    with duckdb.connect(str(warehouse), read_only=True) as con:
        rows = con.execute("select source, status, detail from ops.source_loads").fetchall()
    assert rows == [("jira", "failed", str(excinfo.value))]


def test_settings_as_toml_gives_them_pass():
    """.dlt/*.toml gives lists and dates as values, not text."""
    assert problem("X", SOURCE_RULES["repositories"], ["acme/api", "acme/web"]) is None
    assert problem("X", SOURCE_RULES["start_date"], date(2026, 1, 1)) is None
    assert problem("X", SOURCE_RULES["concurrency"], 4) is None
    assert "a boolean" in problem("X", SOURCE_RULES["concurrency"], True)


def test_every_setting_has_a_rule_and_is_documented():
    """A source argument without a rule would go unchecked (source_problems raises on it)
    and docs/operations.md would not list it."""
    docs = (REPO_ROOT / "docs" / "operations.md").read_text()
    table = docs[docs.index("## Settings and their checks") :]
    for spec in SOURCES.values():
        for setting in settings(spec):
            assert setting in SOURCE_RULES, (spec.name, setting)
            assert f"`{setting.upper()}`" in table, setting
    for setting, rule in SOURCE_RULES.items():
        assert rule.expected in table, setting
    for name, rule in PROJECT_RULES.items():
        assert f"`{name}`" in table and rule.expected in table, name
    # Every project setting fills one field of Settings, and every field is one setting's.
    servers = {name for fields in SERVER_FIELDS.values() for name in fields}
    assert set(SETTING_FIELDS) | servers == set(PROJECT_RULES)
    assert sorted([*(field for field, _ in SETTING_FIELDS.values()), "server"]) == sorted(
        Settings.__dataclass_fields__
    )
    for engine, fields in SERVER_FIELDS.items():  # each server setting is a field of its class
        server = {"postgres": Postgres, "spark": Spark}[engine]
        assert sorted(f for f, _ in fields.values()) == sorted(f.name for f in dc_fields(server))
    assert source_setting_name("github", "start_date") == "SOURCES__GITHUB__START_DATE"


# --- the warehouse path --------------------------------------------------------------------


def test_a_missing_directory_is_named_and_not_created(sim_env, tmp_path: Path, capsys):
    typo = tmp_path / "wharehouse" / "w.duckdb"
    for command in (["ingest", "pagerduty"], ["transform"], ["check"]):
        create = ["--create"] if command[0] != "check" else []
        assert main([*command, "--duckdb", str(typo), *create]) == 2
        [line] = _errors(capsys.readouterr().err)
        assert f"the directory {typo.parent} of the warehouse" in line and "does not exist" in line
    assert list(tmp_path.iterdir()) == []
    assert sim_env.stats()["total"] == 0


def test_a_new_warehouse_needs_create(sim_env, tmp_path: Path, capsys):
    warehouse = tmp_path / "new.duckdb"
    for command in (["ingest", "pagerduty"], ["transform"], ["check"]):
        assert main([*command, "--duckdb", str(warehouse)]) == 2
        [line] = _errors(capsys.readouterr().err)
        assert f"the warehouse {warehouse} does not exist" in line
    assert list(tmp_path.iterdir()) == []

    assert main(["ingest", "pagerduty", "--duckdb", str(warehouse), "--create"]) == 0
    assert warehouse.exists()
    assert main(["ingest", "pagerduty", "--duckdb", str(warehouse)]) == 0  # exists now


def test_the_warehouse_is_the_settings_unless_given(sim_env, tmp_path: Path, monkeypatch, capsys):
    """Without --duckdb a command works on AOW_DUCKDB_PATH's warehouse, which must exist unless
    AOW_CREATE_WAREHOUSE=1, as for the Dagster runs."""
    warehouse = tmp_path / "set.duckdb"
    monkeypatch.setenv("AOW_DUCKDB_PATH", str(warehouse))
    assert main(["ingest", "pagerduty", "--create"]) == 2
    [line] = _errors(capsys.readouterr().err)
    assert line.startswith("error: AOW_DUCKDB_PATH: expected an existing warehouse file")
    assert list(tmp_path.iterdir()) == [] and sim_env.stats()["total"] == 0

    monkeypatch.setenv("AOW_CREATE_WAREHOUSE", "1")
    assert main(["ingest", "pagerduty", "--create"]) == 0
    progress, *tables, into = capsys.readouterr().out.splitlines()
    assert into == f"  into {warehouse} (schema raw_pagerduty)"
    (rows_loaded,) = (
        duckdb.connect(str(warehouse), read_only=True)
        .execute("select rows_loaded from ops.source_loads")
        .fetchone()
    )
    rows = sum(json.loads(rows_loaded).values())
    assert len(tables) == len(json.loads(rows_loaded)) > 0
    requests = sim_env.stats()["total"]
    assert re.fullmatch(
        rf"load pagerduty +ok +{rows:,} rows  {requests:,} requests  [\d.]+ s", progress
    )
    assert main(["ingest", "pagerduty"]) == 0  # exists now


def test_the_writer_lock_creates_no_directory(tmp_path: Path):
    from pipelines.warehouse.lock import writer_lock
    from pipelines.warehouse.path import WarehouseMissing

    lock = writer_lock(tmp_path / "typo" / "w.duckdb", "test")
    with pytest.raises(WarehouseMissing, match="does not exist"), lock:
        pass
    assert list(tmp_path.iterdir()) == []


# --- seeds -----------------------------------------------------------------------------------


@pytest.fixture
def seeds(tmp_path: Path) -> Path:
    """A copy of the project's seeds, to break."""
    return Path(shutil.copytree(DEFAULT_SEEDS_DIR, tmp_path / "seeds"))


def _edit(path: Path, line: int, old: str, new: str) -> None:
    lines = path.read_text(encoding="utf-8").splitlines()
    assert old in lines[line - 1]
    lines[line - 1] = lines[line - 1].replace(old, new, 1)
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


def _seed_problems(seeds: Path) -> list[str]:
    with pytest.raises(SeedError) as excinfo:
        check_seed_files(seed_files(seeds))
    return list(excinfo.value.problems)


def test_the_project_seeds_pass():
    check_seed_files(seed_files(DEFAULT_SEEDS_DIR))


def test_a_wrong_column_is_named_with_its_file(seeds: Path):
    _edit(seeds / "people.csv", 1, "github_login", "github_user")
    where = f"seed file {seeds / 'people.csv'}, line 1"
    assert _seed_problems(seeds) == [
        f"{where}: unknown column 'github_user' (the columns are: person_id, display_name, "
        "team, role, emails, github_login, jira_account_id, pagerduty_user_id, is_bot)",
        f"{where}: column 'github_login' is missing (the columns are: person_id, display_name, "
        "team, role, emails, github_login, jira_account_id, pagerduty_user_id, is_bot)",
    ]


def test_a_bad_value_is_named_by_file_line_and_column(seeds: Path):
    _edit(seeds / "ai_budgets.csv", 3, "2026-09-01", "2026-09-31")
    _edit(seeds / "people.csv", 4, ",false", ",yes please")
    assert _seed_problems(seeds) == [
        f"seed file {seeds / 'people.csv'}, line 4, column is_bot: 'yes please' is not a boolean",
        f"seed file {seeds / 'ai_budgets.csv'}, line 3, column period_start: '2026-09-31' "
        "is not a date",
    ]


def test_a_non_utf8_seed_and_a_short_row_are_named(seeds: Path):
    keys = seeds / "api_keys.csv"
    keys.write_bytes(keys.read_bytes().replace(b"p000001", "p00000é".encode("latin-1"), 1))
    _edit(seeds / "service_repos.csv", 2, ",acme/", "")
    problems = _seed_problems(seeds)
    assert problems == [
        f"seed file {keys}, line 3: not UTF-8 (byte 0xe9); save the file as UTF-8",
        f"seed file {seeds / 'service_repos.csv'}, line 2: 2 fields where the header has 3 "
        "(a comma inside a value needs double quotes)",
    ]


def test_transform_names_the_seed_before_dbt_runs(seeds: Path, tmp_path: Path, capsys):
    warehouse = tmp_path / "w.duckdb"
    duckdb.connect(str(warehouse)).close()
    _edit(seeds / "model_prices.csv", 2, "0.1000", "ten cents")
    argv = ["transform", "--duckdb", str(warehouse), "--seeds-dir", str(seeds)]
    assert main(argv) == 2
    out, err = capsys.readouterr()
    assert _errors(err) == [
        f"error: seed file {seeds / 'model_prices.csv'}, line 2, column usd_per_mtok: "
        "'ten cents' is not a decimal(12, 4)"
    ]
    assert "Traceback" not in err and out == ""
    with duckdb.connect(str(warehouse), read_only=True) as con:  # dbt never ran
        assert con.execute("select count(*) from information_schema.tables").fetchone() == (0,)

    assert main(["--debug", *argv]) == 2  # --debug: the traceback too
    assert "Traceback (most recent call last)" in capsys.readouterr().err


# --- failures of a run ---------------------------------------------------------------------


def test_check_on_a_warehouse_without_models_says_so(tmp_path: Path, capsys):
    warehouse = tmp_path / "w.duckdb"
    duckdb.connect(str(warehouse)).close()
    assert main(["check", "--duckdb", str(warehouse)]) == 1
    err = capsys.readouterr().err
    assert _errors(err) == [
        "error: the models are not built: run python -m pipelines transform first"
    ]
    assert "Traceback" not in err


def test_a_dbt_failure_is_its_node_and_message(tmp_path: Path, capsys):
    """A test whose parent model was never built: dbt's node and dbt's message, a few lines
    instead of dbt's log."""
    warehouse = tmp_path / "w.duckdb"
    duckdb.connect(str(warehouse)).close()
    assert main(["transform", "--duckdb", str(warehouse), "--select", "people"]) == 1
    out, err = capsys.readouterr()
    assert re.fullmatch(
        r"dbt build +FAILED +0 models, 1 seed, 1 test, 1 failed  [\d.]+ s", out.strip()
    ), out
    [line] = _errors(err)
    assert re.match(
        r"error: dbt error: test\.ai_outcomes_warehouse\."
        r"relationships_int_ai_spend_person_id__\S+: "
        r"Runtime Error in test .* Catalog Error: Table with name \"intermediate\.int_ai_spend\"",
        line,
    ), line
    assert len(err.splitlines()) == 2 and "Traceback" not in err


def test_the_dagster_warehouse_must_exist_unless_a_new_one_is_asked_for(tmp_path: Path):
    """What the code location checks as it loads (pipelines.orchestration.definitions)."""
    warehouse = tmp_path / "warehouse.duckdb"
    with pytest.raises(SettingError) as excinfo:
        read_settings({"AOW_DUCKDB_PATH": str(warehouse)})
    assert excinfo.value.problems == (
        f"AOW_DUCKDB_PATH: expected an existing warehouse file (a new one only with "
        f"AOW_CREATE_WAREHOUSE=1); got '{warehouse}' (the warehouse {warehouse} does not "
        "exist: check the path; set AOW_CREATE_WAREHOUSE=1 to start a new warehouse there)",
    )
    new = {"AOW_DUCKDB_PATH": str(warehouse), "AOW_CREATE_WAREHOUSE": "1"}
    assert read_settings(new).duckdb_path == warehouse
    typo = {**new, "AOW_DUCKDB_PATH": str(tmp_path / "typo" / "warehouse.duckdb")}
    with pytest.raises(SettingError, match="AOW_DUCKDB_PATH: .*[(]the directory .*typo"):
        read_settings(typo)
    assert list(tmp_path.iterdir()) == []


def test_a_broken_project_setting_stops_the_code_location_loading(tmp_path: Path):
    """`dagster definitions validate`, as the webserver and daemon load the definitions."""
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith("AOW_")},
        "DAGSTER_HOME": str(tmp_path),
        "AOW_TIMEZONE": "Europe/Berlin",
        "AOW_SCHEDULE_CRON": "at six",
    }
    done = subprocess.run(
        [str(Path(sys.executable).with_name("dagster")), "definitions", "validate"]
        + ["-m", "pipelines.orchestration.definitions"],
        cwd=REPO_ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode != 0
    output = done.stdout + done.stderr
    assert "AOW_SCHEDULE_CRON: expected a cron expression, e.g. '0 6 * * *'; got 'at six'" in output


def test_transform_names_a_bad_clock_or_seeds_directory(tmp_path: Path, monkeypatch, capsys):
    warehouse = tmp_path / "w.duckdb"
    duckdb.connect(str(warehouse)).close()
    monkeypatch.setenv("AOW_SEEDS_DIR", str(tmp_path / "sedes"))
    assert main(["transform", "--duckdb", str(warehouse), "--as-of", "last monday"]) == 2
    assert _errors(capsys.readouterr().err) == [
        "error: AOW_SEEDS_DIR: expected the directory of the organisation's seed files; "
        f"got '{tmp_path / 'sedes'}' (no such directory)",
        "error: --as-of: expected an ISO date-time, e.g. 2026-11-01T00:00:00; "
        "got 'last monday' (not an ISO date or date-time)",
    ]


def test_a_dagster_source_step_reports_the_setting_and_is_not_retried(
    sim_env, tmp_path: Path, monkeypatch
):
    """The step calls the same load: no request, no retry (a permanent failure), and every
    table of the source reports the failure with the setting named."""
    import dagster as dg

    from pipelines.orchestration.resources import WarehouseResource
    from tests.daily_job import source_step

    warehouse = tmp_path / "w.duckdb"
    duckdb.connect(str(warehouse)).close()
    monkeypatch.setenv("SOURCES__PAGERDUTY__START_DATE", FUTURE)
    result = dg.materialize(
        [source_step("pagerduty", dg.RetryPolicy(max_retries=2))],
        resources={"warehouse": WarehouseResource(duckdb_path=str(warehouse))},
        instance=dg.DagsterInstance.ephemeral(),
        raise_on_error=False,
    )
    events = [e.event_type_value for e in result.all_events]
    assert "STEP_RESTARTED" not in events and "STEP_UP_FOR_RETRY" not in events
    materialized = result.get_asset_materialization_events()
    assert materialized
    named = "SOURCES__PAGERDUTY__START_DATE: expected an ISO date"
    for event in materialized:
        metadata = event.materialization.metadata
        assert metadata["source_status"].value == "failed"
        assert metadata["failure"].value == "permanent"
        assert named in metadata["reason"].value
    assert sim_env.stats()["total"] == 0
