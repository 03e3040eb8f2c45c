"""The dashboard's tests: a publication of the built tiny organisation, and the dashboard
served from it by the real Streamlit server on a free loopback port.

The publication fixture is the one place the tests make a publication (the real publish, in
tests/dashboard/publication.py); the browser tests share the built
organisation's xdist group (tests/xdist_groups.py: `built_org`).
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import BuiltOrg
from tests.dashboard.publication import publish_built

REPO_ROOT = Path(__file__).resolve().parents[2]
STARTUP_TIMEOUT_S = 60


@pytest.fixture(scope="session")
def publication(built_org: BuiltOrg, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The built organisation's publication (a DuckDB file), once per session."""
    if built_org.size != "tiny":
        pytest.skip("the dashboard is tested on the tiny organisation")
    path = tmp_path_factory.mktemp("publication") / "tiny.serving.duckdb"
    publish_built(built_org.warehouse, path, "test-run", built_org.settings.as_of, built_org.build)
    return path


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Dashboard:
    def __init__(self, process: subprocess.Popen, url: str, log: Path) -> None:
        self.process, self.url, self.log = process, url, log

    def output(self) -> str:
        return self.log.read_text(errors="replace")[-10_000:]


def start_dashboard(publication: Path, log: Path) -> Dashboard:
    """`python -m pipelines dashboard` as a user starts it, until its health check answers."""
    port = free_port()
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "pipelines",
            "dashboard",
            "--publication",
            str(publication),
            "--port",
            str(port),
        ],
        cwd=REPO_ROOT,
        stdout=log.open("wb"),
        stderr=subprocess.STDOUT,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
        start_new_session=True,
    )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + STARTUP_TIMEOUT_S
    while time.monotonic() < deadline:
        if process.poll() is not None:
            pytest.fail(f"the dashboard exited ({process.returncode}):\n{log.read_text()}")
        try:
            with urllib.request.urlopen(f"{url}/_stcore/health", timeout=2) as response:
                if response.status == 200:
                    return Dashboard(process, url, log)
        except OSError:
            time.sleep(0.3)
    stop(process)
    pytest.fail(f"the dashboard did not answer in {STARTUP_TIMEOUT_S} s:\n{log.read_text()}")


def stop(process: subprocess.Popen) -> None:
    if process.poll() is None:
        os.killpg(process.pid, 15)
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, 9)
            process.wait()


@pytest.fixture(scope="module")
def dashboard(publication: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Dashboard]:
    log = tmp_path_factory.mktemp("dashboard") / "streamlit.log"
    served = start_dashboard(publication, log)
    try:
        yield served
    finally:
        stop(served.process)
