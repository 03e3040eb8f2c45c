"""Suite files and the bounded read: the columns a suite reads, and which rows its
max_rows and order_by keep."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

import duckdb
import pandas as pd
import pytest

from pipelines.quality.gx_suites import (
    load_suite,
    load_suites,
    metric_parameters,
    read_frame,
    run_suite,
    validate,
)

SUITES = {suite.name: suite for suite in load_suites()}


def _suite_file(tmp_path: Path, expectations: list[dict], **aow) -> Path:
    path = tmp_path / "suite.json"
    meta = {"aow": {"relation": "marts.t", "asset_key": ["marts", "t"], **aow}}
    path.write_text(json.dumps({"name": "t", "meta": meta, "expectations": expectations}))
    return path


def test_suite_reads_row_id_expectation_condition_and_computed_columns(tmp_path: Path):
    path = _suite_file(
        tmp_path,
        [
            {
                "type": "expect_column_values_to_be_between",
                "kwargs": {
                    "column": "team_size",
                    "min_value": 5,
                    "row_condition": {
                        "type": "comparison",
                        "column": {"name": "board_level"},
                        "operator": "==",
                        "parameter": "person",
                    },
                },
            },
            {
                "type": "expect_column_values_to_be_in_set",
                "kwargs": {"column": "gap", "value_set": [0]},
            },
        ],
        row_id=["month", "team_id"],
        computed={"gap": "a - b"},
        order_by="month desc",
        max_rows=10,
    )
    suite = load_suite(path)
    assert suite.columns == ["month", "team_id", "team_size", "board_level", "gap"]
    assert suite.row_id == ("month", "team_id")
    assert (suite.computed, suite.order_by, suite.max_rows) == ({"gap": "a - b"}, "month desc", 10)


def test_string_row_conditions_are_refused(tmp_path: Path):
    # a pandas query string hides the columns it reads from the bounded frame
    path = _suite_file(
        tmp_path,
        [
            {
                "type": "expect_column_values_to_not_be_null",
                "kwargs": {"column": "person_id", "row_condition": 'board_level=="person"'},
            }
        ],
    )
    with pytest.raises(ValueError, match="structured condition"):
        load_suite(path)


def test_parameters_come_from_the_dbt_vars(tmp_path: Path):
    path = _suite_file(
        tmp_path,
        [
            {
                "type": "expect_column_values_to_be_between",
                "kwargs": {"column": "team_size", "min_value": {"$PARAMETER": "min_group_size"}},
            }
        ],
    )
    suite = load_suite(path)
    df = pd.DataFrame({"team_size": [5, 6, 7]})
    assert suite.parameters == {"min_group_size"}
    assert metric_parameters()["min_group_size"] == 5
    assert validate(suite, df).success
    # a larger minimum (dbt build --vars '{min_group_size: 6}') fails the team of 5
    strict = validate(suite, df, parameters={"min_group_size": 6})
    assert not strict.success
    assert strict.failed[0].unexpected_count == 1
    with pytest.raises(ValueError, match=r"unknown parameters \['min_group_size'\]"):
        validate(suite, df, parameters={})


def test_frame_holds_only_the_suites_columns(built_org):
    suite = SUITES["mart_waste_share"]
    with duckdb.connect(str(built_org.warehouse), read_only=True) as con:
        df, truncated = read_frame(con, suite)
    assert list(df.columns) == suite.columns
    assert "not_attributed_spend_usd" not in df.columns
    # computed in SQL: allocated + unallocated - attributed, exact decimals
    assert (df["unreconciled_total_usd"] == 0).all()
    assert not truncated and len(df) == built_org.scalar(
        "select count(*) from marts.mart_waste_share"
    )


def test_bound_keeps_the_newest_loads(warehouse_copy: Path):
    full = SUITES["raw_github__pull_requests"]
    assert full.order_by == "_dlt_load_id desc"
    bounded = replace(full, max_rows=5)
    with duckdb.connect(str(warehouse_copy)) as con:
        total = con.execute("select count(*) from raw_github.pull_requests").fetchone()[0]
        # the same corruption in a row of the newest load and in one of the oldest
        (newest,) = con.execute(
            "update raw_github.pull_requests set state = 'exploded', _dlt_load_id = '9999999999.0' "
            "where id = (select min(id) from raw_github.pull_requests) returning id"
        ).fetchone()
        (oldest,) = con.execute(
            "update raw_github.pull_requests set state = 'exploded', _dlt_load_id = '0000000000.0' "
            "where id = (select max(id) from raw_github.pull_requests) returning id"
        ).fetchone()
        in_window = run_suite(con, bounded)
        everything = run_suite(con, full)

    def samples(result):
        (failure,) = [
            f for f in result.failed if f.label == "expect_column_values_to_be_in_set(state)"
        ]
        return failure.sample_rows

    assert total > 5
    assert (in_window.rows_validated, in_window.truncated) == (5, True)
    assert samples(in_window) == [{"id": newest, "state": "exploded"}]
    assert (everything.rows_validated, everything.truncated) == (total, False)
    assert sorted(r["id"] for r in samples(everything)) == sorted([newest, oldest])


def test_an_absent_raw_table_passes_and_an_absent_mart_fails():
    """dlt creates a raw table only once its source returns a row: a vendor the organisation
    does not use leaves none, and its suite has nothing to check. A mart is built by dbt:
    its absence is a failure."""
    with duckdb.connect() as con:
        raw = run_suite(con, SUITES["raw_openai__costs"])
        assert raw.success and raw.rows_validated == 0 and raw.evaluated == 0
        assert "does not exist" in raw.note
        mart = run_suite(con, SUITES["mart_cost_per_outcome"])
    assert not mart.success
    assert mart.failed_labels == ["relation_exists"]
    assert "marts.mart_cost_per_outcome does not exist" in mart.failed[0].error
