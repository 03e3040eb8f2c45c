"""The semantic layer (dbt_project/models/semantic/) queried with MetricFlow's own CLI, `mf
query`, against the built tiny organisation: every headline metric reproduces the figure of
the mart it stands for, value for value (the same rounding: integer sums, 6-decimal ratios),
grouped by AI flag over the whole history, and by month (week for review hours) x team x AI
flag."""

from __future__ import annotations

import csv
import shutil
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path

import pytest

from pipelines.cli import main
from pipelines.serving.metricflow import run_mf

AI = "pull_request__is_ai_assisted"
TEAM = "pull_request__team_id"
MONTH = "metric_time__month"

COUNTS = ("prs_opened", "prs_shipped", "prs_survival_observed", "prs_surviving")
FLOATS = (
    "allocated_cost_per_shipped_pr",
    "allocated_cost_per_surviving_pr",
    "defect_weight",
    "bugs_per_shipped_pr",
    "review_hours",
    "review_hours_per_pr",
)
DECIMALS = ("allocated_spend_usd", "ai_spend_usd")


def _value(name: str, text: str):
    """A CSV cell as the mart's type: None for an empty cell."""
    if text == "":
        return None
    if name == MONTH:
        return datetime.fromisoformat(text).date()
    if name == AI:
        return {"True": True, "False": False}[text]
    if name in COUNTS:
        return int(text)
    if name in FLOATS:
        return float(text)
    if name in DECIMALS:
        return Decimal(text)
    return text


def mf_query(warehouse: Path, out: Path, metrics: list[str], group_by: list[str]) -> list[dict]:
    """`mf query --metrics ... --group-by ... --csv out` against the warehouse, its rows."""
    args = ["query", "--metrics", ",".join(metrics), "--group-by", ",".join(group_by)]
    done = run_mf([*args, "--csv", str(out)], warehouse, capture=True)
    assert done.returncode == 0, done.stdout + done.stderr
    with out.open(newline="") as f:
        return [{k: _value(k, v) for k, v in row.items()} for row in csv.DictReader(f)]


@pytest.fixture(scope="module")
def by_ai_flag(built_org, tmp_path_factory) -> dict[bool, dict]:
    rows = mf_query(
        built_org.warehouse,
        tmp_path_factory.mktemp("mf") / "by_ai_flag.csv",
        ["allocated_spend_usd", *COUNTS, *FLOATS],
        [AI],
    )
    return {row.pop(AI): row for row in rows}


@pytest.fixture(scope="module")
def by_month(built_org, tmp_path_factory) -> dict[tuple[date, str, bool], dict]:
    rows = mf_query(
        built_org.warehouse,
        tmp_path_factory.mktemp("mf") / "by_month.csv",
        [
            "allocated_spend_usd",
            "prs_shipped",
            "prs_survival_observed",
            "prs_surviving",
            "allocated_cost_per_shipped_pr",
            "allocated_cost_per_surviving_pr",
            "defect_weight",
            "bugs_per_shipped_pr",
        ],
        [MONTH, TEAM, AI],
    )
    return {(row.pop(MONTH), row.pop(TEAM), row.pop(AI)): row for row in rows}


def test_whole_history_by_ai_flag_equals_mart_ai_assisted_outcomes(built_org, by_ai_flag):
    mart = {
        row.pop("is_ai_assisted"): row
        for row in built_org.dicts(
            "select is_ai_assisted, allocated_spend_usd, opened as prs_opened, "
            "shipped as prs_shipped, shipped_observed as prs_survival_observed, "
            "survived as prs_surviving, allocated_cost_per_surviving_pr, defect_weight, "
            "bugs_per_shipped_pr, review_hours, review_hours_per_pr "
            "from marts.mart_ai_assisted_outcomes"
        )
    }
    assert set(mart) == {True, False}
    semantic = {flag: {k: row[k] for k in mart[flag]} for flag, row in by_ai_flag.items()}
    assert semantic == mart
    # figures the organisation really has, so the comparison compares something
    assert all(row["prs_surviving"] > 0 and row["review_hours"] > 0 for row in mart.values())


def test_by_month_team_and_ai_flag_equals_mart_cost_per_outcome_by_ai(built_org, by_month):
    mart = {
        (row.pop("month"), row.pop("team_id"), row.pop("is_ai_assisted")): row
        for row in built_org.dicts(
            "select month, team_id, is_ai_assisted, allocated_spend_usd, "
            "shipped_prs as prs_shipped, surviving_prs as prs_surviving, "
            "allocated_cost_per_shipped_pr, allocated_cost_per_surviving_pr "
            "from marts.mart_cost_per_outcome_by_ai"
        )
    }
    assert len(mart) >= 4
    assert set(by_month) == set(mart)
    semantic = {
        key: {
            # A cohort month with spend and no shipped PR: the mart says 0, MetricFlow has no
            # row of PRs to count (and the converse for spend).
            **{k: row[k] or 0 for k in ("prs_shipped", "prs_surviving")},
            "allocated_spend_usd": row["allocated_spend_usd"] or Decimal(0),
            **{k: row[k] for k in mart[key] if k.startswith("allocated_cost")},
        }
        for key, row in by_month.items()
    }
    assert semantic == mart


def test_by_month_team_and_ai_flag_equals_the_defect_and_survival_marts(built_org, by_month):
    bugs = {
        (row.pop("shipped_month"), row.pop("team_id"), row.pop("is_ai_assisted")): row
        for row in built_org.dicts(
            "select bugs.shipped_month, bugs.team_id, bugs.is_ai_assisted, "
            "survival.shipped as prs_shipped, survival.survived as prs_surviving, "
            "bugs.shipped_prs as prs_survival_observed, bugs.defect_weight, "
            "bugs.bugs_per_shipped_pr "
            "from marts.mart_bugs_per_shipped_pr as bugs "
            "inner join marts.mart_production_survival as survival "
            "using (shipped_month, team_id, is_ai_assisted)"
        )
    }
    assert len(bugs) >= 4
    shipped = {key: row for key, row in by_month.items() if row["prs_shipped"]}
    assert set(shipped) == set(bugs)
    assert {key: {k: row[k] for k in bugs[key]} for key, row in shipped.items()} == bugs
    assert sum(row["defect_weight"] for row in bugs.values()) > 0


def test_review_hours_by_week_team_and_ai_flag_equal_mart_review_hours(built_org, tmp_path):
    week = "metric_time__week"
    rows = mf_query(
        built_org.warehouse,
        tmp_path / "review.csv",
        ["prs_opened", "review_hours", "review_hours_per_pr"],
        [week, TEAM, AI],
    )
    semantic = {
        (datetime.fromisoformat(row.pop(week)).date(), row.pop(TEAM), row.pop(AI)): row
        for row in rows
    }
    mart = {
        (row.pop("opened_week"), row.pop("team_id"), row.pop("is_ai_assisted")): row
        for row in built_org.dicts(
            "select opened_week, team_id, is_ai_assisted, pull_requests as prs_opened, "
            "review_hours, review_hours_per_pr from marts.mart_review_hours"
        )
    }
    assert len(mart) >= 10
    assert semantic == mart


def test_ai_spend_by_month_and_provider_equals_mart_model_mix(built_org, tmp_path_factory):
    provider = "model_month__provider"
    rows = mf_query(
        built_org.warehouse,
        tmp_path_factory.mktemp("mf") / "spend.csv",
        ["ai_spend_usd"],
        [MONTH, provider],
    )
    semantic = {(row[MONTH], row[provider]): row["ai_spend_usd"] for row in rows}
    mart = dict(
        ((month, p), usd)
        for month, p, usd in built_org.rows(
            "select month, provider, sum(spend_usd) from marts.mart_model_mix group by all"
        )
    )
    assert len(mart) >= 4
    assert semantic == mart
    # all of it: what int_ai_spend priced, attributed or not
    assert sum(semantic.values()) == built_org.scalar(
        "select sum(cost_usd) from intermediate.int_ai_spend__daily"
    )


def test_the_metrics_command_runs_mf_against_the_warehouse_it_is_given(built_org, tmp_path):
    out = tmp_path / "surviving.csv"
    args = ["query", "--metrics", "prs_surviving", "--group-by", AI, "--csv", str(out)]
    assert main(["metrics", "--duckdb", str(built_org.warehouse), *args]) == 0
    with out.open(newline="") as f:
        semantic = {_value(AI, row[AI]): int(row["prs_surviving"]) for row in csv.DictReader(f)}
    assert semantic == dict(
        built_org.rows("select is_ai_assisted, survived from marts.mart_ai_assisted_outcomes")
    )


def test_mf_reads_the_warehouse_it_is_given_whatever_the_last_parse_saw(
    built_org, by_ai_flag, tmp_path
):
    """dbt's semantic manifest names each table in the catalog of the warehouse its parse saw
    (the file's stem): a warehouse under another name must still be the one `mf` reads."""
    renamed = tmp_path / "another_name.duckdb"
    shutil.copyfile(built_org.warehouse, renamed)
    rows = mf_query(renamed, tmp_path / "renamed.csv", ["prs_shipped"], [AI])
    assert {row[AI]: row["prs_shipped"] for row in rows} == {
        flag: row["prs_shipped"] for flag, row in by_ai_flag.items()
    }
