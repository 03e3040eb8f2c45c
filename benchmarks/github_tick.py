"""Benchmark: GitHub's daily load alone, where its time goes.

.venv/bin/python -m benchmarks.github_tick --size medium

On a copy of the warehouse `benchmarks.daily_tick` keeps (.data/bench/tick-<size>-seed<seed>.duckdb,
the history up to the day before the clock's last; run daily_tick once first), GitHub is
loaded as the daily run loads it, with the vendors' clock at 06:00 after the new day: once
(new day), then again at once (nothing new). Reported per load: wall seconds, the runs
(checkpoints), the copy into the stage, the swaps, dlt's extract, normalize and load steps
summed over the runs, and the seconds during which at least one request was in flight. The
loader's CPU seconds (the simulator serves from a process of its own) vary less than its wall
time on a shared machine.
"""

from __future__ import annotations

import argparse
import os
import shutil
import time
from collections import Counter
from datetime import datetime, timedelta
from pathlib import Path

from benchmarks.in_flight import InFlight
from org_simulator.demo import DATA_DIR, store_path
from org_simulator.process import SimulatorProcess
from org_simulator.sources_env import simulator_sources_env

TICK_HOUR = 6


class Clock:
    """Seconds and calls per phase of a load."""

    def __init__(self) -> None:
        self.seconds: Counter[str] = Counter()
        self.calls: Counter[str] = Counter()

    def timed(self, owner: object, name: str, phase: str) -> None:
        function = getattr(owner, name)

        def run(*args, **kwargs):
            started = time.perf_counter()
            try:
                return function(*args, **kwargs)
            finally:
                self.seconds[phase] += time.perf_counter() - started
                self.calls[phase] += 1

        setattr(owner, name, run)

    def reset(self) -> None:
        self.seconds.clear()
        self.calls.clear()


def _load(warehouse: Path, clock: Clock, http: InFlight) -> str:
    from pipelines.ingest.loads import load_checkpoints

    clock.reset()
    http.seconds, http.requests = 0.0, 0
    started, cpu, runs, rows = time.perf_counter(), time.process_time(), 0, 0
    for pipeline, counts in load_checkpoints("github", warehouse):
        runs, rows = runs + 1, rows + sum(counts.values())
        for step in pipeline.last_trace.steps:
            if step.step in ("extract", "normalize", "load"):
                seconds = (step.finished_at - step.started_at).total_seconds()
                clock.seconds[f"dlt {step.step}"] += seconds
    wall, cpu = time.perf_counter() - started, time.process_time() - cpu
    s, n = clock.seconds, clock.calls
    return (
        f"{wall:6.1f} s ({cpu:.1f} s CPU)  {runs} runs, {rows:,} rows, {http.requests:,} requests "
        f"({http.seconds:.1f} s in flight) | stage {s['stage']:.1f} s, "
        f"swaps {n['swap']} {s['swap']:.1f} s | dlt extract {s['dlt extract']:.1f} s, "
        f"normalize {s['dlt normalize']:.1f} s, load {s['dlt load']:.1f} s"
    )


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--size", default="medium")
    parser.add_argument("--seed", type=int, default=42)
    args = parser.parse_args()

    from pipelines.ingest import loads

    kept = DATA_DIR / "bench" / f"tick-{args.size}-seed{args.seed}.duckdb"
    if not kept.with_suffix(".loaded").exists():
        raise SystemExit(f"no {kept}: run benchmarks.daily_tick --size {args.size} first")
    run_dir = DATA_DIR / "bench" / f"github-tick-{args.size}"
    shutil.rmtree(run_dir, ignore_errors=True)
    run_dir.mkdir(parents=True)
    warehouse = run_dir / kept.name
    shutil.copyfile(kept, warehouse)

    clock = Clock()
    clock.timed(loads, "stage_dataset", "stage")
    clock.timed(loads, "swap_in", "swap")
    http = InFlight()
    http.install()
    with SimulatorProcess(
        store_path(args.size, args.seed), github_rate_limit=1_000_000, page_cache_mib=0
    ) as sim:
        day = sim.now.date() - timedelta(days=1)
        midnight = datetime.combine(day + timedelta(days=1), datetime.min.time())
        sim.set_now(midnight.replace(hour=TICK_HOUR))
        os.environ.update(simulator_sources_env(sim))
        print(f"size={args.size} seed={args.seed} new day {day}")
        for label in ("new day", "no change"):
            print(f"{label:<10} {_load(warehouse, clock, http)}", flush=True)


if __name__ == "__main__":
    main()
