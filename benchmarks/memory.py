"""Benchmark: resident memory of a GitHub load, checkpoint by checkpoint.

.venv/bin/python -m benchmarks.memory --size demo
.venv/bin/python -m benchmarks.memory --size medium --github-repositories 25 \
    --github-rate-limit 1000000
.venv/bin/python -m benchmarks.memory --size demo --trace   # + Python allocations that grew

The load runs in a child process (so its peak is its own) through `load_checkpoints`, one
committed dlt run per group of `--repositories-per-run` repositories. Each phase of each
checkpoint (dlt's extract, normalize and load into the stage, then the swap into the
warehouse) resets the kernel's peak (`/proc/self/clear_refs`) when it starts and reads it
(VmHWM) when it ends, so every phase's peak is its own. After each checkpoint: the resident
size, what glibc's heap holds in use and free (mallinfo2), pyarrow's pool, the process's
threads and open DuckDB files. `--trace` adds tracemalloc's largest growths between
checkpoints (slow: several times the load's time).
"""

from __future__ import annotations

import argparse
import contextlib
import ctypes
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from benchmarks.process_memory import reset_peak, status
from org_simulator.demo import store_path
from org_simulator.server import SimulatorServer
from org_simulator.sources_env import simulator_sources_env
from org_simulator.vendors import github_transport
from pipelines.ingest.memory_bounds import MallInfo2

PHASES = ("extract", "normalize", "load", "swap")
MIB = 1024 * 1024


def _heap() -> dict[str, float]:
    """glibc's heap: bytes in use by malloc's callers, and bytes free but kept (MiB)."""
    try:
        info = ctypes.CDLL("libc.so.6").mallinfo2
    except (OSError, AttributeError):
        return {}
    info.restype = MallInfo2
    m = info()
    return {"heap_used": (m.uordblks + m.hblkhd) / MIB, "heap_free": m.fordblks / MIB}


def _duckdb_files() -> int:
    """DuckDB files this process holds open (the warehouse, the stage, their logs)."""
    count = 0
    for fd in Path("/proc/self/fd").iterdir():
        with contextlib.suppress(OSError):
            count += os.readlink(fd).endswith((".duckdb", ".duckdb.wal"))
    return count


def _probe_phases(peaks: dict[str, float]) -> None:
    """Wrap dlt's three steps and the swap so each records its own peak into `peaks`."""
    import dlt

    from pipelines.ingest import loads

    def probed(name, function):
        def run(*args, **kwargs):
            reset_peak()
            try:
                return function(*args, **kwargs)
            finally:
                peaks[name] = status("VmHWM")

        return run

    for phase in ("extract", "normalize", "load"):
        setattr(dlt.Pipeline, phase, probed(phase, getattr(dlt.Pipeline, phase)))
    loads.swap_in = probed("swap", loads.swap_in)


def _child(warehouse: Path, trace: bool) -> None:
    import pyarrow

    from pipelines.ingest.loads import load_checkpoints

    if trace:
        import tracemalloc

        tracemalloc.start(8)
        before = tracemalloc.take_snapshot()
    peaks: dict[str, float] = {}
    _probe_phases(peaks)
    highest = 0.0
    started = time.perf_counter()
    print(json.dumps({"imported_mib": status("VmRSS")}), flush=True)
    for n, (_pipeline, counts) in enumerate(load_checkpoints("github", warehouse), 1):
        line: dict[str, Any] = {
            "checkpoint": n,
            "seconds": time.perf_counter() - started,
            "rows": sum(v for t, v in counts.items() if t != "quarantine"),
            **{f"{p}_peak": peaks.pop(p, float("nan")) for p in PHASES},
            "rss": status("VmRSS"),
            **_heap(),
            "arrow": pyarrow.total_allocated_bytes() / MIB,
            "py_blocks": sys.getallocatedblocks() / 1e6,
            "threads": status("Threads"),
            "duckdb_files": _duckdb_files(),
        }
        highest = max(highest, *(line[f"{p}_peak"] for p in PHASES))
        if trace:
            after = tracemalloc.take_snapshot()
            top = after.compare_to(before, "traceback")[:5]
            line["grew"] = [
                f"{s.size_diff / MIB:+.1f} MiB {s.count_diff:+d} at "
                + " < ".join(
                    f"{f.filename.split('site-packages/')[-1]}:{f.lineno}" for f in s.traceback[:4]
                )
                for s in top
            ]
            before = after
        print(json.dumps(line), flush=True)
    print(json.dumps({"done": True, "peak_mib": max(highest, status("VmHWM"))}), flush=True)


def _run(env: dict[str, str], work: Path, trace: bool) -> None:
    args = [sys.executable, "-m", "benchmarks.memory", "--child", str(work / "github.duckdb")]
    proc = subprocess.Popen(
        args + (["--trace"] if trace else []),
        env={**os.environ, **env},
        stdout=subprocess.PIPE,
        text=True,
    )
    assert proc.stdout is not None
    print(
        f"{'ckpt':>4} {'seconds':>8} {'rows':>8} "
        + " ".join(f"{p + ' pk':>10}" for p in PHASES)
        + f" {'rss':>7} {'heap use':>8} {'heap free':>9} {'arrow':>6} {'py Mblk':>7}"
        + f" {'thr':>4} {'db fds':>6}"
    )
    for raw in proc.stdout:
        line = json.loads(raw)
        if "imported_mib" in line:
            print(f"after imports: {line['imported_mib']:.0f} MiB")
        elif "checkpoint" in line:
            print(
                f"{line['checkpoint']:>4} {line['seconds']:>8.1f} {line['rows']:>8,} "
                + " ".join(f"{line[f'{p}_peak']:>10.0f}" for p in PHASES)
                + f" {line['rss']:>7.0f} {line.get('heap_used', 0):>8.0f}"
                f" {line.get('heap_free', 0):>9.0f} {line['arrow']:>6.1f} {line['py_blocks']:>7.2f}"
                f" {line['threads']:>4.0f} {line['duckdb_files']:>6}"
            )
            for grew in line.get("grew", []):
                print(f"       {grew}")
        else:
            print(f"whole load: peak {line['peak_mib']:.0f} MiB")
    if proc.wait() != 0:
        raise SystemExit(f"the load failed (exit {proc.returncode})")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--size", default="demo")
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--github-rate-limit", type=int, help="see benchmarks.ingest")
    parser.add_argument("--github-repositories", type=int, help="see benchmarks.ingest")
    parser.add_argument(
        "--repositories-per-run",
        type=int,
        help="repositories per checkpoint (SOURCES__GITHUB__REPOSITORIES_PER_RUN; default 5)",
    )
    parser.add_argument("--trace", action="store_true", help="tracemalloc's growths (slow)")
    parser.add_argument("--child", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        _child(args.child, args.trace)
        return

    if args.github_rate_limit:
        github_transport.RATE_LIMIT = args.github_rate_limit
    store = store_path(args.size, args.seed)
    with SimulatorServer(store) as sim, tempfile.TemporaryDirectory(prefix="aow-bench-") as tmp:
        env = simulator_sources_env(sim)
        repos = sim.repositories()[: args.github_repositories]
        env["SOURCES__GITHUB__REPOSITORIES"] = json.dumps(repos)
        if args.repositories_per_run:
            env["SOURCES__GITHUB__REPOSITORIES_PER_RUN"] = str(args.repositories_per_run)
        print(f"size={args.size} seed={args.seed}: {len(repos)} repositories (MiB throughout)")
        _run(env, Path(tmp), args.trace)


if __name__ == "__main__":
    main()
