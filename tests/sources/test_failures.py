"""Permanent and transient load failures, as the loader classifies them (pipelines.sources.
failures), through real HTTP against the simulated PagerDuty.

Permanent: trying again cannot help until someone fixes something, so Dagster does not retry
(refused credentials, a 403 that is not a rate limit, a wrong base URL, a missing setting).
Transient: everything that may pass by itself (rate limits, server errors, a vendor that does
not answer), which Dagster retries.
"""

from __future__ import annotations

import socket
from pathlib import Path

import pytest

from org_simulator.faults import Fault
from org_simulator.server import SimulatorServer
from org_simulator.sources_env import simulator_sources_env
from pipelines.ingest.loads import run_load
from pipelines.sources.failures import LoadFailed
from pipelines.sources.http_session import RetryPolicy

# Two quick attempts per request: a fault of every answer outlasts the session's retries.
QUICK = RetryPolicy(max_attempts=2, backoff_base=0.01, backoff_cap=0.02, max_wait=5.0)


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _fail(sim: SimulatorServer, tmp_path: Path, mp: pytest.MonkeyPatch) -> LoadFailed:
    mp.setattr("pipelines.sources.http_session.DEFAULT_POLICY", QUICK)
    with pytest.raises(LoadFailed) as failed:
        run_load("pagerduty", tmp_path / "warehouse.duckdb")
    return failed.value


@pytest.fixture
def pagerduty(simulator: SimulatorServer, monkeypatch: pytest.MonkeyPatch) -> SimulatorServer:
    for key, value in simulator_sources_env(simulator, vendors=("pagerduty",)).items():
        monkeypatch.setenv(key, value)
    return simulator


@pytest.mark.parametrize(
    ("setting", "value", "status"),
    [
        ("SOURCES__PAGERDUTY__API_KEY", "u+refused-key-0000", "HTTP 401"),
        ("SOURCES__PAGERDUTY__BASE_URL", "{base}/v9", "HTTP 404"),
    ],
    ids=["401-refused-key", "404-wrong-base-url"],
)
def test_a_wrong_setting_is_permanent_after_one_request(
    pagerduty: SimulatorServer, tmp_path: Path, monkeypatch, setting, value, status
):
    monkeypatch.setenv(setting, value.format(base=pagerduty.base_url("pagerduty")))
    failure = _fail(pagerduty, tmp_path, monkeypatch)
    assert failure.permanent and status in str(failure)
    assert pagerduty.stats()["total"] == 1  # the session does not retry it either


def test_a_403_without_rate_limit_headers_is_permanent(
    pagerduty: SimulatorServer, tmp_path: Path, monkeypatch
):
    pagerduty.inject(Fault("server_error", vendor="pagerduty", status=403, times=-1))
    failure = _fail(pagerduty, tmp_path, monkeypatch)
    assert failure.permanent and "HTTP 403" in str(failure)
    assert pagerduty.stats()["total"] == 1


def test_a_missing_setting_is_permanent_without_a_request(
    simulator: SimulatorServer, tmp_path: Path, monkeypatch
):
    """GitHub with its token but no repositories: configured, incompletely."""
    env = simulator_sources_env(simulator, vendors=("github",))
    for key, value in env.items():
        if key != "SOURCES__GITHUB__REPOSITORIES":
            monkeypatch.setenv(key, value)
    monkeypatch.delenv("SOURCES__GITHUB__REPOSITORIES", raising=False)
    with pytest.raises(LoadFailed) as failed:
        run_load("github", tmp_path / "warehouse.duckdb")
    assert failed.value.permanent and "SOURCES__GITHUB__REPOSITORIES" in str(failed.value)
    assert simulator.stats()["total"] == 0


def test_a_malformed_setting_is_permanent_without_a_request(
    simulator: SimulatorServer, tmp_path: Path, monkeypatch
):
    for key, value in simulator_sources_env(simulator, vendors=("github",)).items():
        monkeypatch.setenv(key, value)
    monkeypatch.setenv("SOURCES__GITHUB__REPOSITORIES", "[acme/api")
    with pytest.raises(LoadFailed) as failed:
        run_load("github", tmp_path / "warehouse.duckdb")
    assert failed.value.permanent and "SOURCES__GITHUB__REPOSITORIES" in str(failed.value)
    assert simulator.stats()["total"] == 0


@pytest.mark.parametrize(
    ("fault", "status"),
    [
        (Fault("server_error", vendor="pagerduty", times=-1), "HTTP 503"),
        (Fault("rate_limit", vendor="pagerduty", retry_after=0, times=-1), "HTTP 429"),
        (Fault("rate_limit", vendor="pagerduty", status=403, retry_after=0, times=-1), "HTTP 403"),
    ],
    ids=["503", "429", "403-rate-limited"],
)
def test_what_may_pass_by_itself_is_transient(
    pagerduty: SimulatorServer, tmp_path: Path, monkeypatch, fault: Fault, status: str
):
    pagerduty.inject(fault)
    failure = _fail(pagerduty, tmp_path, monkeypatch)
    assert not failure.permanent and status in str(failure)
    assert pagerduty.stats()["total"] == QUICK.max_attempts  # the session retried it


def test_a_vendor_that_does_not_answer_is_transient(
    pagerduty: SimulatorServer, tmp_path: Path, monkeypatch
):
    monkeypatch.setenv("SOURCES__PAGERDUTY__BASE_URL", f"http://127.0.0.1:{_closed_port()}")
    failure = _fail(pagerduty, tmp_path, monkeypatch)
    assert not failure.permanent and "ConnectionError" in str(failure)
