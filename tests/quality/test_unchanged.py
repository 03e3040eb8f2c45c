"""A suite is validated again whenever anything its verdict depends on changed, and only
then: a row, a column, the suite, a parameter. Unchanged inputs repeat the last passing
result, and the result says so."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import duckdb

from pipelines.quality.gx_suites import EXPECTATIONS_DIR, load_suite
from pipelines.quality.history import TABLE, write_results
from pipelines.quality.unchanged import check_suite, input_digest

PRS = load_suite(EXPECTATIONS_DIR / "raw_github__pull_requests.json")
# Uses a $PARAMETER (the time-order tolerance), and reads a dbt model, not a raw table.
REVIEWS = load_suite(EXPECTATIONS_DIR / "chk_github__review_time_order.json")


def _check(con: duckdb.DuckDBPyConnection, run_id: str, suite=PRS, parameters=None):
    result = check_suite(con, suite, parameters)
    write_results(con, run_id, [result])
    return result


def test_an_unchanged_table_is_not_read_again_and_the_result_says_so(warehouse_copy: Path):
    with duckdb.connect(str(warehouse_copy)) as con:
        rows = con.execute("select count(*) from raw_github.pull_requests").fetchone()[0]
        first = _check(con, "run-1")
        assert first.success and first.evaluated == len(PRS.expectations)
        assert first.rows_validated == rows and first.input_digest and first.validated_in is None
        # A loader re-reading unchanged records rewrites dlt's ids only: nothing to validate.
        con.execute("update raw_github.pull_requests set _dlt_load_id = 'reloaded', _dlt_id = id")
        again = _check(con, "run-2")
        third = _check(con, "run-3")
        history = con.execute(
            f"select run_id, success, evaluated, rows_validated, validated_in, note is null "
            f"from {TABLE} order by checked_at"
        ).fetchall()
    for repeated in (again, third):
        assert repeated.success and repeated.failed == []
        assert (repeated.evaluated, repeated.rows_validated) == (0, 0)
        assert repeated.validated_in == "run-1"  # the run that read the rows, however far back
        assert repeated.input_digest == first.input_digest
        assert "unchanged since its validation in run run-1" in repeated.note
    assert history == [
        ("run-1", True, len(PRS.expectations), rows, "run-1", True),
        ("run-2", True, 0, 0, "run-1", False),
        ("run-3", True, 0, 0, "run-1", False),
    ]


def test_a_changed_row_is_validated_again_and_its_failure_reported(warehouse_copy: Path):
    with duckdb.connect(str(warehouse_copy)) as con:
        _check(con, "run-1")
        bad_id, state = con.execute(
            "select id, state from raw_github.pull_requests order by id limit 1"
        ).fetchone()
        con.execute("update raw_github.pull_requests set state = 'exploded' where id = ?", [bad_id])
        failed = _check(con, "run-2")
        assert not failed.success and failed.evaluated == len(PRS.expectations)
        (in_set,) = [f for f in failed.failed if f.columns == ["state"]]
        assert [row["id"] for row in in_set.sample_rows] == [bad_id]
        # Put back as it was: the inputs equal run-1's, but the last result failed, so the
        # rows are read again rather than trusted.
        con.execute("update raw_github.pull_requests set state = ? where id = ?", [state, bad_id])
        fixed = _check(con, "run-3")
        assert fixed.success and fixed.evaluated == len(PRS.expectations)
        assert fixed.validated_in is None
        # A change to a column no expectation reads is a change too: read again, passes.
        con.execute(
            "update raw_github.pull_requests set title = title || '!' where id = ?", [bad_id]
        )
        retitled = _check(con, "run-4")
        assert retitled.success and retitled.evaluated == len(PRS.expectations)
        # and a new row, however valid
        con.execute(
            "insert into raw_github.pull_requests by name "
            "select * replace (id + 1000000000 as id, number + 100000 as number) "
            "from raw_github.pull_requests where id = ?",
            [bad_id],
        )
        grown = _check(con, "run-5")
        assert grown.success and grown.evaluated == len(PRS.expectations)
        assert grown.rows_validated == fixed.rows_validated + 1


def test_a_changed_suite_parameter_or_column_is_validated_again(warehouse_copy: Path):
    with duckdb.connect(str(warehouse_copy)) as con:
        _check(con, "run-1")
        fewer = replace(PRS, expectations=PRS.expectations[:3])
        assert _check(con, "run-2", fewer).evaluated == 3
        assert _check(con, "run-3", fewer).evaluated == 0  # unchanged since run-2

        tolerance = {"time_order_tolerance_minutes": 5}
        first = _check(con, "run-4", REVIEWS, tolerance)
        assert first.success and first.evaluated == len(REVIEWS.expectations)
        assert _check(con, "run-5", REVIEWS, tolerance).evaluated == 0
        wider = _check(con, "run-6", REVIEWS, {"time_order_tolerance_minutes": 6})
        assert wider.evaluated == len(REVIEWS.expectations)

        digest = input_digest(con, PRS, {})
        con.execute("alter table raw_github.pull_requests add column extra integer")
        assert input_digest(con, PRS, {}) != digest
        assert _check(con, "run-7").evaluated == len(PRS.expectations)


def test_what_cannot_be_pinned_down_is_always_validated(warehouse_copy: Path):
    with duckdb.connect(str(warehouse_copy)) as con:
        rows = con.execute("select count(*) from raw_github.pull_requests").fetchone()[0]
        # more rows than the suite reads: which it reads depends on dlt's load ids
        bounded = replace(PRS, max_rows=rows - 1)
        # reads one of dlt's ids, which a reload rewrites
        by_load = replace(PRS, row_id=("_dlt_id",))
        # an expectation whose verdict depends on the order the rows are read in
        ordered = replace(
            PRS,
            expectations=(
                {"type": "expect_column_values_to_be_increasing", "kwargs": {"column": "id"}},
            ),
        )
        for suite in (bounded, by_load, ordered):
            assert input_digest(con, suite, {}) is None
            for run_id in ("run-1", "run-2"):
                result = _check(con, run_id, suite)
                assert result.evaluated == len(suite.expectations) and result.validated_in is None
        assert input_digest(con, PRS, {}) is not None


def test_a_history_table_from_before_input_digests_gains_them(warehouse_copy: Path):
    """A warehouse whose quality.gx_results has only the first eleven columns: its suites are
    validated (nothing to compare with), the next write adds the columns, and from then on
    an unchanged table is repeated."""
    with duckdb.connect(str(warehouse_copy)) as con:
        con.execute("drop table if exists quality.gx_results")
        con.execute("create schema if not exists quality")
        con.execute(
            "create table quality.gx_results (run_id varchar not null, suite varchar not null, "
            "relation varchar not null, asset_key varchar not null, checked_at timestamptz "
            "not null, success boolean not null, evaluated integer not null, failed integer "
            "not null, rows_validated bigint not null, truncated boolean not null, failures "
            "varchar not null, primary key (run_id, suite))"
        )
        con.execute(
            "insert into quality.gx_results values ('old', ?, 'raw_github.pull_requests', "
            "'raw_github/pull_requests', now(), true, 16, 0, 1, false, '[]')",
            [PRS.name],
        )
        first = _check(con, "run-1")
        again = _check(con, "run-2")
        rows = con.execute(
            f"select run_id, evaluated > 0, input_digest is not null, validated_in from {TABLE} "
            "order by checked_at"
        ).fetchall()
    assert first.evaluated == len(PRS.expectations) and first.validated_in is None
    assert again.evaluated == 0 and again.validated_in == "run-1"
    assert rows == [
        ("old", True, False, None),
        ("run-1", True, True, "run-1"),
        ("run-2", False, True, "run-1"),
    ]
