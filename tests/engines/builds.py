"""The tiny organisation (or any simulated one) loaded and built on one warehouse engine as a
daily run would: loaded with the simulator's clock 12 days before its as-of date and built,
then loaded again at it and built incrementally; the built tables kept; then a full refresh
with every test. Shared by tests/engines and benchmarks/engines.py."""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

import pytest

from org_simulator.seeds import simulated_org_settings
from org_simulator.server import SimulatorServer
from org_simulator.sources_env import simulator_sources_env
from pipelines.ingest.loads import run_load
from pipelines.sources import SOURCES
from pipelines.transform.dbt_runner import BuildResult, build_models
from pipelines.warehouse.engines import Warehouse
from tests.engines.compare import engine_warehouse, frozen_warehouse

EARLIER = timedelta(days=12)
BUILT_SCHEMAS = ("intermediate", "marts")


@dataclass
class EngineBuild:
    engine: str
    target: Warehouse
    incremental: list[BuildResult]  # the build after each load
    full_refresh: BuildResult  # with every data and unit test
    incremental_tables: object  # the intermediate and mart tables after the second build
    seconds: dict[str, float]  # loads, incremental builds, full refresh


def build_on(engine: str, target: Warehouse, store: Path) -> EngineBuild:
    """Load `store` into `target` in two steps of the clock, building after each; keep the
    tables; then a full refresh with tests."""
    org = simulated_org_settings(store)
    org_args = {"seeds_dir": org.seeds_dir, "as_of": org.as_of, "quiet": True}
    seconds = {"loads": 0.0, "incremental builds": 0.0}
    builds = []
    with SimulatorServer(store) as sim, pytest.MonkeyPatch.context() as mp:
        final_now = sim.now
        for key, value in simulator_sources_env(sim).items():
            mp.setenv(key, value)
        for now in (final_now - EARLIER, final_now):
            sim.set_now(now)
            started = time.monotonic()
            for source in SOURCES:
                run_load(source, target)
            seconds["loads"] += time.monotonic() - started
            started = time.monotonic()
            builds.append(build_models(target, tests=False, **org_args))
            seconds["incremental builds"] += time.monotonic() - started
    tables = frozen_warehouse(engine_warehouse(target, f"{engine} (incremental)"), BUILT_SCHEMAS)
    started = time.monotonic()
    full = build_models(target, full_refresh=True, **org_args)
    seconds["full refresh with tests"] = time.monotonic() - started
    return EngineBuild(engine, target, builds, full, tables, seconds)
