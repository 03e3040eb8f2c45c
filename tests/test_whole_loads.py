"""A load killed with SIGKILL at any phase: readers never see a source half-applied, the next
load goes on from the last checkpoint swapped in, loses nothing and doubles nothing, and the
killed load's pipelines folder is swept.

Each load runs in a child process (tests/load_killer.py) against the simulator, killing
itself at a named phase; the test then reads the warehouse as a reader (dbt, a BI tool)
would, runs the next load in this process and compares with an uninterrupted load.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

import duckdb
import pytest

from org_simulator.server import SimulatorServer
from org_simulator.sources_env import simulator_sources_env
from pipelines.ingest.loads import run_load
from pipelines.sources import SOURCES

ROOT = Path(__file__).resolve().parent.parent
# Two GitHub repositories, one per checkpoint: a kill in the second checkpoint finds the
# first one committed.
GITHUB_REPOSITORIES = 2


@pytest.fixture(scope="module")
def vendor_env(tiny_store: Path) -> Iterator[dict[str, str]]:
    with SimulatorServer(tiny_store) as sim:
        env = simulator_sources_env(sim)
        repositories = sim.repositories()[:GITHUB_REPOSITORIES]
        env["SOURCES__GITHUB__REPOSITORIES"] = json.dumps(repositories)
        env["SOURCES__GITHUB__REPOSITORIES_PER_RUN"] = "1"
        yield env


class Uninterrupted(dict):
    """What one uninterrupted load of a source leaves, per table; each source loaded once,
    when a test first asks for it."""

    def __init__(self, env: dict[str, str], work: Path) -> None:
        super().__init__()
        self.env, self.work = env, work

    def __missing__(self, source: str) -> dict[str, Table]:
        warehouse = self.work / f"{source}.duckdb"
        with pytest.MonkeyPatch.context() as mp:
            for key, value in self.env.items():
                mp.setenv(key, value)
            mp.setattr(tempfile, "tempdir", str(self.work))
            run_load(source, warehouse)
        self[source] = tables(warehouse, SOURCES[source].dataset)
        return self[source]


@pytest.fixture(scope="module")
def uninterrupted(vendor_env, tmp_path_factory) -> Uninterrupted:
    return Uninterrupted(vendor_env, tmp_path_factory.mktemp("uninterrupted"))


class Table:
    """A raw table as a reader sees it: its natural keys (dlt's primary key), rows per
    GitHub repository, and the load packages its rows come from."""

    def __init__(self, con: duckdb.DuckDBPyConnection, dataset: str, name: str, key: list[str]):
        table = f'{dataset}."{name}"'
        self.rows = con.execute(f"select count(*) from {table}").fetchone()[0]
        columns = {r[0] for r in con.execute(f"describe {table}").fetchall()}
        # A child table has no key of its own: its rows are their values and their place in
        # the parent's list (dlt's ids differ from one load to the next).
        key = key or sorted(columns - {"_dlt_id", "_dlt_parent_id", "_dlt_root_id"})
        key_sql = ", ".join(f'"{k}"' for k in key)
        self.keys = set(con.execute(f"select {key_sql} from {table}").fetchall())
        repository = next((c for c in ("repo_full_name", "full_name") if c in columns), None)
        self.per_repository = dict(
            con.execute(f"select {repository}, count(*) from {table} group by 1").fetchall()
            if repository and dataset == SOURCES["github"].dataset
            else []
        )
        # Rows of a load package that never completed (child tables carry their root's).
        self.uncommitted = (
            con.execute(
                f"select count(*) from {table} where _dlt_load_id not in "
                f"(select load_id from {dataset}._dlt_loads where status = 0)"
            ).fetchone()[0]
            if "_dlt_load_id" in columns
            else 0
        )


def tables(warehouse: Path, dataset: str) -> dict[str, Table]:
    """Every data table of `dataset` (none when the dataset does not exist)."""
    with duckdb.connect(str(warehouse), read_only=True) as con:
        names = [
            r[0]
            for r in con.execute(
                "select table_name from duckdb_tables() where schema_name = ? "
                "and table_name not like '\\_dlt%' escape '\\' order by 1",
                [dataset],
            ).fetchall()
        ]
        if not names:
            return {}
        schema = json.loads(
            con.execute(
                f"select schema from {dataset}._dlt_version order by version desc"
            ).fetchone()[0]
        )
        return {name: Table(con, dataset, name, primary_key(schema, name)) for name in names}


def primary_key(schema: dict, table: str) -> list[str]:
    columns = schema["tables"].get(table, {}).get("columns", {})
    return [name for name, column in columns.items() if column.get("primary_key")]


def killed_load(phase: str, nth: int, source: str, warehouse: Path, env, tmp: Path):
    """Run the load in a child that kills itself at `phase`; returns the pipelines folder
    it leaves behind (`tmp` is the child's temporary directory, private to the test)."""
    child = subprocess.run(
        [sys.executable, "-m", "tests.load_killer", phase, str(nth), source, str(warehouse)],
        env={**os.environ, **env, "TMPDIR": str(tmp)},
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert child.returncode == -9, child.stderr[-2000:]  # killed, not failed
    (folder,) = tmp.glob("aow-dlt-*")  # what SIGKILL leaves behind
    return folder


# (source, phase, nth): GitHub killed in its second checkpoint (the first is committed),
# PagerDuty and Jira (one checkpoint each) in their only one.
# CI kills one source at every phase, and the two others at the phases that matter most; the
# rest run with the scale tests (`pytest -m slow`), each a minute of a 2-core CI machine.
SLOW = pytest.mark.slow
KILLS = [
    ("pagerduty", "extract", 3),
    ("pagerduty", "normalize", 1),
    ("pagerduty", "load", 1),
    ("pagerduty", "merge", 1),
    ("pagerduty", "swap", 1),
    ("jira", "merge", 1),  # issues merged, their changelog (a child table) not yet
    pytest.param("github", "merge", 2, marks=SLOW),
    ("github", "swap", 2),
]


@pytest.mark.parametrize(("source", "phase", "nth"), KILLS)
def test_a_killed_load_is_invisible_and_the_next_one_completes_it(
    source, phase, nth, vendor_env, uninterrupted, tmp_path, monkeypatch
):
    warehouse, tmp = tmp_path / "warehouse.duckdb", tmp_path / "tmp"
    tmp.mkdir()
    dataset = SOURCES[source].dataset
    folder = killed_load(phase, nth, source, warehouse, vendor_env, tmp)

    # What a reader sees: the checkpoints committed before the kill, whole, and nothing of
    # the one the kill interrupted.
    seen, reference = tables(warehouse, dataset), uninterrupted[source]
    assert all(table.uncommitted == 0 for table in seen.values())
    if source == "github":
        first, second = json.loads(vendor_env["SOURCES__GITHUB__REPOSITORIES"])
        for name, table in reference.items():
            if table.per_repository:
                assert seen[name].per_repository == {first: table.per_repository[first]}, name
    else:
        assert sum(table.rows for table in seen.values()) == 0

    # The next load goes on from there and sweeps the killed load's folder.
    for key, value in vendor_env.items():
        monkeypatch.setenv(key, value)
    monkeypatch.setattr(tempfile, "tempdir", str(tmp))
    counts = run_load(source, warehouse)
    assert not folder.exists()
    assert list(tmp.iterdir()) == []  # its own folder went too

    if source == "github":  # from the last checkpoint: the first repository not written again
        assert counts["pull_requests"] == reference["pull_requests"].per_repository[second]
    completed = tables(warehouse, dataset)
    assert completed.keys() == reference.keys()
    for name, table in reference.items():
        lost = table.keys - completed[name].keys
        doubled = completed[name].rows - len(completed[name].keys)
        assert (len(lost), doubled, completed[name].rows) == (0, 0, table.rows), name
