"""Shared fixtures: a generated `tiny` organisation and the simulator serving it, and
`built_org`, an organisation loaded by the real loaders and built by dbt.

`built_org` is parametrized over the `tiny` and `demo` organisations (demo is marked slow:
`.venv/bin/pytest -m slow tests/transform`). Each is loaded once per test session through the
simulated vendor APIs (dlt, HTTP, pagination), then `dbt build` runs with the organisation's
own seeds and clock; the model tests (tests/transform) and the quality suites
(tests/quality) share that build. Tests read the warehouse with the simulator's store
attached as `sim`, so a mart can be compared with the ground truth in one query.
"""

from __future__ import annotations

import fcntl
import os
import shutil
from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import duckdb
import pytest

from org_simulator.demo import store_path
from org_simulator.seeds import simulated_org_settings
from org_simulator.server import SimulatorServer
from org_simulator.sources_env import simulator_sources_env
from org_simulator.testing import TINY_SEED, simulator, tiny_store  # noqa: F401 (fixtures)
from pipelines.ingest.loads import run_load
from pipelines.settings import Settings
from pipelines.sources import SOURCES
from pipelines.transform.dbt_runner import BuildResult, build_models, prepare_manifest

ORGS = {"tiny": TINY_SEED, "demo": 42}  # size -> seed
# The demo organisation (about 15,400 API requests to load) is a scale run: `pytest -m slow`.
ORG_PARAMS = [pytest.param("tiny"), pytest.param("demo", marks=pytest.mark.slow)]


# Slow shared builds run on one xdist worker (tests/xdist_groups.py); pytester runs xdist
# itself in tests/test_xdist_groups.py.
pytest_plugins = ("pytester", "tests.xdist_groups")


def pytest_sessionstart(session: pytest.Session) -> None:
    """The dbt manifest the Dagster definitions are built from, as `make install` prepares it
    (in the xdist controller first, so the workers find it ready)."""
    prepare_manifest()


@dataclass
class BuiltOrg:
    size: str
    store: Path
    warehouse: Path
    settings: Settings  # the organisation's seeds and clock, its warehouse
    build: BuildResult

    def _connect(self) -> duckdb.DuckDBPyConnection:
        """The warehouse (read-only), with the store attached as `sim`."""
        con = duckdb.connect(str(self.warehouse), read_only=True)
        con.execute(f"attach '{self.store}' as sim (read_only)")
        return con

    def rows(self, sql: str) -> list[tuple[Any, ...]]:
        with self._connect() as con:
            return con.execute(sql).fetchall()

    def scalar(self, sql: str) -> Any:
        return self.rows(sql)[0][0]

    def dicts(self, sql: str) -> list[dict[str, Any]]:
        with self._connect() as con:
            cur = con.execute(sql)
            names = [d[0] for d in cur.description]
            return [dict(zip(names, r, strict=True)) for r in cur.fetchall()]


def load_org(store: Path, warehouse: Path) -> None:
    """Every source, through the real loaders, from a simulator serving `store`."""
    with SimulatorServer(store) as sim, pytest.MonkeyPatch.context() as mp:
        for key, value in simulator_sources_env(sim).items():
            mp.setenv(key, value)
        for source in SOURCES:
            run_load(source, warehouse)


@pytest.fixture(scope="session", params=ORG_PARAMS)
def built_org(request: pytest.FixtureRequest, tmp_path_factory) -> Iterator[BuiltOrg]:
    """The organisation (tiny, then demo) loaded and built; the build's result is kept, not
    asserted, so each test reports on its own models."""
    size = request.param
    store = store_path(size, ORGS[size])
    work = tmp_path_factory.mktemp(f"org-{size}")
    warehouse = work / "warehouse.duckdb"
    if size == "tiny":  # the tiny load is shared with the tests that vary it
        shutil.copyfile(request.getfixturevalue("tiny_raw_warehouse"), warehouse)
    else:
        load_org(store, warehouse)
    settings = replace(simulated_org_settings(store), duckdb_path=warehouse)
    build = build_models(warehouse, seeds_dir=settings.seeds_dir, as_of=settings.as_of)
    yield BuiltOrg(size, store, warehouse, settings, build)


def shared_file(
    tmp_path_factory: pytest.TempPathFactory, name: str, make: Callable[[Path], object]
) -> Path:
    """A file made once per test run and shared by the xdist workers: the first to ask makes
    it (`make(path)` writes it), the others wait for it. Read-only for its users."""
    base = tmp_path_factory.getbasetemp()
    shared = base.parent if os.environ.get("PYTEST_XDIST_WORKER") else base
    path = shared / name
    with (shared / f"{name}.lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # released when the file closes, or the process dies
        if not path.exists():
            # Made under its own name (a DuckDB file's views name their database, its stem),
            # in a directory of its own, then moved into place whole.
            making = shared / f"making-{os.getpid()}" / name
            making.parent.mkdir(exist_ok=True)
            make(making)
            making.rename(path)
    return path


@pytest.fixture(scope="session")
def tiny_raw_warehouse(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The tiny organisation loaded by the real loaders into a warehouse of raw tables only,
    once per test run (shared by the xdist workers). Read-only: copy it to build on it."""
    return shared_file(
        tmp_path_factory,
        "tiny-raw.duckdb",
        lambda path: load_org(store_path("tiny", TINY_SEED), path),
    )
