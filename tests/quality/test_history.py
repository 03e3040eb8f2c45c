"""The results history table: one row per suite validation, appended across runs, one row
per (run, suite) however often a step is retried, written only under the writer lock."""

from __future__ import annotations

import json
from pathlib import Path

import duckdb
import pytest

from pipelines.quality.gx_suites import EXPECTATIONS_DIR, load_suite, run_suite
from pipelines.quality.history import TABLE, record_results, write_results
from pipelines.warehouse.lock import WarehouseBusy, writer_lock

PRS = load_suite(EXPECTATIONS_DIR / "raw_github__pull_requests.json")
WASTE = load_suite(EXPECTATIONS_DIR / "mart_waste_share.json")


def _history(warehouse: Path) -> list[tuple]:
    with duckdb.connect(str(warehouse), read_only=True) as con:
        return con.execute(
            "select run_id, suite, relation, asset_key, success, evaluated, failed, "
            f"rows_validated, truncated from {TABLE} order by run_id, suite"
        ).fetchall()


def test_history_keeps_every_run_and_one_row_per_run_and_suite(warehouse_copy: Path):
    with duckdb.connect(str(warehouse_copy)) as con:
        prs = con.execute("select count(*) from raw_github.pull_requests").fetchone()[0]
        waste = con.execute("select count(*) from marts.mart_waste_share").fetchone()[0]
        first = [run_suite(con, PRS), run_suite(con, WASTE)]
        assert write_results(con, "run-1", first) == 2
        # a retried step writes its run and suite again: the row is replaced, not doubled
        assert write_results(con, "run-1", first[:1]) == 1
        (bad_id,) = con.execute(
            "update raw_github.pull_requests set state = 'exploded' "
            "where id = (select min(id) from raw_github.pull_requests) returning id"
        ).fetchone()
        failed = run_suite(con, PRS)
    assert record_results(warehouse_copy, "run-2", [failed], holder="test") == 1

    n_prs, n_waste = len(PRS.expectations), len(WASTE.expectations)
    assert _history(warehouse_copy) == [
        ("run-1", WASTE.name, "marts.mart_waste_share", "marts/mart_waste_share")
        + (True, n_waste, 0, waste, False),
        ("run-1", PRS.name, "raw_github.pull_requests", "raw_github/pull_requests")
        + (True, n_prs, 0, prs, False),
        ("run-2", PRS.name, "raw_github.pull_requests", "raw_github/pull_requests")
        + (False, n_prs, 2, prs, False),
    ]
    with duckdb.connect(str(warehouse_copy), read_only=True) as con:
        checked_at, failures = con.execute(
            f"select checked_at, failures from {TABLE} where run_id = 'run-2'"
        ).fetchone()
        # the failures read back as JSON in SQL too
        labels = con.execute(
            f"select list(f ->> 'expectation' order by f ->> 'expectation') from {TABLE}, "
            "unnest(cast(failures as json[])) as t(f) where run_id = 'run-2'"
        ).fetchone()[0]
    assert checked_at == failed.checked_at
    assert labels == [
        "expect_column_pair_values_to_be_in_set",
        "expect_column_values_to_be_in_set",
    ]
    state = next(
        f for f in json.loads(failures) if f["expectation"] == "expect_column_values_to_be_in_set"
    )
    assert state["unexpected_count"] == 1
    assert state["sample_rows"] == [{"id": bad_id, "state": "exploded"}]


def test_record_results_waits_for_no_one(warehouse_copy: Path):
    with duckdb.connect(str(warehouse_copy), read_only=True) as con:
        result = run_suite(con, WASTE)
    with (
        writer_lock(warehouse_copy, "a dbt build"),
        pytest.raises(WarehouseBusy, match="a dbt build"),
    ):
        record_results(warehouse_copy, "run-1", [result], holder="test")
    with duckdb.connect(str(warehouse_copy), read_only=True) as con:
        assert con.execute(
            "select count(*) from information_schema.tables where table_schema = 'quality'"
        ).fetchone() == (0,)
