"""Incremental models: a build after a second load equals a full refresh of the same data.

The builds after each load build only what changed since the last one (`changed_only`, as the
daily run does): the first builds everything, the second the nodes the second load reached.

The tiny organisation is loaded with the simulator's clock 12 days before its as-of date and
built; the clock then moves to the as-of date, the loaders pick up what changed, and dbt builds
incrementally (the large models reprocess only their look-back window). A full refresh of a copy
of that warehouse must give identical intermediate and mart tables, row for row. The builds
leave out dbt's data tests: the tables are what is compared, and the tests pass on the same
organisation's build in tests/transform.
"""

from __future__ import annotations

import shutil
from datetime import timedelta
from pathlib import Path

import duckdb
import pytest

from org_simulator.demo import store_path
from org_simulator.seeds import simulated_org_settings
from org_simulator.server import SimulatorServer
from org_simulator.sources_env import simulator_sources_env
from pipelines.ingest.loads import run_load
from pipelines.sources import SOURCES
from pipelines.transform.changes import LOAD_LOG_COLUMNS
from pipelines.transform.dbt_runner import build_models

EARLIER = timedelta(days=12)


def _tables(path: Path, schemas: tuple[str, ...]) -> list[str]:
    with duckdb.connect(str(path), read_only=True) as con:
        return [
            f"{s}.{t}"
            for s, t in con.execute(
                "select table_schema, table_name from information_schema.tables "
                f"where table_schema in {schemas} and table_type = 'BASE TABLE' order by 1, 2"
            ).fetchall()
        ]


def _differences(left: Path, right: Path, table: str) -> tuple[int, int, int]:
    """(rows, rows only in left, rows only in right), as multisets, the load log's own
    figures aside (changes.LOAD_LOG_COLUMNS: a build with nothing new leaves them)."""
    with duckdb.connect(str(left), read_only=True) as con:
        con.execute(f"attach '{right}' as other (read_only)")
        rows = con.execute(f"select count(*) from {table}").fetchone()[0]
        names = [c[0] for c in con.execute(f"select * from {table} limit 0").description]
        log = [c for c in names if c in LOAD_LOG_COLUMNS.get(table.split(".")[-1], ())]
        cols = f"* exclude ({', '.join(log)})" if log else "*"
        only_left = con.execute(
            f"select count(*) from (select {cols} from {table} "
            f"except all select {cols} from other.{table})"
        ).fetchone()[0]
        only_right = con.execute(
            f"select count(*) from (select {cols} from other.{table} "
            f"except all select {cols} from {table})"
        ).fetchone()[0]
    return rows, only_left, only_right


@pytest.fixture(scope="module")
def incremental_and_full(tmp_path_factory) -> tuple[Path, Path]:
    store = store_path("tiny", 7)
    work = tmp_path_factory.mktemp("incremental")
    warehouse = work / "incremental.duckdb"
    org = simulated_org_settings(store)
    org_args = {"seeds_dir": org.seeds_dir, "as_of": org.as_of, "tests": False}
    # The builds after each load build what changed, as the daily run does.
    daily = {**org_args, "changed_only": True}
    with SimulatorServer(store) as sim, pytest.MonkeyPatch.context() as mp:
        final_now = sim.now
        for key, value in simulator_sources_env(sim).items():
            mp.setenv(key, value)
        sim.set_now(final_now - EARLIER)
        for source in SOURCES:
            run_load(source, warehouse)
        first = build_models(warehouse, **daily)
        assert first.success, first.failed or first.error
        sim.set_now(final_now)
        for source in SOURCES:
            run_load(source, warehouse)
    second = build_models(warehouse, **daily)
    assert second.success, second.failed or second.error
    full = work / "full.duckdb"
    shutil.copyfile(warehouse, full)
    rebuilt = build_models(full, full_refresh=True, **org_args)
    assert rebuilt.success, rebuilt.failed or rebuilt.error
    return warehouse, full


def test_incremental_build_equals_full_refresh(incremental_and_full):
    incremental, full = incremental_and_full
    tables = _tables(full, ("intermediate", "marts"))
    assert "marts.fct_pull_requests" in tables and "intermediate.int_ai_spend" in tables
    assert _tables(incremental, ("intermediate", "marts")) == tables
    differing = {}
    for table in tables:
        rows, only_incremental, only_full = _differences(incremental, full, table)
        if only_incremental or only_full:
            differing[table] = (rows, only_incremental, only_full)
    assert differing == {}


def test_the_second_load_added_rows_the_first_build_had_not_seen(incremental_and_full):
    """The comparison means something only if the second load changed the data."""
    incremental, _ = incremental_and_full
    with duckdb.connect(str(incremental), read_only=True) as con:
        loads = con.execute(
            "select count(distinct _dlt_load_id) from raw_anthropic.messages_usage"
        ).fetchone()[0]
        late_days = con.execute(
            "select count(distinct day) from intermediate.int_ai_spend "
            "where day >= date '2026-11-01' - interval 12 day"
        ).fetchone()[0]
    assert loads == 2
    assert late_days >= 10


def test_a_build_with_nothing_new_builds_nothing(incremental_and_full):
    incremental, _ = incremental_and_full
    org = simulated_org_settings(store_path("tiny", 7))
    again = build_models(
        incremental, seeds_dir=org.seeds_dir, as_of=org.as_of, tests=False, changed_only=True
    )
    assert again.success and again.nodes == []
    # A changed clock reaches the models that read it, and what is downstream of them.
    later = build_models(
        incremental,
        seeds_dir=org.seeds_dir,
        as_of="2026-11-02T00:00:00",
        tests=False,
        changed_only=True,
    )
    built = {n.unique_id.split(".")[-1] for n in later.nodes}
    assert later.success
    assert {"int_pull_requests__survival", "mart_budget_runway", "mart_dora_summary"} <= built
    assert "stg_github__pull_requests" not in built and "int_people" not in built
