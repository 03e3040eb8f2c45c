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

import dlt
import duckdb
import pytest
from dlt.common.schema import Schema

from pipelines.ingest import loads
from pipelines.ingest.pipeline_folders import (
    OWNER_FILE,
    UNOWNED_AGE_SECONDS,
    sweep_pipeline_folders,
)
from pipelines.ingest.staged_loads import MergeRules, stage_dataset
from pipelines.sources import SOURCES, SourceSpec
from pipelines.sources.contract import QUARANTINE_TABLE
from pipelines.sources.failures import LoadFailed

ROOT = Path(__file__).resolve().parent.parent
DATASET = "raw_vendor"


def _run(path: Path, *sql: str) -> None:
    with duckdb.connect(str(path)) as con:
        for statement in sql:
            con.execute(statement)


def _rows(path: Path, sql: str) -> list[tuple]:
    with duckdb.connect(str(path), read_only=True) as con:
        return con.execute(sql).fetchall()


# A vendor whose loads exercise what a swap must reproduce of dlt's merge. Two loads (`version`)
# of two checkpoints (`part`) each, into the warehouse through the stage and, for reference,
# straight into another file by dlt alone.
#
# v1, part 1: items 1-3 (2 and 3 with tags, a child table); day 1's readings a and b.
# v1, part 2: item 1 again, renamed (a row the load's first checkpoint wrote); item 5.
# v2, part 1: item 2 again with other tags (its child rows replaced); item 4 with a field no
#             item had (a new column); day 1 again with reading a only (merged on the day:
#             reading b deleted).
# v2, part 2: a table no load wrote before (notes).
# Every run counts itself in the source's state and reports the count (cursors travel).
ITEMS = {
    (1, 1): [
        {"id": 1, "name": "one"},
        {"id": 2, "name": "two", "tags": ["red", "blue"]},
        {"id": 3, "name": "three", "tags": ["green"]},
    ],
    (1, 2): [{"id": 1, "name": "ONE"}, {"id": 5, "name": "five"}],
    (2, 1): [{"id": 2, "name": "two", "tags": ["black"]}, {"id": 4, "name": "four", "score": 0.5}],
    (2, 2): [],
}
READINGS = {(1, 1): [("d1", "a"), ("d1", "b")], (2, 1): [("d1", "a")]}


@dlt.source(name="vendor", max_table_nesting=1)
def vendor(version: int = 1, part: int = 1):
    @dlt.resource(primary_key="id", write_disposition="merge")
    def items():
        yield ITEMS[version, part]

    @dlt.resource(merge_key="day", write_disposition="merge")
    def readings():
        yield [{"day": day, "reading": r} for day, r in READINGS.get((version, part), [])]

    @dlt.resource(primary_key="id", write_disposition="merge")
    def runs():
        state = dlt.current.source_state()
        state["runs"] = state.get("runs", 0) + 1
        yield {"id": 1, "runs": state["runs"]}

    @dlt.resource(primary_key="id", write_disposition="merge")
    def notes():
        yield {"id": 1, "text": "new"}

    return [items, readings, runs, *([notes] if (version, part) == (2, 2) else [])]


VENDOR = SourceSpec(
    "vendor", DATASET, vendor, checkpoints=lambda source_state: [{"part": 1}, {"part": 2}]
)
CONTENT = {
    "items": "select id, name, score from {d}.items order by id",
    "items__tags": "select i.id, t.value from {d}.items i join {d}.items__tags t "
    "on t._dlt_parent_id = i._dlt_id and t._dlt_root_id = i._dlt_id order by all",
    "tag_rows": "select count(*) from {d}.items__tags",
    "readings": "select day, reading from {d}.readings order by all",
    "runs": "select runs from {d}.runs",
    "notes": "select id, text from {d}.notes",
}


def _staged_load(warehouse: Path, pdir: Path, version: int) -> None:
    for _pipeline, _counts in loads._checkpointed_runs(
        VENDOR, warehouse, pdir, None, {"version": version}
    ):
        pass


def _content(path: Path) -> dict[str, list[tuple]]:
    with duckdb.connect(str(path), read_only=True) as con:
        present = {r[0] for r in con.execute("select table_name from duckdb_tables()").fetchall()}
        return {
            name: con.execute(sql.format(d=DATASET)).fetchall()
            for name, sql in CONTENT.items()
            if name.split("__")[0] in present or name == "tag_rows"
        }


@pytest.fixture
def vendor_source(monkeypatch):
    monkeypatch.setitem(SOURCES, VENDOR.name, VENDOR)


def test_a_staged_load_leaves_what_dlt_alone_leaves(vendor_source, tmp_path: Path):
    warehouse, reference = tmp_path / "warehouse.duckdb", tmp_path / "reference.duckdb"
    direct = dlt.pipeline(
        "vendor_reference",
        destination=dlt.destinations.duckdb(str(reference)),
        dataset_name=DATASET,
        pipelines_dir=str(tmp_path / "reference"),
    )
    for version in (1, 2):
        _staged_load(warehouse, tmp_path / f"load{version}", version)
        for part in (1, 2):
            direct.run(vendor(version, part)).raise_on_failed_jobs()

    seen = _content(warehouse)
    assert seen == _content(reference)
    assert seen["items"] == [
        (1, "ONE", None),
        (2, "two", None),
        (3, "three", None),
        (4, "four", 0.5),
        (5, "five", None),
    ]
    assert seen["items__tags"] == [(2, "black"), (3, "green")]
    assert seen["tag_rows"] == [(2,)]  # item 2's old tags went with their version
    assert seen["readings"] == [("d1", "a")]
    assert seen["runs"] == [(4,)]  # the second load went on from the first one's state
    assert seen["notes"] == [(1, "new")]
    # Every load's package is listed, as dlt alone lists them.
    loads_sql = f"select count(*) from {DATASET}._dlt_loads where status = 0"
    assert _rows(warehouse, loads_sql) == _rows(reference, loads_sql) == [(4,)]


def test_the_stage_holds_what_a_load_reads_not_the_history(vendor_source, tmp_path: Path):
    warehouse = tmp_path / "warehouse.duckdb"
    _staged_load(warehouse, tmp_path / "load1", 1)
    _run(
        warehouse,
        f"create table {DATASET}.consulted as select 7 as answer",  # a table a source reads
    )
    stage = tmp_path / "stage.duckdb"
    stage_dataset(warehouse, stage, DATASET, read=["consulted"])
    counts = {
        table: n
        for (table,) in _rows(
            stage, f"select table_name from duckdb_tables() where schema_name = '{DATASET}'"
        )
        for ((n,),) in [_rows(stage, f"select count(*) from {DATASET}.{table}")]
    }
    # Data tables empty (NOT NULLs kept: made by the warehouse's DDL); the newest state of
    # the pipeline, every load and schema version; the table a source reads, whole.
    assert counts == {
        "items": 0,
        "items__tags": 0,
        "readings": 0,
        "runs": 0,
        "_dlt_pipeline_state": 1,
        "_dlt_loads": 2,
        "_dlt_version": _rows(warehouse, f"select count(*) from {DATASET}._dlt_version")[0][0],
        "consulted": 1,
    }
    assert _rows(stage, f"select state from {DATASET}._dlt_pipeline_state") == _rows(
        warehouse,
        f"select state from {DATASET}._dlt_pipeline_state order by _dlt_load_id desc limit 1",
    )
    assert _rows(
        stage, "select is_nullable from duckdb_columns() where column_name = '_dlt_id' limit 1"
    ) == [(False,)]


def test_a_swap_that_fails_midway_leaves_the_warehouse_as_it_was(vendor_source, tmp_path: Path):
    warehouse = tmp_path / "warehouse.duckdb"
    _staged_load(warehouse, tmp_path / "load1", 1)
    # A column the warehouse has with another type: the second load's items cannot be
    # written, after its list of loads and its readings are (items sort after both).
    _run(warehouse, f"alter table {DATASET}.items alter name type integer using length(name)")
    seen = [
        f"select id, name from {DATASET}.items order by id",
        f"select count(*) from {DATASET}.items__tags",
        CONTENT["readings"].format(d=DATASET),
        CONTENT["runs"].format(d=DATASET),
        f"from {DATASET}._dlt_loads order by load_id",
        f"select column_name from duckdb_columns() where schema_name = '{DATASET}' order by all",
    ]
    before = [_rows(warehouse, sql) for sql in seen]
    with pytest.raises(LoadFailed):
        _staged_load(warehouse, tmp_path / "load2", 2)
    assert [_rows(warehouse, sql) for sql in seen] == before
    assert before[2] == [("d1", "a"), ("d1", "b")] and before[3] == [(2,)]


def test_merges_the_swap_does_not_reproduce_are_refused():
    for hints, refused in [
        ({"write_disposition": "replace"}, "replace"),
        ({"write_disposition": {"disposition": "merge", "strategy": "scd2"}}, "scd2"),
        (
            {
                "write_disposition": "merge",
                "primary_key": "id",
                "columns": {"gone": {"data_type": "bool", "hard_delete": True}},
            },
            "hard deletes",
        ),
    ]:
        source = dlt.resource([{"id": 1, "gone": False}], name="things", **hints)
        with pytest.raises(ValueError, match=f"'things'.*{refused}"):
            MergeRules.of(dlt.source(lambda s=source: s, name="v")().discover_schema())


def test_every_source_merges_as_the_swap_applies(tiny_raw_warehouse: Path):
    """The loaders' schemas as a real load stores them (child tables with their root keys)."""
    for name, spec in SOURCES.items():
        ((stored,),) = _rows(
            tiny_raw_warehouse,
            f"select schema from {spec.dataset}._dlt_version order by inserted_at desc limit 1",
        )
        rules = MergeRules.of(Schema.from_dict(json.loads(stored)))
        if QUARANTINE_TABLE in rules:  # once a record of the source was rejected
            assert rules[QUARANTINE_TABLE].keys == (("record_hash",),), name
        data = [table for table in rules if not table.startswith("_dlt")]
        assert data and all(rules[table].keys for table in data), (name, data)
        if name == "jira":  # its changelog follows the issue it belongs to
            assert ("issues__changelog", "_dlt_root_id") in rules["issues"].children


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
                import select, signal, sys
                # A load's process starts with SIGTERM's default action. The suite's worker
                # may hand down an ignored SIGTERM (seen: a child started with SIGINT,
                # SIGQUIT and SIGTERM ignored), which pipeline_folder rightly leaves alone.
                signal.signal(signal.SIGTERM, signal.SIG_DFL)
                from pipelines.ingest.pipeline_folders import pipeline_folder
                with pipeline_folder() as path:
                    (path / "extracted.jsonl").write_text("vendor data")
                    print(path, flush=True)
                    # Wait for the test in short polls, not one blocking read: a SIGTERM
                    # that lands just before a read() would leave its handler unrun until
                    # the read returns.
                    while not select.select([sys.stdin], [], [], 0.1)[0]:
                        pass
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
    try:
        returncode = child.wait(timeout=60)
    except subprocess.TimeoutExpired:
        pytest.fail(f"the child did not end: {_process_state(child.pid)}")
    finally:
        child.kill()
        child.wait()
        child.stdin.close()
        child.stdout.close()
    assert returncode == (1 if ending == "exception" else 128 + signal.SIGTERM)
    assert list(tmp_path.iterdir()) == []


def _process_state(pid: int) -> str:
    """Where a process stands (Linux): its state, signal masks and the kernel call it waits in."""
    proc = Path(f"/proc/{pid}")
    try:
        status = [
            line
            for line in (proc / "status").read_text().splitlines()
            if line.startswith(("State", "Sig", "Shd"))
        ]
        return f"{status}, waiting in {(proc / 'wchan').read_text()!r}"
    except OSError as exc:
        return f"unknown ({exc})"
