"""The loaders' shared machinery on the GitHub pull-request loader: quarantine and errors."""

from __future__ import annotations

import json
import subprocess
import sys

from org_simulator.faults import Fault
from tests.sources.conftest import Loader


def test_malformed_record_is_quarantined_and_the_rest_loads(loader: Loader, monkeypatch):
    repo = loader.sim.repositories()[0]
    monkeypatch.setenv("SOURCES__GITHUB__REPOSITORIES", json.dumps([repo]))
    loader.sim.inject(Fault("malformed", vendor="github", path=r"/pulls$", times=1))
    counts = loader.load("github")
    assert counts["quarantine"] == 1
    source, resource, reason, payload = loader.rows(
        "select source, resource, reason, payload from raw_github.quarantine"
    )[0]
    assert (source, resource) == ("github", "pull_requests")
    assert "id" in reason and '"_malformed": true' in payload
    # the broken record is the only one missing
    expected = loader.store_scalar(
        f"select count(*) from gh_pull_requests where repo_full_name = '{repo}'"
    )
    assert loader.scalar("select count(*) from raw_github.pull_requests") == expected - 1


def test_cli_exits_non_zero_with_a_clear_message_on_missing_config(tmp_path, monkeypatch):
    for key in ("SOURCES__GITHUB__ACCESS_TOKEN", "SOURCES__GITHUB__REPOSITORIES"):
        monkeypatch.delenv(key, raising=False)
    command = [sys.executable, "-m", "pipelines", "ingest", "github"]
    command += ["--duckdb", tmp_path / "w.duckdb", "--create"]
    # No GitHub setting at all: not used by this organisation, so nothing to load.
    proc = subprocess.run(command, capture_output=True, text=True)
    assert proc.returncode == 0
    assert "github is not configured" in proc.stdout
    assert "SOURCES__GITHUB__ACCESS_TOKEN" in proc.stdout
    # Repositories without a token: an incomplete configuration is an error.
    monkeypatch.setenv("SOURCES__GITHUB__REPOSITORIES", '["acme/api"]')
    proc = subprocess.run(command, capture_output=True, text=True)
    assert proc.returncode == 1
    assert "missing configuration SOURCES__GITHUB__ACCESS_TOKEN" in proc.stderr
    assert "Traceback" not in proc.stderr


def test_cli_reports_an_unrecoverable_api_error_without_the_token(loader: Loader, monkeypatch):
    monkeypatch.setenv("SOURCES__GITHUB__ACCESS_TOKEN", "ghp_wrongtoken123456")
    proc = subprocess.run(
        [sys.executable, "-m", "pipelines", "ingest", "github"]
        + ["--duckdb", str(loader.warehouse), "--create"],
        capture_output=True,
        text=True,
    )
    assert proc.returncode == 1
    assert "HTTP 401" in proc.stderr and "credentials" in proc.stderr
    assert "ghp_wrongtoken123456" not in proc.stderr + proc.stdout
