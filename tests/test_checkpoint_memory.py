"""A GitHub load gives back what each checkpoint frees, and bounds DuckDB's memory on every
connection it opens (pipelines.ingest.memory_bounds): without both, its resident memory rose
with every checkpoint (benchmarks/memory.py measures it)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from org_simulator.server import SimulatorServer
from org_simulator.sources_env import simulator_sources_env
from pipelines.ingest import staged_loads

ROOT = Path(__file__).resolve().parent.parent
LIMIT_SHOWN = "256.0 MiB"  # memory_bounds.DUCKDB_MEMORY_LIMIT as DuckDB prints it

pytestmark = pytest.mark.skipif(
    not sys.platform.startswith("linux") or os.environ.get("MALLOC_MMAP_THRESHOLD_"),
    reason="glibc's allocator, with its default mapping threshold",
)


def _child(*args: str, env: dict[str, str] | None = None) -> list[dict]:
    child = subprocess.run(
        [sys.executable, "-m", "tests.checkpoint_memory", *args],
        env={**os.environ, **(env or {})},
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert child.returncode == 0, child.stderr[-2000:]
    return [json.loads(line) for line in child.stdout.splitlines()]


def test_large_blocks_freed_go_back_once_mapped():
    # glibc's default: freeing a large block raises the threshold, and a later large block
    # comes out of a heap, which keeps it when freed.
    assert _child("--probe") == [{"before": False, "set": True, "after": True}]


def test_every_github_checkpoint_maps_large_blocks_and_bounds_duckdb(
    tiny_store: Path, tmp_path: Path
):
    with SimulatorServer(tiny_store) as sim:
        env = simulator_sources_env(sim)
        env["SOURCES__GITHUB__REPOSITORIES"] = json.dumps(sim.repositories()[:2])
        env["SOURCES__GITHUB__REPOSITORIES_PER_RUN"] = "1"
        env["TMPDIR"] = str(tmp_path)
        checkpoints = _child(str(tmp_path / "w.duckdb"), env=env)
    assert [c["checkpoint"] for c in checkpoints] == [1, 2]
    for checkpoint in checkpoints:
        assert checkpoint["rows"]["pull_requests"] > 0
        assert checkpoint["large_blocks_mapped"] is True
        assert checkpoint["stage_memory_limit"] == LIMIT_SHOWN


def test_the_swap_connection_bounds_duckdb(tmp_path: Path):
    warehouse, stage = tmp_path / "w.duckdb", tmp_path / "stage.duckdb"
    with staged_loads._warehouse_with_stage(warehouse, stage, read_only=False) as con:
        assert con.execute("select current_setting('memory_limit')").fetchone() == (LIMIT_SHOWN,)
