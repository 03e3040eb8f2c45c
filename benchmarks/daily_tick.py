"""Benchmark: the daily run, one new day on a warehouse that holds the history before it.

.venv/bin/python -m benchmarks.daily_tick --size demo
.venv/bin/python -m benchmarks.daily_tick --size medium --github-rate-limit 1000000

The organisation's history up to the day before its last (`--day`, default the simulated
clock's last whole day) is loaded once through the whole Dagster job, as a backfill makes it,
into a kept warehouse (.data/bench/tick-<size>-seed<seed>.duckdb, with its Dagster instance
beside it). Each measurement starts from a copy of that warehouse and instance, in a child
process of its own (its peak memory is its own), and runs `daily_warehouse_job` as the
schedule would:

    new day     the vendors' clock moves to 06:00 UTC after `--day`; the run is that day's
    no change   the same run again at once: nothing new to load

Before them, unmeasured in the comparison, the previous day's run again with this code
("settle"): a deployed project's daily run starts from the state yesterday's run left.

Reported per run: wall seconds, peak resident MiB, API requests, the dbt models and tests it
built, the slowest steps and the steps with the highest peak memory (each step's own: see
StepPeaks).
"""

from __future__ import annotations

import argparse
import io
import json
import os
import shutil
import subprocess
import sys
import time
from dataclasses import replace
from datetime import date, datetime, timedelta
from pathlib import Path

from benchmarks.process_memory import peak_mib, reset_peak
from org_simulator.demo import DATA_DIR, store_path
from org_simulator.process import SimulatorProcess
from org_simulator.seeds import simulated_org_settings
from org_simulator.sources_env import simulator_sources_env
from pipelines.project_files import DAGSTER_INSTANCE_CONFIG

TICK_HOUR = 6
DBT_STEPS = ("dbt_foundation", "dbt_daily_spend", "dbt_outcomes")


def _paths(size: str, seed: int) -> tuple[Path, Path]:
    base = DATA_DIR / "bench" / f"tick-{size}-seed{seed}"
    return base.with_suffix(".duckdb"), base.with_name(base.name + "-dagster")


def _run(
    store: Path,
    warehouse: Path,
    home: Path,
    first: str,
    last: str,
    now: datetime,
    rate_limit: int | None,
) -> dict:
    """The daily job over first..last with the vendors' clock at `now`, in this process."""
    import dagster as dg

    from pipelines.orchestration.definitions import build_definitions
    from pipelines.orchestration.partitions import range_tags
    from pipelines.orchestration.run_progress import execute_with_progress
    from pipelines.progress import Console
    from pipelines.transform.dbt_runner import prepare_manifest

    prepare_manifest()
    settings = replace(simulated_org_settings(store), duckdb_path=warehouse)
    job = build_definitions(settings).resolve_job_def("daily_warehouse_job")
    # The vendors in a process of their own, as the demo serves them: the run's process is
    # the daily job's alone.
    with SimulatorProcess(store, github_rate_limit=rate_limit, page_cache_mib=0) as sim:
        sim.set_now(now)
        os.environ.update(simulator_sources_env(sim))
        instance = dg.DagsterInstance.from_config(str(home))
        started = time.perf_counter()
        peaks = StepPeaks()
        result = execute_with_progress(
            job,
            Console(io.StringIO(), io.StringIO(), tty=False),
            loggers={"step_peaks": peaks.logger()},
            instance=instance,
            tags=range_tags(first, last),
            raise_on_error=False,
        )
        seconds = time.perf_counter() - started
        requests = sim.stats()["total"]
    steps = _step_seconds(instance, result.run_id)
    built = _dbt_nodes(result)
    return {
        "success": result.success,
        "seconds": seconds,
        "requests": requests,
        "peak_mib": max([peak_mib(), *peaks.mib.values()]),
        "step_peaks": sorted(peaks.mib.items(), key=lambda kv: -kv[1]),
        "models": built["models"],
        "tests": built["tests"],
        "marts": built["marts"],
        "steps": sorted(steps.items(), key=lambda kv: -kv[1]),
        "by_kind": _by_kind(steps, seconds),
    }


class StepPeaks:
    """Each step's peak resident memory: the kernel's peak (VmHWM) is reset when a step
    starts (/proc/self/clear_refs, Linux 4.0 and later) and read when it ends; `between`
    is the run's own peak outside its steps. The in-process executor runs one step at a
    time, so a step's peak is its own."""

    def __init__(self) -> None:
        self.mib: dict[str, float] = {}

    def record(self, record) -> None:
        event = getattr(record, "dagster_event", None)
        if event is None:
            return
        if event.event_type_value == "STEP_START":
            self.mib["between"] = max(self.mib.get("between", 0.0), peak_mib())
            reset_peak()
        elif event.event_type_value in ("STEP_SUCCESS", "STEP_FAILURE"):
            self.mib[event.step_key] = peak_mib()
            reset_peak()

    def logger(self):
        import logging

        import dagster as dg

        peaks = self

        class Handler(logging.Handler):
            def emit(self, record: logging.LogRecord) -> None:
                peaks.record(record)

        def make(_context):
            logger = logging.Logger("aow.bench.step_peaks", level=logging.DEBUG)
            logger.addHandler(Handler())
            return logger

        return dg.LoggerDefinition(make, description="Each step's peak resident memory.")


def _step_seconds(instance, run_id: str) -> dict[str, float]:
    starts, seconds = {}, {}
    for entry in instance.all_logs(run_id):
        event = entry.dagster_event
        if event is None:
            continue
        if event.event_type_value == "STEP_START":
            starts[event.step_key] = entry.timestamp
        elif (
            event.event_type_value in ("STEP_SUCCESS", "STEP_FAILURE") and event.step_key in starts
        ):
            seconds[event.step_key] = entry.timestamp - starts[event.step_key]
    return seconds


def _by_kind(steps: dict[str, float], wall: float) -> dict[str, float]:
    """Step seconds summed by kind; `other` is the run's own time outside any step."""
    kinds = {"loads": 0.0, "dbt": 0.0, "checks": 0.0, "serving": 0.0}
    for step, secs in steps.items():
        if step in DBT_STEPS:
            kinds["dbt"] += secs
        elif step in ("publication", "serving__dbt_docs"):
            kinds["serving"] += secs
        elif step in ("anthropic", "github", "jira", "openai", "pagerduty"):
            kinds["loads"] += secs
        else:
            kinds["checks"] += secs
    kinds["other"] = wall - sum(kinds.values())
    return kinds


def _dbt_nodes(result) -> dict[str, int]:
    """What dbt built in the run (not the models its ops report unchanged)."""
    models = marts = tests = 0
    for event in result.all_events:
        if event.step_key not in DBT_STEPS:
            continue
        if event.event_type_value == "ASSET_MATERIALIZATION":
            if "rebuilt" in event.event_specific_data.materialization.metadata:
                continue
            models += 1
            marts += event.asset_key.path[0] == "marts"
        elif event.event_type_value == "ASSET_CHECK_EVALUATION":
            tests += 1
    return {"models": models, "tests": tests, "marts": marts}


def _child(args: argparse.Namespace) -> None:
    now = datetime.fromisoformat(args.now)
    result = _run(
        args.store, args.warehouse, args.home, args.first, args.last, now, args.github_rate_limit
    )
    print(json.dumps(result))


def _in_child(
    store: Path,
    warehouse: Path,
    home: Path,
    first: str,
    last: str,
    now: datetime,
    rate_limit: int | None,
) -> dict:
    cmd = [sys.executable, "-m", "benchmarks.daily_tick", "--child", "--store", str(store)]
    cmd += ["--warehouse", str(warehouse), "--home", str(home), "--first", first, "--last", last]
    cmd += ["--now", now.isoformat()]
    if rate_limit:
        cmd += ["--github-rate-limit", str(rate_limit)]
    env = {**os.environ, "DAGSTER_HOME": str(home)}
    proc = subprocess.run(cmd, capture_output=True, text=True, check=False, env=env)
    if proc.returncode != 0:
        raise SystemExit(f"the run's process failed:\n{proc.stderr[-4000:]}")
    return json.loads(proc.stdout.strip().splitlines()[-1])


def _copy(warehouse: Path, home: Path, to: Path) -> tuple[Path, Path]:
    shutil.rmtree(to, ignore_errors=True)
    to.mkdir(parents=True)
    w, h = to / warehouse.name, to / "dagster"
    shutil.copyfile(warehouse, w)
    shutil.copytree(home, h)
    # The project's instance, as `make dev` and a deployed schedule run with it.
    shutil.copyfile(DAGSTER_INSTANCE_CONFIG, h / "dagster.yaml")
    # The dbt docs are kept beside their warehouse (pipelines.serving.dbt_docs).
    docs = warehouse.with_name(f"{warehouse.stem}_docs")
    if docs.exists():
        shutil.rmtree(to / docs.name, ignore_errors=True)
        shutil.copytree(docs, to / docs.name)
    return w, h


def _print(label: str, r: dict, every_step: bool = False) -> None:
    status = "ok" if r["success"] else "FAILED"
    print(
        f"{label:<10} {status:<6} {r['seconds']:>7.1f} s {r['peak_mib']:>7,.0f} MiB "
        f"{r['requests']:>7,} requests  dbt: {r['models']} models ({r['marts']} marts), "
        f"{r['tests']} tests"
    )
    steps = r["steps"] if every_step else r["steps"][:6]
    print("           slowest steps: " + ", ".join(f"{k} {v:.1f}s" for k, v in steps))
    peaks = r["step_peaks"] if every_step else r["step_peaks"][:4]
    print("           step peaks: " + ", ".join(f"{k} {v:,.0f} MiB" for k, v in peaks))
    if "by_kind" in r:
        print("           by kind: " + ", ".join(f"{k} {v:.1f}s" for k, v in r["by_kind"].items()))


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--size", default="demo")
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--day", help="the new day (default: the clock's last whole day)")
    parser.add_argument("--github-rate-limit", type=int, help="see benchmarks.ingest")
    parser.add_argument("--steps", action="store_true", help="print every step, not the slowest")
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    for name in ("store", "warehouse", "home"):
        parser.add_argument(f"--{name}", type=Path, help=argparse.SUPPRESS)
    for name in ("first", "last", "now"):
        parser.add_argument(f"--{name}", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        _child(args)
        return

    store = store_path(args.size, args.seed)
    with SimulatorProcess(store, page_cache_mib=0) as sim:
        history_start = sim.history_start()[:10]
        clock = sim.now
    day = date.fromisoformat(args.day) if args.day else clock.date() - timedelta(days=1)
    before = day - timedelta(days=1)
    warehouse, home = _paths(args.size, args.seed)
    history_now = datetime.combine(day, datetime.min.time()).replace(hour=TICK_HOUR)
    done = warehouse.with_suffix(".loaded")
    if not done.exists():
        home.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(DAGSTER_INSTANCE_CONFIG, home / "dagster.yaml")
        warehouse.unlink(missing_ok=True)
        r = _in_child(
            store,
            warehouse,
            home,
            history_start,
            before.isoformat(),
            history_now,
            args.github_rate_limit,
        )
        _print("history", r)
        if not r["success"]:
            raise SystemExit("the history run failed")
        done.touch()
    size_mib = warehouse.stat().st_size / 2**20
    print(
        f"size={args.size} seed={args.seed} history {history_start}..{before} "
        f"({size_mib:,.0f} MiB warehouse), new day {day}"
    )
    now = datetime.combine(day + timedelta(days=1), datetime.min.time()).replace(hour=TICK_HOUR)
    w, h = _copy(warehouse, home, warehouse.parent / f"tick-run-{args.size}")
    # The previous day's run, with this code: what a deployed project's daily run starts
    # from (dbt's partial parse, the record of what was built and validated). Without it the
    # first measured run would pay for every change of code since the history was loaded.
    r = _in_child(
        store, w, h, before.isoformat(), before.isoformat(), history_now, args.github_rate_limit
    )
    _print("settle", r)
    for label in ("new day", "no change"):
        r = _in_child(store, w, h, day.isoformat(), day.isoformat(), now, args.github_rate_limit)
        _print(label, r, args.steps)


if __name__ == "__main__":
    main()
