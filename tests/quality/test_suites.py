"""Every suite in expectations/ against a built warehouse: it passes on the loaded and built
organisation, and one realistic corruption of its relation makes it fail on exactly the
expected expectations, with the corrupted row among the sample rows."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import Any

import duckdb
import pandas as pd
import pytest

from pipelines.quality.gx_suites import SuiteResult, load_suites, run_suite

SUITES = {suite.name: suite for suite in load_suites()}


@dataclass(frozen=True)
class Corruption:
    sql: str  # changes one row and `returning` the columns that name it (the suite's row_id)
    failed: frozenset[str]  # the labels of the expectations it must fail


def corrupt(sql: str, *failed: str) -> Corruption:
    return Corruption(sql, frozenset(failed))


def first_row(table: str) -> str:
    return f"rowid = (select min(rowid) from {table})"


# One corruption per suite, in the suite's own relation (a view: in the table it reads).
CORRUPTIONS = {
    # --- raw ---------------------------------------------------------------------------------
    "raw_github__pull_requests": corrupt(
        "update raw_github.pull_requests set state = 'exploded' "
        "where id = (select min(id) from raw_github.pull_requests) returning id",
        "expect_column_values_to_be_in_set(state)",
        "expect_column_pair_values_to_be_in_set(state, merged)",
    ),
    "raw_github__pull_request_reviews": corrupt(
        "update raw_github.pull_request_reviews set state = 'LGTM' "
        "where id = (select min(id) from raw_github.pull_request_reviews) returning id",
        "expect_column_values_to_be_in_set(state)",
    ),
    "raw_github__deployments": corrupt(
        "update raw_github.deployments set updated_at = created_at - interval 1 hour "
        "where id = (select min(id) from raw_github.deployments) returning id",
        "expect_column_pair_values_a_to_be_greater_than_b(updated_at, created_at)",
    ),
    "raw_github__deployment_ranges": corrupt(
        "update raw_github.deployment_ranges set commits_loaded = total_commits + 1 "
        "where status = 'ahead' and deployment_id = (select min(deployment_id) "
        "from raw_github.deployment_ranges where status = 'ahead') "
        "returning deployment_id, base_deployment_id",
        "expect_column_pair_values_a_to_be_greater_than_b(total_commits, commits_loaded)",
    ),
    "raw_github__deployment_statuses": corrupt(
        "update raw_github.deployment_statuses set state = 'shipped' "
        "where id = (select min(id) from raw_github.deployment_statuses) returning id",
        "expect_column_values_to_be_in_set(state)",
    ),
    "raw_github__workflow_runs": corrupt(
        "update raw_github.workflow_runs set run_attempt = 0 "
        "where id = (select min(id) from raw_github.workflow_runs) returning id",
        "expect_column_values_to_be_between(run_attempt)",
    ),
    "raw_jira__issues": corrupt(
        "update raw_jira.issues set resolutiondate = created - interval 1 day "
        "where id = (select min(id) from raw_jira.issues where resolutiondate is not null) "
        "returning id",
        "expect_column_pair_values_a_to_be_greater_than_b(resolutiondate, created)",
    ),
    "raw_pagerduty__incidents": corrupt(
        "update raw_pagerduty.incidents set urgency = 'critical' "
        "where id = (select min(id) from raw_pagerduty.incidents) returning id",
        "expect_column_values_to_be_in_set(urgency)",
    ),
    "raw_pagerduty__incident_log_entries": corrupt(
        "update raw_pagerduty.incident_log_entries set type = 'rollback' "
        "where id = (select min(id) from raw_pagerduty.incident_log_entries) returning id",
        "expect_column_values_to_match_regex(type)",
    ),
    "raw_anthropic__messages_usage": corrupt(
        "update raw_anthropic.messages_usage set output_tokens = -5 "
        "where row_key = (select min(row_key) from raw_anthropic.messages_usage) "
        "returning row_key",
        "expect_column_values_to_be_between(output_tokens)",
    ),
    "raw_anthropic__cost_report": corrupt(
        "update raw_anthropic.cost_report set amount_usd = -1 "
        "where row_key = (select min(row_key) from raw_anthropic.cost_report) returning row_key",
        "expect_column_values_to_be_between(amount_usd)",
    ),
    "raw_anthropic__claude_code_usage": corrupt(
        "update raw_anthropic.claude_code_usage set lines_added = -1 "
        "where row_key = (select min(row_key) from raw_anthropic.claude_code_usage) "
        "returning row_key",
        "expect_column_values_to_be_between(lines_added)",
    ),
    "raw_anthropic__claude_code_usage__model_breakdown": corrupt(
        "update raw_anthropic.claude_code_usage__model_breakdown set input_tokens = -1 "
        f"where {first_row('raw_anthropic.claude_code_usage__model_breakdown')} "
        "returning usage_row_key, model",
        "expect_column_values_to_be_between(input_tokens)",
    ),
    "raw_openai__completions_usage": corrupt(
        "update raw_openai.completions_usage set input_cached_tokens = input_tokens + 1 "
        "where row_key = (select min(row_key) from raw_openai.completions_usage) "
        "returning row_key",
        "expect_column_pair_values_a_to_be_greater_than_b(input_tokens, input_cached_tokens)",
    ),
    # A cost line loaded twice under one key: the merge key is no longer unique.
    "raw_openai__costs": corrupt(
        "update raw_openai.costs set row_key = (select max(row_key) from raw_openai.costs) "
        "where row_key = (select min(row_key) from raw_openai.costs) returning row_key",
        "expect_column_values_to_be_unique(row_key)",
    ),
    # --- staging (a view over the raw table) -------------------------------------------------
    "stg_github__pull_requests": corrupt(
        "update raw_github.pull_requests set state = 'exploded' "
        "where id = (select min(id) from raw_github.pull_requests) returning id as pull_request_id",
        "expect_column_values_to_be_in_set(pull_request_state)",
        "expect_column_pair_values_to_be_in_set(pull_request_state, is_merged)",
    ),
    # --- time order across tables (views over staging; broken in the raw table they read) -----
    # A review dated three weeks before its PR was opened.
    "chk_github__review_time_order": corrupt(
        "update raw_github.pull_request_reviews set submitted_at = submitted_at - interval 21 day "
        "where id = (select min(review_id) from staging.chk_github__review_time_order) "
        "returning id as review_id",
        "expect_column_values_to_be_between(minutes_before_opened)",
    ),
    "chk_github__comment_time_order": corrupt(
        "update raw_github.pull_request_review_comments "
        "set created_at = created_at - interval 21 day "
        "where id = (select min(comment_id) from staging.chk_github__comment_time_order "
        "where comment_type = 'review_comment') "
        "returning 'review_comment' as comment_type, id as comment_id",
        "expect_column_values_to_be_between(minutes_before_opened)",
    ),
    # A commit dated a year before its PR (a wrong clock): its PR would be in flight a year.
    "chk_github__commit_time_order": corrupt(
        "update raw_github.pull_request_commits set author_date = author_date - interval 365 day "
        "where sha = (select min(commit_sha) from staging.chk_github__commit_time_order) "
        "returning repo_full_name || '#' || pr_number || '@' || sha as pull_request_commit_key",
        "expect_column_values_to_be_between(days_before_opened)",
    ),
    # A deployment created before the merge whose commit its range holds.
    "chk_github__deployment_time_order": corrupt(
        "update raw_github.deployments set created_at = created_at - interval 60 day "
        "where id = (select min(deployment_id) from staging.chk_github__deployment_time_order) "
        "returning id as deployment_id",
        "expect_column_values_to_be_between(minutes_before_merged)",
    ),
    # --- intermediate and marts --------------------------------------------------------------
    # A provider restates a day's bill after the spend was priced.
    "int_ai_spend__reconciliation": corrupt(
        "update intermediate.int_ai_spend__reconciliation set billed_usd = billed_usd + 1 "
        f"where {first_row('intermediate.int_ai_spend__reconciliation')} "
        "returning provider, day",
        "expect_column_values_to_be_between(billed_gap_usd)",
    ),
    "fct_pull_requests": corrupt(
        "update marts.fct_pull_requests set ai_commit_share = 1.5 "
        "where pull_request_id = (select min(pull_request_id) from marts.fct_pull_requests) "
        "returning pull_request_id",
        "expect_column_values_to_be_between(ai_commit_share)",
    ),
    "mart_delivery_funnel": corrupt(
        "update marts.mart_delivery_funnel set shipped = merged + 1 "
        f"where {first_row('marts.mart_delivery_funnel')} "
        "returning opened_week, team_id, is_ai_assisted",
        "expect_column_pair_values_a_to_be_greater_than_b(merged, shipped)",
    ),
    "mart_production_survival": corrupt(
        "update marts.mart_production_survival set survived = eligible + 1 "
        f"where {first_row('marts.mart_production_survival')} "
        "returning shipped_month, team_id, is_ai_assisted",
        "expect_column_pair_values_a_to_be_greater_than_b(eligible, survived)",
    ),
    "mart_survival_curve": corrupt(
        "update marts.mart_survival_curve set survival_probability = 1.25 "
        f"where {first_row('marts.mart_survival_curve')} returning cohort, day_since_ship",
        "expect_column_values_to_be_between(survival_probability)",
    ),
    "mart_bugs_per_shipped_pr": corrupt(
        "update marts.mart_bugs_per_shipped_pr set time_rule_weight = time_rule_weight + 1 "
        f"where {first_row('marts.mart_bugs_per_shipped_pr')} "
        "returning shipped_month, team_id, is_ai_assisted",
        "expect_column_values_to_be_between(unsplit_by_rule)",
    ),
    "mart_unattributed_defects": corrupt(
        "update marts.mart_unattributed_defects set unattributed_defects = "
        f"unattributed_defects + 1 where {first_row('marts.mart_unattributed_defects')} "
        "returning created_month, defect_kind",
        "expect_column_values_to_be_in_set(unaccounted_defects)",
    ),
    # Spend allocated twice: allocated + unallocated no longer adds up to the attributed total.
    "mart_waste_share": corrupt(
        "update marts.mart_waste_share set unallocated_spend_usd = unallocated_spend_usd + 1 "
        f"where {first_row('marts.mart_waste_share')} returning scope, team_id, month",
        "expect_column_values_to_be_between(unreconciled_total_usd)",
        "expect_column_values_to_be_between(unreconciled_waste_usd)",
    ),
    "mart_cost_per_outcome": corrupt(
        "update marts.mart_cost_per_outcome set surviving_prs = survival_evaluated_prs + 1 "
        f"where {first_row('marts.mart_cost_per_outcome')} returning team_id, month",
        "expect_column_pair_values_a_to_be_greater_than_b(survival_evaluated_prs, surviving_prs)",
    ),
    "mart_model_mix": corrupt(
        "update marts.mart_model_mix set share_of_month_spend = 2 "
        f"where {first_row('marts.mart_model_mix')} returning provider, model, month",
        "expect_column_values_to_be_between(share_of_month_spend)",
    ),
    "mart_routing_opportunity": corrupt(
        "update marts.mart_routing_opportunity set routable_share_of_allocated_spend = 1.5 "
        f"where {first_row('marts.mart_routing_opportunity')} returning team_id, month",
        "expect_column_values_to_be_between(routable_share_of_allocated_spend)",
    ),
    "mart_agentic_work_units": corrupt(
        "update marts.mart_agentic_work_units set awus = awus + 1 "
        f"where {first_row('marts.mart_agentic_work_units')} returning team_id, week_start",
        "expect_column_values_to_be_in_set(unsplit_awus)",
    ),
    "mart_dora": corrupt(
        "update marts.mart_dora set change_failure_rate = 1.2 "
        f"where {first_row('marts.mart_dora')} returning repo_full_name, deployment_week",
        "expect_column_values_to_be_between(change_failure_rate)",
    ),
    "mart_dora_summary": corrupt(
        "update marts.mart_dora_summary set deployment_rework_rate = -0.1 "
        f"where {first_row('marts.mart_dora_summary')} returning grain, team_id",
        "expect_column_values_to_be_between(deployment_rework_rate)",
    ),
    "mart_identity_coverage": corrupt(
        "update marts.mart_identity_coverage set resolved_items = items + 1 "
        f"where {first_row('marts.mart_identity_coverage')} returning domain, subject",
        "expect_column_pair_values_a_to_be_greater_than_b(items, resolved_items)",
    ),
    # A team row of a group too small to hide in (min_group_size is 5): a team of one.
    "mart_outcome_board": corrupt(
        "update marts.mart_outcome_board set team_size = 1 "
        f"where {first_row('marts.mart_outcome_board')} "
        "returning board_level, month_start, team_id, person_id",
        "expect_column_values_to_be_between(team_size)",
    ),
}


def test_every_suite_has_a_corruption():
    assert set(CORRUPTIONS) == set(SUITES)


@pytest.mark.parametrize("name", sorted(SUITES))
def test_suite_passes_on_built_warehouse(built_org, name: str):
    with duckdb.connect(str(built_org.warehouse), read_only=True) as con:
        result = run_suite(con, SUITES[name])
    assert result.success, result.to_dict()["failed"]
    assert result.failed == []
    assert result.evaluated == len(SUITES[name].expectations)
    assert result.rows_validated == built_org.scalar(
        f"select count(*) from {SUITES[name].relation}"
    )
    assert not result.truncated


@pytest.mark.parametrize("name", sorted(CORRUPTIONS))
def test_suite_fails_on_corrupted_row(warehouse_copy: Path, name: str):
    corruption = CORRUPTIONS[name]
    with duckdb.connect(str(warehouse_copy)) as con:
        cur = con.execute(corruption.sql)
        names = [d[0] for d in cur.description]
        (row,) = cur.fetchall()
        result = run_suite(con, SUITES[name])
    bad = {n: _as_reported(v) for n, v in zip(names, row, strict=True)}

    assert not result.success
    assert set(result.failed_labels) == corruption.failed, _failures(result)
    for failure in result.failed:
        assert failure.error is None, failure.error
        assert any(bad.items() <= sample.items() for sample in failure.sample_rows), (
            bad,
            failure.sample_rows,
        )


def _as_reported(value: Any) -> Any:
    """A value as failure samples report it (pandas reads a DATE as a midnight timestamp)."""
    if isinstance(value, date) and not isinstance(value, datetime):
        return pd.Timestamp(value).isoformat()
    return value


def _failures(result: SuiteResult) -> list[tuple[str, Any, Any]]:
    return [(f.label, f.unexpected_count, f.sample_rows[:2]) for f in result.failed]
