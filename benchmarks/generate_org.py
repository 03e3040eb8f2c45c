"""Benchmark: generate a simulated organisation; report wall time, rows and peak memory.

.venv/bin/python -m benchmarks.generate_org --size demo
.venv/bin/python -m benchmarks.generate_org --size medium
"""

from __future__ import annotations

import argparse
import resource
import tempfile
import time
from pathlib import Path

import duckdb

from org_simulator.generate import generate_org
from org_simulator.schema import ORG_TABLES


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--size", default="demo")
    parser.add_argument("--seed", type=int, default=42)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        started = time.monotonic()
        path = generate_org(args.size, args.seed, Path(tmp) / "sim.duckdb")
        elapsed = time.monotonic() - started
        con = duckdb.connect(str(path), read_only=True)
        rows = sum(con.execute(f"select count(*) from {t}").fetchone()[0] for t in ORG_TABLES)
        prs = con.execute("select count(*) from gh_pull_requests").fetchone()[0]
        con.close()
        size_mb = path.stat().st_size / 2**20
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(
        f"size={args.size} seed={args.seed} wall={elapsed:.1f}s rows={rows:,} prs={prs:,} "
        f"rows/s={rows / elapsed:,.0f} peak_rss={peak_mb:,.0f}MiB store={size_mb:,.0f}MiB"
    )


if __name__ == "__main__":
    main()
