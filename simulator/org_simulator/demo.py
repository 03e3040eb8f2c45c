"""The demo: simulate an organisation, serve it as the vendors' APIs, run the daily job on it."""

from __future__ import annotations

import time
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING

import duckdb

from org_simulator.generate import STORE_VERSION, generate_org
from org_simulator.options import Generation, OrgOptions
from org_simulator.process import SimulatorProcess
from org_simulator.seeds import simulated_org_settings
from org_simulator.sources_env import simulator_sources_env
from pipelines.atomic_files import written_atomically
from pipelines.envvars import temporary_env
from pipelines.progress import Console, run_line
from pipelines.serving.dbt_docs import STATIC_PAGE, docs_dir
from pipelines.serving.summary import format_summary, outcome_summary
from pipelines.settings import Settings

if TYPE_CHECKING:
    import dagster as dg

    from org_simulator.server import SimulatorServer

# The repository's .data/ (simulator/org_simulator/demo.py -> the workspace root).
DATA_DIR = Path(__file__).resolve().parents[2] / ".data"
# After the summary: where to read the warehouse next (the dashboard reads the publication
# beside the demo's warehouse, .data/demo.serving.duckdb).
OPEN_HINT = (
    "Open the dashboard: make dashboard  (http://127.0.0.1:8501)\n"
    "Read the docs:      README.md and docs/  (each metric: docs/metrics.md)"
)


def store_path(
    size: str, seed: int, data_dir: Path = DATA_DIR, generation: Generation | None = None
) -> Path:
    """The simulator store of this size and seed (and generation options, pipelines.
    simulator.options), generated once and reused."""
    generation = generation or Generation()
    path = data_dir / "sim" / f"{size}-seed{seed}{generation.suffix}-v{STORE_VERSION}.duckdb"
    if not path.exists():
        # Complete or absent, never half-written; two processes (the test workers) may
        # generate it at once, and either's store is the same.
        with written_atomically(path) as tmp:
            generate_org(size=size, seed=seed, path=tmp, generation=generation)
    return path


def history_range_tags(sim: SimulatorServer | SimulatorProcess) -> dict[str, str]:
    """Run tags for one run over every daily partition of the organisation's history up to
    the simulator's clock: the backfill a new warehouse starts with."""
    from pipelines.orchestration.partitions import range_tags
    from pipelines.orchestration.schedules import last_complete_day

    return range_tags(sim.history_start()[:10], last_complete_day(sim.now))


def run_demo(
    size: str,
    seed: int,
    warehouse: Path,
    options: OrgOptions | None = None,
    verbose: bool = False,
) -> int:
    """Run the whole Dagster job against the simulated vendors, a line per step as it
    finishes (Dagster's whole event stream if `verbose`); print a summary. Exit code."""
    started = time.monotonic()
    options = options or OrgOptions()
    store = store_path(size, seed, generation=options.generation)
    print(f"simulated organisation: {size} (seed {seed}) -> {store}")
    warehouse.parent.mkdir(parents=True, exist_ok=True)
    # A demo is one organisation in one fresh warehouse: never merge two simulations.
    for stale in (warehouse, warehouse.with_name(warehouse.name + ".wal")):
        stale.unlink(missing_ok=True)
    # dbt reads this organisation's seeds and clock, not the committed demo seeds; the other
    # settings are the defaults, whatever the environment says.
    settings = replace(simulated_org_settings(store), duckdb_path=warehouse.resolve())
    # The vendors answer from a process of their own, not from threads competing with the
    # loaders' for this one's interpreter lock (org_simulator.process). The job asks for each
    # page once: a page cache would only hold memory.
    with SimulatorProcess(store, absent_fields=options.absent_fields, page_cache_mib=0) as sim:
        print(f"simulated vendor APIs on {sim.url}")
        # The sources' settings are dlt's, read from the environment.
        with temporary_env(simulator_sources_env(sim, vendors=options.vendors)):
            result = run_daily_job(settings, history_range_tags(sim), verbose=verbose)
        requests = sim.stats()["total"]
    elapsed = time.monotonic() - started
    print("\n" + run_line("daily_warehouse_job", result.success, elapsed, requests))
    print(f"warehouse: {warehouse.resolve()}")
    page = docs_dir(warehouse) / STATIC_PAGE
    if result.success and page.exists():
        print(f"dbt docs (open from disk): {page.as_uri()}")
    print()
    print_summary(warehouse)
    print(f"\n{OPEN_HINT}")
    return 0 if result.success else 1


def run_daily_job(
    settings: Settings, tags: dict[str, str], verbose: bool = False
) -> dg.ExecuteInProcessResult:
    """daily_warehouse_job in this process, on the definitions `settings` make, its
    progress on the console (pipelines.orchestration.run_progress)."""
    from pipelines.orchestration.definitions import build_definitions
    from pipelines.orchestration.run_progress import execute_with_progress
    from pipelines.transform.dbt_runner import prepare_manifest

    prepare_manifest()
    job = build_definitions(settings).resolve_job_def("daily_warehouse_job")
    return execute_with_progress(job, Console(), verbose=verbose, tags=tags)


def print_summary(warehouse: Path) -> None:
    """A short read of what the warehouse now holds."""
    con = duckdb.connect(str(warehouse), read_only=True)
    try:
        tables = con.execute(
            "select table_schema, table_name from information_schema.tables "
            "where table_schema like 'raw_%' and table_schema not like '%_staging' "
            "and table_name not like '_dlt%' "
            "order by 1, 2"
        ).fetchall()
        print("raw tables")
        for schema, table in tables:
            n = con.execute(f'select count(*) from "{schema}"."{table}"').fetchone()[0]
            print(f"  {schema + '.' + table:<48} {n:>9,} rows")
        print()
        try:
            print(format_summary(outcome_summary(con)))
        except duckdb.CatalogException as exc:  # the job failed before the marts were built
            print(f"no outcome summary: the marts are not built ({exc})")
    finally:
        con.close()
