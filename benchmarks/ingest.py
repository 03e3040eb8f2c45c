"""Benchmark: a full load of each source from the simulated organisation, against a baseline.

.venv/bin/python -m benchmarks.ingest --size demo
.venv/bin/python -m benchmarks.ingest --size medium --sources github --github-rate-limit 1000000

Each source loads into a fresh warehouse in its own child process, so its peak memory
(the child's VmHWM) is its own. The loader's HTTP session records every page it
received and the time spent fetching. The baseline is what DuckDB does natively with the same
pages: the loader's own fetch time plus `read_json` of the recorded bodies (one table per
route; schema inference bounded at depth 3, deeper values kept as JSON, as the loaders bound
their nesting; the pages are gathered into one file per route before the clock starts).
`x baseline` = loader wall time / baseline time; the target is 3x or less.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
import tempfile
import threading
import time
from collections import defaultdict
from pathlib import Path

import duckdb

from benchmarks.in_flight import InFlight
from benchmarks.process_memory import peak_mib
from org_simulator.demo import store_path
from org_simulator.process import SimulatorProcess
from org_simulator.sources_env import simulator_sources_env
from pipelines.sources import SOURCES


def _record_pages(record_dir: Path) -> tuple[InFlight, dict[str, int]]:
    """Patch the loaders' session to keep each 2xx JSON body, and to measure the wall time
    during which at least one request was in flight."""
    lock = threading.Lock()
    pages = {"count": 0}

    def keep(request, response) -> None:
        if 200 <= response.status_code < 300:
            with lock:
                pages["count"] += 1
                number = pages["count"]
            route = re.sub(r"/\d+|/[A-Z][A-Z0-9]+(?=/|$)", "/_", request.path_url.split("?")[0])
            name = re.sub(r"[^A-Za-z0-9]+", "_", route).strip("_")
            (record_dir / f"{name}.{number:07d}.json").write_bytes(response.content)

    clock = InFlight(on_response=keep)
    clock.install()
    return clock, pages


def _child_load(source: str, warehouse: Path, record_dir: Path) -> None:
    from pipelines.ingest.loads import run_load

    clock, pages = _record_pages(record_dir)
    started = time.perf_counter()
    counts = run_load(source, warehouse)
    seconds = time.perf_counter() - started
    timing = {"http_seconds": clock.seconds, "pages": pages["count"]}
    print(json.dumps({"counts": counts, "seconds": seconds, "peak_mib": peak_mib(), **timing}))


def _native_seconds(record_dir: Path, warehouse: Path) -> float:
    """DuckDB's read_json over the recorded pages, one table per route.

    Untimed preparation: each route's pages become one newline-delimited file (a list page
    contributes its elements, an object page itself), so DuckDB reads one file per route
    rather than holding a reader per page."""
    groups: dict[str, list[Path]] = defaultdict(list)
    for path in sorted(record_dir.glob("*.json")):
        groups[path.name.split(".")[0]].append(path)
    merged = []
    for route, paths in sorted(groups.items()):
        target = record_dir / f"{route}.ndjson"
        with target.open("w") as out:
            for path in paths:
                body = json.loads(path.read_bytes())
                for record in body if isinstance(body, list) else [body]:
                    out.write(json.dumps(record) + "\n")
        if target.stat().st_size:
            merged.append(target)
    started = time.perf_counter()
    with duckdb.connect(str(warehouse), config={"memory_limit": "4GB"}) as con:
        for i, path in enumerate(merged):
            con.execute(
                f"create table t{i} as select * from read_json(?, "
                "format = 'newline_delimited', maximum_depth = 3)",
                [str(path)],
            )
    return time.perf_counter() - started


def _run_source(source: str, env: dict[str, str], work: Path) -> dict[str, object]:
    record_dir = work / f"{source}-pages"
    record_dir.mkdir()
    warehouse = work / f"{source}.duckdb"
    proc = subprocess.Popen(
        [sys.executable, "-m", "benchmarks.ingest", "--child", source]
        + ["--warehouse", str(warehouse), "--record", str(record_dir)],
        env={**os.environ, **env},
        stdout=subprocess.PIPE,
        text=True,
    )
    out = proc.stdout.read() if proc.stdout else ""
    if proc.wait() != 0:
        raise SystemExit(f"{source}: the load failed (exit {proc.returncode})")
    result = json.loads(out.strip().splitlines()[-1])
    rows = sum(n for table, n in result["counts"].items() if table != "quarantine")
    native = result["http_seconds"] + _native_seconds(record_dir, work / f"{source}-native.duckdb")
    return {
        "source": source,
        "rows": rows,
        "pages": result["pages"],
        "seconds": result["seconds"],
        "rows_per_s": rows / result["seconds"],
        "peak_rss_mib": result["peak_mib"],
        "baseline_s": native,
        "x_baseline": result["seconds"] / native,
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--size", default="demo")
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--sources", default=",".join(SOURCES))
    parser.add_argument(
        "--github-rate-limit",
        type=int,
        help="requests per hour the simulated GitHub allows (default: its own, 15,000); a "
        "backfill larger than that waits out the window",
    )
    parser.add_argument(
        "--github-repositories",
        type=int,
        help="load only the first N repositories of the organisation (a sample of a large "
        "one; the simulated API answers a medium org's per-run requests slowly)",
    )
    parser.add_argument("--child", help=argparse.SUPPRESS)
    parser.add_argument("--warehouse", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--record", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        _child_load(args.child, args.warehouse, args.record)
        return

    store = store_path(args.size, args.seed)
    print(f"size={args.size} seed={args.seed} store={store}")
    print(
        f"{'source':<10} {'rows':>9} {'pages':>7} {'seconds':>8} {'rows/s':>8} "
        f"{'peak MiB':>9} {'baseline s':>10} {'x baseline':>10}"
    )
    sim = SimulatorProcess(store, github_rate_limit=args.github_rate_limit, page_cache_mib=0)
    with sim, tempfile.TemporaryDirectory(prefix="aow-bench-") as tmp:
        env = simulator_sources_env(sim)
        if args.github_repositories:
            repos = sim.repositories()[: args.github_repositories]
            env["SOURCES__GITHUB__REPOSITORIES"] = json.dumps(repos)
            print(f"github: the first {len(repos)} of {len(sim.repositories())} repositories")
        for source in args.sources.split(","):
            r = _run_source(source, env, Path(tmp))
            print(
                f"{r['source']:<10} {r['rows']:>9,} {r['pages']:>7,} {r['seconds']:>8.1f} "
                f"{r['rows_per_s']:>8,.0f} {r['peak_rss_mib']:>9,.0f} {r['baseline_s']:>10.1f} "
                f"{r['x_baseline']:>10.1f}"
            )


if __name__ == "__main__":
    main()
