"""Benchmark: `dbt build` of the whole project on a loaded organisation.

.venv/bin/python -m benchmarks.transform --size demo
.venv/bin/python -m benchmarks.transform --size medium --github-rate-limit 1000000

The organisation is loaded once through the real loaders into a kept warehouse
(.data/bench/<size>-seed<seed>.duckdb; a load cut short resumes from its checkpoints). Then,
each in a child process so its peak memory is its own: a full-refresh build, and an
incremental build with nothing new (what the daily run costs when the large models only
reprocess their look-back window). Reported: wall seconds, peak resident MiB, nodes, rows in
the marts.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

import duckdb

from benchmarks.process_memory import peak_mib
from org_simulator.demo import DATA_DIR, store_path
from org_simulator.process import SimulatorProcess
from org_simulator.seeds import simulated_org_settings
from org_simulator.sources_env import simulator_sources_env
from pipelines.settings import Settings
from pipelines.sources import SOURCES


def _load(
    store: Path, warehouse: Path, repositories: int | None, github_rate_limit: int | None
) -> None:
    from pipelines.ingest.loads import run_load

    with SimulatorProcess(store, github_rate_limit=github_rate_limit, page_cache_mib=0) as sim:
        env = simulator_sources_env(sim)
        if repositories:
            env["SOURCES__GITHUB__REPOSITORIES"] = json.dumps(sim.repositories()[:repositories])
        os.environ.update(env)
        for source in sorted(SOURCES, key=lambda s: s == "github"):  # the long one last
            started = time.perf_counter()
            counts = run_load(source, warehouse)
            rows = sum(n for t, n in counts.items() if t != "quarantine")
            print(f"loaded {source}: {rows:,} rows in {time.perf_counter() - started:.0f}s")


def _child_build(warehouse: Path, full_refresh: bool, seeds_dir: Path, as_of: str) -> None:
    from pipelines.transform.dbt_runner import build_models

    started = time.perf_counter()
    result = build_models(warehouse, full_refresh=full_refresh, seeds_dir=seeds_dir, as_of=as_of)
    seconds = time.perf_counter() - started
    peak = peak_mib()
    failed = [n.unique_id for n in result.failed]
    print(
        json.dumps(
            {
                "seconds": seconds,
                "peak_mib": peak,
                "nodes": len(result.nodes),
                "failed": failed,
                "error": result.error,
            }
        )
    )


def _build(warehouse: Path, org: Settings, full_refresh: bool) -> dict:
    args = [sys.executable, "-m", "benchmarks.transform", "--child-build", str(warehouse)]
    args += ["--seeds-dir", str(org.seeds_dir), "--as-of", org.as_of]
    proc = subprocess.run(
        args + (["--full-refresh"] if full_refresh else []),
        capture_output=True,
        text=True,
        check=False,
    )
    if proc.returncode != 0:
        raise SystemExit(f"the build process failed:\n{proc.stderr[-3000:]}")
    return json.loads(proc.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--size", default="demo")
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--github-rate-limit", type=int, help="see benchmarks.ingest")
    parser.add_argument("--github-repositories", type=int, help="see benchmarks.ingest")
    parser.add_argument("--child-build", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--full-refresh", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--seeds-dir", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--as-of", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child_build:
        _child_build(args.child_build, args.full_refresh, args.seeds_dir, args.as_of)
        return

    store = store_path(args.size, args.seed)
    warehouse = DATA_DIR / "bench" / f"{args.size}-seed{args.seed}.duckdb"
    warehouse.parent.mkdir(parents=True, exist_ok=True)
    done = warehouse.with_suffix(".loaded")
    if not done.exists():
        _load(store, warehouse, args.github_repositories, args.github_rate_limit)
        done.touch()
    org = simulated_org_settings(store)
    with duckdb.connect(str(warehouse), read_only=True) as con:
        raw = con.execute(
            "select sum(estimated_size) from duckdb_tables() where schema_name like 'raw_%' "
            "and schema_name not like '%_staging'"
        ).fetchone()[0]
    print(f"size={args.size} seed={args.seed} warehouse={warehouse} raw rows={raw:,}")
    print(f"{'build':<12} {'seconds':>8} {'peak MiB':>9} {'nodes':>6}")
    for label, full in (("full", True), ("incremental", False)):
        r = _build(warehouse, org, full)
        if r["failed"] or r["error"]:
            raise SystemExit(f"{label} build failed: {r['failed']} {r['error']}")
        print(f"{label:<12} {r['seconds']:>8.1f} {r['peak_mib']:>9,.0f} {r['nodes']:>6}")
    with duckdb.connect(str(warehouse), read_only=True) as con:
        for schema, table, n in con.execute(
            "select schema_name, table_name, estimated_size from duckdb_tables() "
            "where schema_name in ('intermediate', 'marts') order by estimated_size desc limit 8"
        ).fetchall():
            print(f"  {schema}.{table:<44} {n:>10,} rows")


if __name__ == "__main__":
    main()
