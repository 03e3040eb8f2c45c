"""The Dagster instance configuration (dagster_home/dagster.yaml) and the UI it serves.

The UI tests start the real `dagster dev` on a loopback port, with a copy of the committed
dagster.yaml as DAGSTER_HOME (so its storage is temporary), and read what the UI shows through
the webserver's GraphQL API: the code location, the asset lineage, the job, the checks, the
automation and the instance's concurrency pool.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections import deque
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from dagster import DagsterInstance, QueuedRunCoordinator

from pipelines.orchestration.event_log import KeptOpenSqliteEventLogStorage
from pipelines.orchestration.quality.checks import gx_check_name
from pipelines.orchestration.resources import DUCKDB_POOL
from pipelines.project_files import DAGSTER_INSTANCE_CONFIG, REPO_ROOT
from pipelines.quality.gx_suites import load_suite, suite_paths

LOCATION = "ai_outcomes_warehouse"
JOB = "daily_warehouse_job"
# Not UTC, so the schedule test shows the organisation's time zone reaches the schedule.
ORG_TIMEZONE = "Europe/Berlin"
STARTUP_TIMEOUT_S = 180
SHUTDOWN_TIMEOUT_S = 30

RAW_PRS = "raw_github/pull_requests"
STG_PRS = "staging/stg_github__pull_requests"
OUTCOME_BOARD = "marts/mart_outcome_board"
BILLING_REPORTS = [
    "raw_anthropic/messages_usage",
    "raw_anthropic/cost_report",
    "raw_anthropic/claude_code_usage",
    "raw_openai/completions_usage",
    "raw_openai/costs",
]


def _instance_home(directory: Path) -> Path:
    shutil.copy(DAGSTER_INSTANCE_CONFIG, directory / "dagster.yaml")
    return directory


# --- the committed instance configuration -------------------------------------------------


def test_instance_config_gives_the_warehouse_pool_one_slot(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The instance's directory is DAGSTER_HOME, as for `make dev`: its event log lives there.
    monkeypatch.setenv("DAGSTER_HOME", str(tmp_path))
    with DagsterInstance.from_config(str(_instance_home(tmp_path))) as instance:
        assert isinstance(instance.event_log_storage, KeptOpenSqliteEventLogStorage)
        assert Path(instance.event_log_storage._base_dir).is_relative_to(tmp_path)
        config = instance.get_concurrency_config()
        assert config.pool_config.default_pool_limit == 1
        # A run holds its slot from launch to end: a second run queues rather than interleaving.
        assert config.pool_config.pool_granularity.value == "run"
        assert isinstance(instance.run_coordinator, QueuedRunCoordinator)
        assert config.run_queue_config is not None
        assert config.run_queue_config.max_concurrent_runs > 1
        assert instance.telemetry_enabled is False

        # The limit the queue enforces once a run asks for the pool (as the daemon does).
        assert instance.event_log_storage.initialize_concurrency_limit_to_default(DUCKDB_POOL)
        info = instance.event_log_storage.get_concurrency_info(DUCKDB_POOL)
        assert (info.limit, info.slot_count, info.using_default_limit) == (1, 1, True)


# --- the UI: `dagster dev` and its GraphQL API --------------------------------------------


class DagsterDev:
    """A running `dagster dev` process and its webserver's GraphQL endpoint."""

    def __init__(self, process: subprocess.Popen[bytes], port: int, log_path: Path) -> None:
        self.process = process
        self.url = f"http://127.0.0.1:{port}/graphql"
        self.log_path = log_path

    def output(self) -> str:
        return self.log_path.read_text(errors="replace")[-20_000:]

    def query(self, query: str, variables: dict[str, Any] | None = None) -> dict[str, Any]:
        body = json.dumps({"query": query, "variables": variables or {}}).encode()
        request = urllib.request.Request(
            self.url, data=body, headers={"Content-Type": "application/json"}
        )
        with urllib.request.urlopen(request, timeout=60) as response:
            payload = json.load(response)
        assert not payload.get("errors"), payload["errors"]
        return payload["data"]

    def wait_until_loaded(self, timeout_s: float) -> None:
        """Until the webserver answers and the code location has finished loading."""
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                pytest.fail(f"dagster dev exited ({self.process.returncode}):\n{self.output()}")
            try:
                if _location_status(self.query(LOCATION_STATUS)) == "LOADED":
                    return
            except (urllib.error.URLError, ConnectionError, TimeoutError):
                pass  # the webserver is not listening yet
            time.sleep(1)
        pytest.fail(f"code location not loaded after {timeout_s} s:\n{self.output()}")


LOCATION_STATUS = """
{ workspaceOrError { __typename ... on Workspace { locationEntries { name loadStatus } } } }
"""


def _location_status(data: dict[str, Any]) -> str | None:
    entries = data["workspaceOrError"].get("locationEntries") or []
    return next((e["loadStatus"] for e in entries if e["name"] == LOCATION), None)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _stop_group(process: subprocess.Popen[bytes]) -> None:
    """Interrupt the whole process group (webserver, daemon, code server) as Ctrl-C would,
    kill what is left after SHUTDOWN_TIMEOUT_S, and fail if any of it survives."""
    group = process.pid  # leader of its own session and group (start_new_session)
    _signal_group(group, signal.SIGINT)
    with contextlib.suppress(subprocess.TimeoutExpired):
        process.wait(timeout=SHUTDOWN_TIMEOUT_S)
    if not _group_gone(group, timeout_s=5):
        _signal_group(group, signal.SIGKILL)
        process.wait(timeout=10)
    assert _group_gone(group, timeout_s=10), f"dagster dev's processes (group {group}) survived"


def _signal_group(group: int, sig: signal.Signals) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.killpg(group, sig)


def _group_gone(group: int, timeout_s: float) -> bool:
    deadline = time.monotonic() + timeout_s
    while True:
        try:
            os.killpg(group, 0)
        except ProcessLookupError:
            return True
        if time.monotonic() > deadline:
            return False
        time.sleep(0.2)


@pytest.fixture(scope="module")
def dagster_dev(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DagsterDev]:
    home = _instance_home(tmp_path_factory.mktemp("dagster_home"))
    log_path = home / "dagster_dev.log"
    port = _free_port()
    env = {**os.environ, "DAGSTER_HOME": str(home), "AOW_TIMEZONE": ORG_TIMEZONE}
    command = [sys.executable, "-m", "dagster", "dev", "-w", "workspace.yaml"]
    command += ["-h", "127.0.0.1", "-p", str(port)]
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            command,
            cwd=REPO_ROOT,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # its own process group, stopped as one
        )
    try:
        server = DagsterDev(process, port, log_path)
        server.wait_until_loaded(STARTUP_TIMEOUT_S)
        yield server
    finally:
        _stop_group(process)


WORKSPACE = """
{
  workspaceOrError {
    __typename
    ... on Workspace {
      locationEntries {
        name
        loadStatus
        locationOrLoadError {
          __typename
          ... on PythonError { message stack }
          ... on RepositoryLocation {
            repositories {
              name
              jobs { name }
              schedules { name cronSchedule executionTimezone pipelineName }
              sensors { name }
            }
          }
        }
      }
    }
  }
}
"""

INSTANCE = """
query ($pool: String) {
  instance {
    runQueuingSupported
    poolConfig { poolGranularity defaultPoolLimit }
    concurrencyLimit(concurrencyKey: $pool) { limit }
  }
}
"""

ASSET_NODES = """
{
  assetNodes {
    assetKey { path }
    groupName
    isMaterializable
    pools
    dependencyKeys { path }
    dependedByKeys { path }
    partitionDefinition { type description }
    assetChecksOrError {
      __typename
      ... on AssetChecks { checks { name blocking } }
    }
  }
}
"""


@pytest.fixture(scope="module")
def repository(dagster_dev: DagsterDev) -> dict[str, Any]:
    data = dagster_dev.query(WORKSPACE)
    entries = {e["name"]: e for e in data["workspaceOrError"]["locationEntries"]}
    location = entries[LOCATION]["locationOrLoadError"]
    assert location["__typename"] == "RepositoryLocation", location.get("message")
    (repo,) = location["repositories"]
    return repo


@pytest.fixture(scope="module")
def asset_nodes(dagster_dev: DagsterDev) -> dict[str, dict[str, Any]]:
    nodes = dagster_dev.query(ASSET_NODES)["assetNodes"]
    return {"/".join(node["assetKey"]["path"]): node for node in nodes}


def _keys(node: dict[str, Any], field: str) -> set[str]:
    return {"/".join(key["path"]) for key in node[field]}


def _checks(node: dict[str, Any]) -> dict[str, bool]:
    checks = node["assetChecksOrError"].get("checks", [])
    return {check["name"]: check["blocking"] for check in checks}


def _lineage(nodes: dict[str, dict[str, Any]], start: str, end: str) -> list[str]:
    """The shortest path from start to end along dependedByKeys (downstream edges)."""
    previous: dict[str, str | None] = {start: None}
    queue = deque([start])
    while queue:
        key = queue.popleft()
        if key == end:
            path = [key]
            while previous[path[-1]] is not None:
                path.append(previous[path[-1]])
            return path[::-1]
        for child in sorted(_keys(nodes[key], "dependedByKeys")):
            if child not in previous:
                previous[child] = key
                queue.append(child)
    return []


def test_ui_loads_the_code_location_with_the_instance_pool(
    dagster_dev: DagsterDev, repository: dict[str, Any]
) -> None:
    assert JOB in {job["name"] for job in repository["jobs"]}
    instance = dagster_dev.query(INSTANCE, {"pool": DUCKDB_POOL})["instance"]
    assert instance["runQueuingSupported"] is True
    assert instance["poolConfig"] == {"poolGranularity": "run", "defaultPoolLimit": 1}
    assert instance["concurrencyLimit"] == {"limit": 1}


def test_ui_shows_the_layers_and_the_lineage(asset_nodes: dict[str, dict[str, Any]]) -> None:
    groups = {node["groupName"] for node in asset_nodes.values()}
    assert {"raw", "staging", "intermediate", "marts"} <= groups
    assert {RAW_PRS, STG_PRS, OUTCOME_BOARD} <= asset_nodes.keys()

    # Every edge is drawn from both ends.
    for key, node in asset_nodes.items():
        for child in _keys(node, "dependedByKeys"):
            assert key in _keys(asset_nodes[child], "dependencyKeys"), (key, child)

    path = _lineage(asset_nodes, RAW_PRS, OUTCOME_BOARD)
    assert path[:2] == [RAW_PRS, STG_PRS], path
    layers = [asset_nodes[key]["groupName"] for key in path]
    assert layers[0] == "raw" and layers[1] == "staging" and layers[-1] == "marts", path
    assert "intermediate" in layers, path

    # Every op that opens the warehouse asks for the pool the instance limits to one slot.
    pools = {tuple(node["pools"]) for node in asset_nodes.values() if node["isMaterializable"]}
    assert pools == {(DUCKDB_POOL,)}


def test_ui_lists_gx_suites_and_dbt_tests_as_asset_checks(
    asset_nodes: dict[str, dict[str, Any]],
) -> None:
    suites = [load_suite(path) for path in suite_paths()]
    assert suites
    for suite in suites:
        checks = _checks(asset_nodes["/".join(suite.asset_key)])
        assert checks.get(gx_check_name(suite)) is True, (suite.name, checks)

    stg_checks = _checks(asset_nodes[STG_PRS])
    assert "unique_stg_github__pull_requests_pull_request_id" in stg_checks
    assert "not_null_columns_stg_github__pull_requests_pull_request_id" in stg_checks
    board_checks = _checks(asset_nodes[OUTCOME_BOARD])
    assert "not_null_columns_mart_outcome_board_board_level__month_start__team_id" in board_checks


def test_ui_shows_the_schedule_the_freshness_sensor_and_daily_partitions(
    repository: dict[str, Any], asset_nodes: dict[str, dict[str, Any]]
) -> None:
    schedules = {schedule["name"]: schedule for schedule in repository["schedules"]}
    assert schedules["daily_warehouse_schedule"] == {
        "name": "daily_warehouse_schedule",
        "cronSchedule": "0 6 * * *",
        "executionTimezone": ORG_TIMEZONE,
        "pipelineName": JOB,
    }
    assert "freshness_checks_sensor" in {sensor["name"] for sensor in repository["sensors"]}
    assert "freshness_check" in _checks(asset_nodes[RAW_PRS])

    partitions = [asset_nodes[key]["partitionDefinition"] for key in BILLING_REPORTS]
    for key, definition in zip(BILLING_REPORTS, partitions, strict=True):
        assert definition is not None, key
        assert definition["type"] == "TIME_WINDOW", key
        assert definition["description"].startswith("Daily, starting"), (key, definition)
        assert definition["description"].endswith("UTC."), (key, definition)
    assert len({definition["description"] for definition in partitions}) == 1
    assert asset_nodes[RAW_PRS]["partitionDefinition"] is None
    assert asset_nodes[OUTCOME_BOARD]["partitionDefinition"] is None
