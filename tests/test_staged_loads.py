"""The stage and its swap into the warehouse, and the throwaway pipeline folders."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import duckdb
import pytest

from pipelines.ingest.pipeline_folders import (
    OWNER_FILE,
    UNOWNED_AGE_SECONDS,
    sweep_pipeline_folders,
)
from pipelines.ingest.staged_loads import stage_dataset, swap_in

ROOT = Path(__file__).resolve().parent.parent
DATASET = "raw_vendor"


def _run(path: Path, *sql: str) -> None:
    with duckdb.connect(str(path)) as con:
        for statement in sql:
            con.execute(statement)


def _rows(path: Path, sql: str) -> list[tuple]:
    with duckdb.connect(str(path), read_only=True) as con:
        return con.execute(sql).fetchall()


@pytest.fixture
def warehouse(tmp_path: Path) -> Path:
    """A dataset as dlt leaves it: a merged table, dlt's load list, and a mart beside it."""
    path = tmp_path / "warehouse.duckdb"
    _run(
        path,
        f"create schema {DATASET}",
        f"create table {DATASET}.items (id bigint not null, name varchar, "
        "_dlt_load_id varchar not null, _dlt_id varchar not null)",
        f"insert into {DATASET}.items values (1, 'one', 'L1', 'a'), (2, 'two', 'L1', 'b'), "
        "(3, 'three', 'L1', 'c')",
        f"create table {DATASET}.items__tags (tag varchar, _dlt_parent_id varchar not null, "
        "_dlt_id varchar not null)",
        f"insert into {DATASET}.items__tags values ('red', 'c', 't1'), ('blue', 'c', 't2')",
        f"create table {DATASET}._dlt_loads (load_id varchar not null, status bigint)",
        f"insert into {DATASET}._dlt_loads values ('L1', 0)",
        "create schema marts",
        "create table marts.board as select 42 as answer",
    )
    return path


def test_swap_applies_what_dlt_did_to_the_stage(warehouse: Path, tmp_path: Path):
    stage = tmp_path / "stage.duckdb"
    stage_dataset(warehouse, stage, DATASET)
    assert _rows(stage, f"select count(*) from {DATASET}.items") == [(3,)]
    # NOT NULLs come along: the stage's tables are made by the warehouse's DDL.
    assert _rows(stage, "select is_nullable from duckdb_columns() where column_name = 'id'") == [
        (False,)
    ]

    # What a merge and a new field do: record 2 replaced (new row id), record 3 rewritten
    # unchanged (same row id, new load id), record 1 deleted, a new column and a new table.
    _run(
        stage,
        f"delete from {DATASET}.items where id in (1, 2)",
        f"update {DATASET}.items set _dlt_load_id = 'L2' where id = 3",
        f"alter table {DATASET}.items add column score double",
        f"insert into {DATASET}.items values (2, 'TWO', 'L2', 'd', 0.5)",
        f"create table {DATASET}.children (parent bigint, _dlt_id varchar not null)",
        f"insert into {DATASET}.children values (2, 'e')",
        # A child row rewritten under the same row id (ids hashed from the parent's key).
        f"update {DATASET}.items__tags set tag = 'green' where _dlt_id = 't2'",
        f"insert into {DATASET}._dlt_loads values ('L2', 0)",
    )
    swap_in(warehouse, stage, DATASET)

    assert _rows(warehouse, f"from {DATASET}.items order by id") == [
        (2, "TWO", "L2", "d", 0.5),
        (3, "three", "L2", "c", None),
    ]
    assert _rows(warehouse, f"from {DATASET}.children") == [(2, "e")]
    assert _rows(warehouse, f"select tag from {DATASET}.items__tags order by 1") == [
        ("green",),
        ("red",),
    ]
    assert _rows(warehouse, f"from {DATASET}._dlt_loads order by 1") == [("L1", 0), ("L2", 0)]
    assert _rows(warehouse, "from marts.board") == [(42,)]  # other schemas untouched


def test_a_swap_that_fails_midway_leaves_the_warehouse_as_it_was(warehouse, tmp_path: Path):
    stage = tmp_path / "stage.duckdb"
    stage_dataset(warehouse, stage, DATASET)
    _run(
        stage,
        f"insert into {DATASET}._dlt_loads values ('L2', 0)",  # swapped first (by name)
        f"insert into {DATASET}.items values (4, 'four', 'L2', 'f')",
    )
    # A column the warehouse has with another type: the items table cannot be written.
    _run(warehouse, f"alter table {DATASET}.items alter name type integer using length(name)")
    before = _rows(warehouse, f"from {DATASET}.items order by id")
    with pytest.raises(duckdb.Error):
        swap_in(warehouse, stage, DATASET)
    assert _rows(warehouse, f"from {DATASET}.items order by id") == before
    assert _rows(warehouse, f"from {DATASET}._dlt_loads") == [("L1", 0)]


# --- pipeline folders -----------------------------------------------------------------------


def _dead_pid() -> int:
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait()
    return child.pid


def _folder(tmp: Path, name: str, owner: dict | None = None) -> Path:
    path = tmp / name
    (path / "normalized").mkdir(parents=True)
    (path / "normalized" / "pull_requests.jsonl").write_text('{"title": "vendor data"}')
    if owner is not None:
        (path / OWNER_FILE).write_text(json.dumps(owner))
    return path


def test_sweep_removes_folders_of_gone_processes_only(tmp_path: Path):
    me = os.getpid()
    with open(f"/proc/{me}/stat") as stat:
        started = stat.read().rsplit(")", 1)[1].split()[19]
    dead = _folder(tmp_path, f"aow-dlt-{_dead_pid()}-k1ll3d", {"pid": 0, "started": "1"})
    live = _folder(tmp_path, f"aow-dlt-{me}-l1ve", {"pid": me, "started": started})
    starting = _folder(tmp_path, f"aow-dlt-{me}-5tart")  # owner record not written yet
    reused = _folder(tmp_path, f"aow-dlt-{me}-reus3d", {"pid": me, "started": "1"})
    old = _folder(tmp_path, "aow-dlt-abcd1234")  # an earlier version's, untouched for days
    os.utime(old, (time.time() - UNOWNED_AGE_SECONDS - 60,) * 2)
    recent = _folder(tmp_path, "aow-dlt-efgh5678")
    definitions = _folder(tmp_path, "aow-dlt-definitions")
    os.utime(definitions, (time.time() - UNOWNED_AGE_SECONDS - 60,) * 2)

    assert sweep_pipeline_folders(tmp_path) == sorted([dead, reused, old])
    assert sorted(tmp_path.iterdir()) == sorted([live, starting, recent, definitions])


@pytest.mark.parametrize("ending", ["exception", "sigterm"])
def test_a_load_folder_is_removed_however_the_load_ends(ending: str, tmp_path: Path):
    child = subprocess.Popen(
        [
            sys.executable,
            "-c",
            textwrap.dedent("""
                import sys
                from pipelines.ingest.pipeline_folders import pipeline_folder
                with pipeline_folder() as path:
                    (path / "extracted.jsonl").write_text("vendor data")
                    print(path, flush=True)
                    sys.stdin.readline()  # the test has seen the folder
                    raise RuntimeError("vendor down")
            """),
        ],
        env={**os.environ, "TMPDIR": str(tmp_path)},
        cwd=ROOT,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    folder = Path(child.stdout.readline().strip())
    assert folder.parent == tmp_path and (folder / "extracted.jsonl").exists()
    if ending == "sigterm":
        child.send_signal(signal.SIGTERM)
    else:
        child.stdin.write("go\n")
        child.stdin.flush()
    assert child.wait(timeout=60) == (1 if ending == "exception" else 128 + signal.SIGTERM)
    assert list(tmp_path.iterdir()) == []
    child.stdin.close()
