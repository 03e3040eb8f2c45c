"""Fixtures for loader tests: the simulator, its SOURCES__* configuration, a fresh warehouse.

`loader.load("github")` runs the real loader (dlt, HTTP, pagination) into a real DuckDB
file; `loader.rows(sql)` reads the warehouse and `loader.store_rows(sql)` the simulator's
store, so tests compare what was loaded with what the vendor holds.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import duckdb
import pytest

from org_simulator.server import SimulatorServer
from org_simulator.sources_env import simulator_sources_env
from pipelines.ingest.loads import run_load
from pipelines.sources.http_session import RetryPolicy


@dataclass
class Loader:
    sim: SimulatorServer
    store: Path
    warehouse: Path
    counts: list[dict[str, int]] = field(default_factory=list)

    def load(self, source: str) -> dict[str, int]:
        counts = run_load(source, self.warehouse)
        self.counts.append(counts)
        return counts

    def rows(self, sql: str) -> list[tuple[Any, ...]]:
        with duckdb.connect(str(self.warehouse), read_only=True) as con:
            return con.execute(sql).fetchall()

    def scalar(self, sql: str) -> Any:
        return self.rows(sql)[0][0]

    def store_rows(self, sql: str) -> list[tuple[Any, ...]]:
        with duckdb.connect(str(self.store), read_only=True) as con:
            return con.execute(sql).fetchall()

    def store_scalar(self, sql: str) -> Any:
        return self.store_rows(sql)[0][0]

    def requests(self, vendor: str) -> int:
        """Requests the simulator answered for `vendor` since the last reset."""
        by_route = self.sim.stats()["by_route"]
        return sum(n for route, n in by_route.items() if route.startswith(f"{vendor}."))


@pytest.fixture(autouse=True)
def fast_retries(monkeypatch: pytest.MonkeyPatch) -> None:
    """Backoff in milliseconds, so fault tests do not sleep for real seconds."""
    monkeypatch.setattr(
        "pipelines.sources.http_session.DEFAULT_POLICY",
        RetryPolicy(backoff_base=0.01, backoff_cap=0.05, max_wait=30.0),
    )


def make_loader(sim: SimulatorServer, store: Path, warehouse: Path, mp: pytest.MonkeyPatch):
    for key, value in simulator_sources_env(sim).items():
        mp.setenv(key, value)
    return Loader(sim, store, warehouse)


@pytest.fixture
def loader(
    simulator: SimulatorServer, tiny_store: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[Loader]:
    """The tiny organisation's simulator, configured for every source, and an empty warehouse."""
    yield make_loader(simulator, tiny_store, tmp_path / "warehouse.duckdb", monkeypatch)


@dataclass
class FullLoad:
    """A backfill of the whole history, then a second run with nothing new."""

    loader: Loader
    start: str  # the store's first day, the source's START_DATE
    backfill: dict[str, int]  # requests by route
    rerun: dict[str, int]
    counts: dict[str, int]  # rows per table after the backfill
    counts_after_rerun: dict[str, int]


def load_twice(
    source: str,
    store: Path,
    warehouse: Path,
    mp: pytest.MonkeyPatch,
    table_counts: Callable[[Loader], dict[str, int]],
) -> FullLoad:
    with SimulatorServer(store) as sim:
        loader = make_loader(sim, store, warehouse, mp)
        start = sim.history_start()
        loader.load(source)
        backfill, counts = sim.stats()["by_route"], table_counts(loader)
        sim.reset_stats()
        loader.load(source)
        rerun = sim.stats()["by_route"]
        return FullLoad(loader, start, backfill, rerun, counts, table_counts(loader))
