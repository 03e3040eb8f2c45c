"""Pytest fixtures over the simulated organisation, for the simulator's tests and the
product's: the `tiny` organisation generated once per session, and a fresh server over it.
A conftest imports the fixtures it uses (`from org_simulator.testing import simulator`).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from org_simulator.generate import generate_org
from org_simulator.server import SimulatorServer

TINY_SEED = 7


@pytest.fixture(scope="session")
def tiny_store(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The `tiny` organisation's store, generated once per test session. Read-only."""
    path = tmp_path_factory.mktemp("sim") / "tiny.duckdb"
    return generate_org(size="tiny", seed=TINY_SEED, path=path)


@pytest.fixture
def simulator(tiny_store: Path) -> Iterator[SimulatorServer]:
    """A fresh server (clean faults, clock and statistics) over the tiny store."""
    with SimulatorServer(tiny_store) as sim:
        yield sim
