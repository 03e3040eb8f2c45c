"""The publication's file handling (pipelines.serving.publication), on a small warehouse.

A reader in another process holds the publication open read-only (tests.publication_reader):
a writer opening that file in place fails on DuckDB's lock, which the control below shows;
the publish, which writes aside and renames, does not, the reader reads on, and a new
connection opens the new publication. A publish that fails leaves the previous file
byte-for-byte and no temporary file. The marts of a real run are published and compared
with the warehouse in tests/test_daily_schedule.py.
"""

from __future__ import annotations

import hashlib
import time
from datetime import UTC, datetime
from pathlib import Path

import duckdb
import pytest

from pipelines.cli import main
from pipelines.quality.history import ensure_table
from pipelines.serving.publication import Provenance, QualityCheck, publish, read_about
from pipelines.settings import Settings, read_settings
from tests.publication_reader import answers, reader

BUILT_AT = datetime(2026, 11, 1, 5, 0, tzinfo=UTC)
AS_OF = datetime(2026, 11, 1)


def _warehouse(path: Path, pull_requests: int) -> Path:
    """A warehouse whose marts hold `pull_requests` pull requests, two sources, one GX result."""
    with duckdb.connect(str(path)) as con:
        con.execute("create schema if not exists marts")
        con.execute(
            "create or replace table marts.fct_pull_requests as select range as pull_request_id, "
            "'acme/api' as repository, (range * 1.25)::decimal(18, 4) as cost_usd, "
            "timestamp '2026-10-01' + to_days(range::int) as merged_at, range % 2 = 0 as ai "
            f"from range({pull_requests})"
        )
        con.execute(
            "create or replace table marts.mart_source_coverage as select * from (values "
            "('github', true, timestamp '2026-10-31 05:00', false, 'Loaded.'), "
            "('jira', false, null::timestamp, false, 'Not configured.')) "
            "t(source, is_available, last_successful_load_at, is_stale, status)"
        )
        con.execute("create schema if not exists staging")
        con.execute("create or replace table staging.not_published as select 1 as x")
        ensure_table(con)
        con.execute(
            "insert or replace into quality.gx_results (run_id, suite, relation, asset_key, "
            "checked_at, success, evaluated, failed, rows_validated, truncated, failures) "
            "values ('r1', 'mart_outcome_board', "
            "'marts.mart_outcome_board', 'marts/mart_outcome_board', "
            "timestamptz '2026-11-01 05:01:00+00', false, 4, 1, 3, false, '[]')"
        )
    return path


def _digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_a_reader_holding_the_publication_does_not_block_the_next(tmp_path: Path):
    warehouse = _warehouse(tmp_path / "w.duckdb", pull_requests=3)
    target = tmp_path / "w.serving.duckdb"
    first = publish(warehouse, target, Provenance("run-1", AS_OF, BUILT_AT))
    assert (first.tables, first.rows) == (2, {"fct_pull_requests": 3, "mart_source_coverage": 2})
    _warehouse(warehouse, pull_requests=5)
    log = tmp_path / "reader.log"
    with reader(target, log) as process:
        # The control: a writer opening the publication in place fails while the reader
        # holds it, as the pipeline did when it wrote the file readers opened.
        with pytest.raises(duckdb.IOException, match="lock"):
            duckdb.connect(str(target))
        second = publish(warehouse, target, Provenance("run-2", AS_OF, BUILT_AT))
        assert second.rows["fct_pull_requests"] == 5
        before = len(answers(log))
        while len(answers(log)) < before + 2:  # it answers after the rename, on the old file
            assert process.poll() is None
            time.sleep(0.05)
        assert read_about(target)["run_id"] == "run-2"
    seen = answers(log)
    assert {(a.run_id, a.pull_requests, a.error) for a in seen} == {("run-1", 3, None)}
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        "reader.log",
        "w.duckdb",
        "w.serving.duckdb",
    ]


def test_the_publication_schema(tmp_path: Path):
    warehouse = _warehouse(tmp_path / "w.duckdb", pull_requests=2)
    target = tmp_path / "p.duckdb"
    check = QualityCheck(
        "gx_mart_outcome_board", "marts/mart_outcome_board", True, "ERROR", True, BUILT_AT, None
    )
    published = publish(warehouse, target, Provenance("run-1", AS_OF, BUILT_AT), [check])
    with duckdb.connect(str(target), read_only=True) as con:
        con.execute("set TimeZone = 'UTC'")
        tables = con.execute(
            "select schema_name, table_name from duckdb_tables() order by all"
        ).fetchall()
        about = con.execute("from publication.about").fetchall()
        freshness = con.execute("from publication.source_freshness order by source").fetchall()
        checks = con.execute("from publication.quality_checks").fetchall()
        types = con.execute(
            "select table_name, column_name, data_type from duckdb_columns() "
            "where schema_name = 'publication' order by table_name, column_index"
        ).fetchall()
        mart_types = con.execute(
            "select column_name, data_type from duckdb_columns() "
            "where table_name = 'fct_pull_requests' order by column_index"
        ).fetchall()
    assert tables == [
        ("marts", "fct_pull_requests"),
        ("marts", "mart_source_coverage"),
        ("publication", "about"),
        ("publication", "quality_checks"),
        ("publication", "source_freshness"),
    ]
    assert about == [("run-1", AS_OF, BUILT_AT, published.published_at, 2)]
    assert freshness == [
        ("github", True, datetime(2026, 10, 31, 5, 0, tzinfo=UTC), False, "Loaded."),
        ("jira", False, None, False, "Not configured."),
    ]
    assert checks == [
        ("gx_mart_outcome_board", "marts/mart_outcome_board", True, "ERROR", True, BUILT_AT, None)
    ]
    assert mart_types == [
        ("pull_request_id", "BIGINT"),
        ("repository", "VARCHAR"),
        ("cost_usd", "DECIMAL(18,4)"),
        ("merged_at", "TIMESTAMP"),
        ("ai", "BOOLEAN"),
    ]
    assert types == [
        ("about", "run_id", "VARCHAR"),
        ("about", "as_of", "TIMESTAMP"),
        ("about", "built_at", "TIMESTAMP WITH TIME ZONE"),
        ("about", "published_at", "TIMESTAMP WITH TIME ZONE"),
        ("about", "tables", "INTEGER"),
        ("quality_checks", "check_name", "VARCHAR"),
        ("quality_checks", "asset_key", "VARCHAR"),
        ("quality_checks", "passed", "BOOLEAN"),
        ("quality_checks", "severity", "VARCHAR"),
        ("quality_checks", "blocking", "BOOLEAN"),
        ("quality_checks", "evaluated_at", "TIMESTAMP WITH TIME ZONE"),
        ("quality_checks", "description", "VARCHAR"),
        ("source_freshness", "source", "VARCHAR"),
        ("source_freshness", "is_available", "BOOLEAN"),
        ("source_freshness", "last_successful_load_at", "TIMESTAMP WITH TIME ZONE"),
        ("source_freshness", "is_stale", "BOOLEAN"),
        ("source_freshness", "status", "VARCHAR"),
    ]


def test_a_warehouse_named_warehouse(tmp_path: Path):
    """The name the Dagster definitions default to (warehouse.duckdb)."""
    warehouse = _warehouse(tmp_path / "warehouse.duckdb", pull_requests=2)
    published = publish(
        warehouse, tmp_path / "warehouse.serving.duckdb", Provenance(None, None, None)
    )
    assert published.rows["fct_pull_requests"] == 2


def test_a_failed_publish_leaves_the_previous_file_and_no_temporary_file(tmp_path: Path):
    warehouse = _warehouse(tmp_path / "w.duckdb", pull_requests=3)
    target = tmp_path / "w.serving.duckdb"
    publish(warehouse, target, Provenance("run-1", AS_OF, BUILT_AT))
    before = _digest(target)
    with duckdb.connect(str(warehouse)) as con:  # a mart that cannot be read
        con.execute("create or replace view marts.v as select 1")
        con.execute("create or replace table marts.mart_source_coverage as select 1 as source")
    with pytest.raises(duckdb.BinderException):
        publish(warehouse, target, Provenance("run-2", AS_OF, BUILT_AT))
    assert _digest(target) == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["w.duckdb", "w.serving.duckdb"]


def test_the_publication_is_neither_the_warehouse_nor_in_a_missing_directory(tmp_path: Path):
    warehouse = _warehouse(tmp_path / "w.duckdb", pull_requests=1)
    with pytest.raises(ValueError, match="cannot be the warehouse"):
        publish(warehouse, warehouse, Provenance(None, None, None))
    typo = tmp_path / "srvv" / "p.duckdb"
    with pytest.raises(FileNotFoundError, match=f"the directory {typo.parent} of the publication"):
        publish(warehouse, typo, Provenance(None, None, None))
    assert sorted(p.name for p in tmp_path.iterdir()) == ["w.duckdb"]


def test_the_serving_path_setting(tmp_path: Path):
    demo = Settings(duckdb_path=Path("/srv/.data/demo.duckdb"))
    assert demo.publication_path == Path("/srv/.data/demo.serving.duckdb")
    chosen = read_settings({"AOW_SERVING_PATH": str(tmp_path / "bi.duckdb")})
    assert chosen.publication_path == tmp_path / "bi.duckdb"
    with pytest.raises(ValueError, match="AOW_SERVING_PATH: expected the file the marts"):
        read_settings({"AOW_SERVING_PATH": str(tmp_path / "missing" / "bi.duckdb")})


def test_the_publish_command_republishes_the_warehouse(tmp_path: Path, capsys, monkeypatch):
    warehouse = _warehouse(tmp_path / "w.duckdb", pull_requests=4)
    assert main(["publish", "--duckdb", str(warehouse)]) == 0
    out = capsys.readouterr().out
    target = tmp_path / "w.serving.duckdb"
    assert "published 2 marts (6 rows" in out and str(target) in out
    about = read_about(target)
    assert about["run_id"].startswith("cli-") and about["run_id"] in out
    # the build's end is the warehouse's last write, the metrics' clock that time
    written = datetime.fromtimestamp(warehouse.stat().st_mtime, UTC)
    assert (about["tables"], about["built_at"]) == (2, written)
    assert about["as_of"] == written.replace(tzinfo=None)
    monkeypatch.setenv("AOW_AS_OF", "2026-11-01T00:00:00")
    assert main(["publish", "--duckdb", str(warehouse), "--to", str(tmp_path / "p.duckdb")]) == 0
    assert read_about(tmp_path / "p.duckdb")["as_of"] == AS_OF
    with duckdb.connect(str(target), read_only=True) as con:
        checks = con.execute(
            "select check_name, passed, blocking, description from publication.quality_checks"
        ).fetchall()
    assert checks == [("gx_mart_outcome_board", False, True, "1 of 4 expectations failed")]
