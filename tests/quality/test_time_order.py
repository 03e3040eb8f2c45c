"""The pull request invariants and the time order across GitHub's tables (docs/quality.md,
"Invariants and time order"): each blocking suite fails on hand-made bad data with the
offending row, ids and both timestamps, as its sample; the tolerance is the dbt var; and a
review served weeks before its pull request was opened (the simulator's shift_time fault)
fails the review suite, where without it the PR's review time is stretched by those weeks.
The `check` command prints the offending review, and in Dagster the failed check holds back
the op that builds the marts, which keep their previous rows.

tests/quality/test_suites.py already proves that every suite passes on the built tiny
organisation and fails on one corruption of its relation; these are the other invariants."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import duckdb
import pytest

from org_simulator.faults import Fault
from org_simulator.server import SimulatorServer
from org_simulator.sources_env import simulator_sources_env
from pipelines.ingest.loads import run_load
from pipelines.quality.gx_suites import SuiteResult, load_suites, run_suite
from pipelines.transform.dbt_runner import build_models
from pipelines.transform.parameters import metric_parameters

SUITES = {suite.name: suite for suite in load_suites()}
WEEKS_EARLY = 6  # how far the simulator moves the reviews of one PR back


@dataclass(frozen=True)
class Bad:
    suite: str
    sql: str  # breaks one row, `returning` what names it in the samples
    label: str  # the one expectation it must fail


# The row picked in each is the first of its kind; the ids it returns must be in the samples.
BAD = {
    "merged_without_merge_time": Bad(
        "raw_github__pull_requests",
        "update raw_github.pull_requests set merged_at = null "
        "where id = (select min(id) from raw_github.pull_requests where merged) returning id",
        "expect_column_values_to_not_be_null(merged_at)",
    ),
    "closed_without_close_time": Bad(
        "raw_github__pull_requests",
        "update raw_github.pull_requests set closed_at = null "
        "where id = (select min(id) from raw_github.pull_requests "
        "where state = 'closed' and not merged) returning id",
        "expect_column_values_to_not_be_null(closed_at)",
    ),
    "conversation_comment_before_opening": Bad(
        "chk_github__comment_time_order",
        "update raw_github.issue_comments set created_at = created_at - interval 30 day "
        "where id = (select min(comment_id) from staging.chk_github__comment_time_order "
        "where comment_type = 'issue_comment') "
        "returning 'issue_comment' as comment_type, id as comment_id",
        "expect_column_values_to_be_between(minutes_before_opened)",
    ),
    # A commit dated two days after its PR merged (the clock tolerance is one day).
    "commit_after_merge": Bad(
        "chk_github__commit_time_order",
        "update raw_github.pull_request_commits c set author_date = ("
        "select p.merged_at from raw_github.pull_requests p "
        "where p.repo_full_name = c.repo_full_name and p.number = c.pr_number"
        ") + interval 2 day "
        "where sha = (select min(commit_sha) from staging.chk_github__commit_time_order "
        "where merged_at is not null) "
        "returning repo_full_name || '#' || pr_number || '@' || sha as pull_request_commit_key",
        "expect_column_values_to_be_between(minutes_after_merged)",
    ),
}


def _breaks(warehouse: Path, sql: str) -> dict:
    with duckdb.connect(str(warehouse)) as con:
        cur = con.execute(sql)
        names = [d[0] for d in cur.description]
        (row,) = cur.fetchall()
    return dict(zip(names, row, strict=True))


@pytest.mark.parametrize("case", sorted(BAD))
def test_each_invariant_fails_with_the_offending_row(warehouse_copy: Path, case: str):
    bad = BAD[case]
    row = _breaks(warehouse_copy, bad.sql)
    with duckdb.connect(str(warehouse_copy), read_only=True) as con:
        result = run_suite(con, SUITES[bad.suite])
    assert not result.success
    (failure,) = result.failed
    assert failure.label == bad.label
    assert failure.unexpected_count == 1
    (sample,) = failure.sample_rows
    assert row.items() <= sample.items()


def _review_at(warehouse: Path, minutes_before_opened: int) -> int:
    """Date the first review `minutes_before_opened` before its PR's opening; its id."""
    return _breaks(
        warehouse,
        "update raw_github.pull_request_reviews r set submitted_at = ("
        "select p.created_at from raw_github.pull_requests p "
        "where p.repo_full_name = r.repo_full_name and p.number = r.pr_number"
        f") - interval {minutes_before_opened} minute "
        "where id = (select min(review_id) from staging.chk_github__review_time_order) "
        "returning id",
    )["id"]


def test_the_tolerance_is_the_dbt_var(warehouse_copy: Path):
    suite = SUITES["chk_github__review_time_order"]
    tolerance = metric_parameters()["time_order_tolerance_minutes"]
    assert tolerance == 5

    _review_at(warehouse_copy, tolerance - 1)
    with duckdb.connect(str(warehouse_copy), read_only=True) as con:
        assert run_suite(con, suite).success

    review_id = _review_at(warehouse_copy, tolerance + 1)
    with duckdb.connect(str(warehouse_copy), read_only=True) as con:
        strict = run_suite(con, suite)
        wider = run_suite(
            con, suite, {**metric_parameters(), "time_order_tolerance_minutes": tolerance + 2}
        )
    (failure,) = strict.failed
    (sample,) = failure.sample_rows
    assert sample["review_id"] == review_id
    assert sample["minutes_before_opened"] == tolerance + 1
    assert wider.success


def test_the_check_command_names_the_review_and_both_times(warehouse_copy: Path, capsys):
    from pipelines.cli import main

    review_id = _review_at(warehouse_copy, 21 * 24 * 60)
    assert main(["check", "--duckdb", str(warehouse_copy)]) == 1
    out = capsys.readouterr().out
    assert "FAIL  chk_github__review_time_order" in out
    (line,) = [line for line in out.splitlines() if f'"review_id": {review_id},' in line]
    assert '"minutes_before_opened": 30240.0' in line
    assert '"submitted_at": ' in line and '"opened_at": ' in line


# --- a review weeks before its pull request, served by the simulator --------------------------


@dataclass
class Shifted:
    pull_request_id: int
    review_ids: set[int]
    result: SuiteResult  # the review suite on the load with the fault
    review_minutes: tuple[float, float]  # the PR's review_minutes: clean build, faulted build
    first_event: tuple[str, str]  # its first human event: clean, faulted


@pytest.fixture(scope="module")
def shifted(built_org, tmp_path_factory) -> Shifted:
    """GitHub loaded afresh while the simulator serves one merged PR's reviews WEEKS_EARLY
    weeks early, then built: the clean build (built_org) is the reference."""
    (pr_id, repo, number, minutes, first) = built_org.rows(
        "select f.pull_request_id, f.repo_full_name, f.pull_request_number, f.review_minutes, "
        "cast(f.first_human_event_at as varchar) "
        "from marts.fct_pull_requests f where f.review_minutes is not null and exists ("
        "select 1 from intermediate.int_review_events e where e.pull_request_id = "
        "f.pull_request_id and e.event_type = 'review' and e.is_human_reviewer_event) "
        "order by f.pull_request_id limit 1"
    )[0]
    reviews = {
        r
        for (r,) in built_org.rows(
            f"select review_id from staging.chk_github__review_time_order "
            f"where pull_request_id = {pr_id}"
        )
    }
    warehouse = tmp_path_factory.mktemp("shifted") / "warehouse.duckdb"
    fault = Fault(
        "shift_time",
        vendor="github",
        path=rf"/repos/{re.escape(repo)}/pulls/{number}/reviews$",
        times=-1,
        time_field="submitted_at",
        shift_days=-7 * WEEKS_EARLY,
    )
    with SimulatorServer(built_org.store) as sim, pytest.MonkeyPatch.context() as mp:
        for key, value in simulator_sources_env(sim).items():
            mp.setenv(key, value)
        sim.inject(fault)
        run_load("github", warehouse)
    assert fault.hits >= 1
    org = built_org.settings
    build = build_models(warehouse, seeds_dir=org.seeds_dir, as_of=org.as_of, tests=False)
    assert build.success, build.failed
    with duckdb.connect(str(warehouse), read_only=True) as con:
        result = run_suite(con, SUITES["chk_github__review_time_order"])
        after, first_after = con.execute(
            "select review_minutes, cast(first_human_event_at as varchar) "
            f"from marts.fct_pull_requests where pull_request_id = {pr_id}"
        ).fetchone()
    return Shifted(pr_id, reviews, result, (minutes, after), (first, first_after))


def test_a_review_weeks_before_its_pr_fails_with_the_review(shifted: Shifted):
    assert not shifted.result.success
    (failure,) = shifted.result.failed
    assert failure.label == "expect_column_values_to_be_between(minutes_before_opened)"
    # Only this PR's reviews are out of order, and each is named with both times.
    assert failure.unexpected_count == len(shifted.review_ids)
    assert {s["review_id"] for s in failure.sample_rows} <= shifted.review_ids
    for sample in failure.sample_rows:
        assert sample["pull_request_id"] == shifted.pull_request_id
        assert sample["submitted_at"] < sample["opened_at"]
        assert sample["minutes_before_opened"] > 7 * (WEEKS_EARLY - 1) * 24 * 60


def test_unchecked_the_review_stretches_the_review_time_by_weeks(shifted: Shifted):
    """What the check stops: the PR's review time (first human event to merge) grows by the
    weeks the reviews were moved (docs/quality.md gives the tiny organisation's figures)."""
    before, after = shifted.review_minutes
    assert after - before > 7 * (WEEKS_EARLY - 1) * 24 * 60
    assert shifted.first_event[1] < shifted.first_event[0]


# --- blocking in Dagster ------------------------------------------------------------------------


def test_in_dagster_a_review_before_its_pr_holds_back_the_marts(built_org, warehouse_copy: Path):
    """The dbt ops and the time-order checks as Dagster runs them (the loads are not part of
    it: the raw tables are the built organisation's, with one review dated three weeks before
    its PR): the foundation builds, the review check fails with the review, and the op that
    builds the marts does not run, so the marts are the previous build's."""
    import dagster as dg

    from pipelines.orchestration.dbt.assets import dbt_models
    from pipelines.orchestration.quality.checks import build_gx_check, gx_check_name
    from pipelines.orchestration.resources import WarehouseResource

    review_id = _review_at(warehouse_copy, 21 * 24 * 60)
    marts_before = _marts_checksum(warehouse_copy)
    org = built_org.settings
    dbt_foundation, _, dbt_outcomes = dbt_models(org.partitions_start, org.seeds_dir, org.as_of)
    suites = [s for s in SUITES.values() if s.name.startswith("chk_github__")]
    result = dg.materialize(
        [dbt_foundation, dbt_outcomes, *(build_gx_check(s) for s in suites)],
        resources={
            "warehouse": WarehouseResource(duckdb_path=str(warehouse_copy)),
        },
        instance=dg.DagsterInstance.ephemeral(),
        raise_on_error=False,
    )

    assert not result.success
    evaluations = {e.asset_check_key.name: e for e in result.get_asset_check_evaluations()}
    review = evaluations[gx_check_name(SUITES["chk_github__review_time_order"])]
    assert not review.passed and review.severity == dg.AssetCheckSeverity.ERROR
    (failure,) = review.metadata["failures"].value
    assert [s["review_id"] for s in failure["sample_rows"]] == [review_id]
    others = [gx_check_name(s) for s in suites if s.name != "chk_github__review_time_order"]
    assert all(evaluations[name].passed for name in others)
    started = {e.step_key for e in result.all_events if e.event_type_value == "STEP_START"}
    succeeded = {e.step_key for e in result.get_step_success_events()}
    assert "dbt_foundation" in succeeded and "dbt_outcomes" not in started
    assert _marts_checksum(warehouse_copy) == marts_before


def _marts_checksum(warehouse: Path) -> dict[str, tuple]:
    """Per mart table, a hash of all its rows: equal only if no row changed."""
    with duckdb.connect(str(warehouse), read_only=True) as con:
        tables = [
            t
            for (t,) in con.execute(
                "select table_name from information_schema.tables "
                "where table_schema = 'marts' and table_type = 'BASE TABLE'"
            ).fetchall()
        ]
        return {
            t: con.execute(f"select count(*), sum(hash(m)) from marts.{t} m").fetchone()
            for t in sorted(tables)
        }
