"""Defects, survival, DORA and agentic work units against the simulator's ground truth.

The attribution and survival facts must equal truth.py's row for row. The defect and survival
marts must equal the aggregates this file computes in plain Python from the truth tables
(counts exactly, rates within 1e-9). The Kaplan-Meier curve is recomputed by the product-limit
rule from truth_pull_requests, and the DORA frequency and lead time from the store's raw GitHub
deployments. Each test runs on the tiny and the demo organisation (fixture `built_org`).
"""

from __future__ import annotations

import fnmatch
import json
import math
from collections import defaultdict
from datetime import date, datetime, timedelta

import pytest

from tests.transform.reporting_groups import group_of, repository_name_of

TOLERANCE = 1e-9


def _parameters(org) -> dict[str, str]:
    return dict(org.rows("select name, value from sim.truth_parameters"))


def _horizon(org) -> timedelta:
    return timedelta(days=int(_parameters(org)["survival_horizon_days"]))


def _as_of(org) -> datetime:
    return datetime.fromisoformat(org.scalar("select value from sim.org_meta where key = 'as_of'"))


def _month(at: datetime) -> date:
    return date(at.year, at.month, 1)


def _week(at: datetime) -> date:
    return at.date() - timedelta(days=at.weekday())


def _percentile(values: list[float], q: float) -> float | None:
    """percentile_cont: linear interpolation between the closest ranks."""
    if not values:
        return None
    ordered = sorted(values)
    position = q * (len(ordered) - 1)
    low = math.floor(position)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (position - low)


def _close(a: float | None, b: float | None) -> bool:
    if a is None or b is None:
        return a is None and b is None
    return abs(a - b) <= TOLERANCE


def _truth_prs(org) -> list[dict]:
    return org.dicts(
        "select repo_full_name, number, team_id, is_ai_assisted, shipped_at, reverted_at, "
        "rolled_back_at, censored, survived, outcome, implements_work_item "
        "from sim.truth_pull_requests"
    )


# --- attribution and survival: row for row -----------------------------------------------------


def test_defect_attribution_equals_the_truth(built_org):
    mine = built_org.rows(
        "select defect_id, defect_kind, created_at, rule, repo_full_name, pull_request_number, "
        "weight from intermediate.int_defect_attribution"
    )
    truth = built_org.rows(
        "select defect_id, defect_kind, created_at, rule, repo_full_name, number, weight "
        "from sim.truth_defect_attribution"
    )
    assert len(truth) > 0
    assert len(mine) == len(truth)

    def keyed(rows):
        return {(r[0], r[4], r[5]): r for r in rows}

    mine_by, truth_by = keyed(mine), keyed(truth)
    assert set(mine_by) == set(truth_by)
    for key, expected in truth_by.items():
        got = mine_by[key]
        assert got[:4] == expected[:4], key
        assert abs(got[6] - expected[6]) <= 1e-12, key
    # Every rule of the spec is exercised on this organisation, so the comparison means something.
    rules = {r[3] for r in truth}
    assert {"explicit", "time", "unattributed"} <= rules


def test_weights_sum_to_one_per_defect(built_org):
    off = built_org.rows(
        "select defect_id, sum(weight) from intermediate.int_defect_attribution "
        "group by defect_id having abs(sum(weight) - 1) > 1e-12"
    )
    assert off == []
    defects = built_org.scalar("select count(*) from intermediate.int_defects")
    attributed = built_org.scalar(
        "select count(distinct defect_id) from intermediate.int_defect_attribution"
    )
    assert attributed == defects


def test_survival_equals_the_truth(built_org):
    differences = built_org.rows(
        """
        select t.repo_full_name, t.number,
               s.rolled_back_at, t.rolled_back_at, s.is_censored, t.censored,
               s.survived, t.survived
        from sim.truth_pull_requests as t
        full outer join intermediate.int_pull_requests__survival as s
            on s.repo_full_name = t.repo_full_name and s.pull_request_number = t.number
        where s.pull_request_id is null or t.number is null
           or s.rolled_back_at is distinct from t.rolled_back_at
           or s.is_censored is distinct from t.censored
           or s.survived is distinct from t.survived
        """
    )
    assert differences == []
    assert built_org.scalar("select count(*) from sim.truth_pull_requests where survived") > 0
    assert built_org.scalar("select count(*) from sim.truth_pull_requests where not survived") > 0


# --- quality marts: aggregates of the truth ----------------------------------------------------


def _cohort(pr: dict, group) -> tuple:
    """A PR's cohort, its team as its reporting group (docs/metrics.md section 11)."""
    return (_month(pr["shipped_at"]), group(pr["team_id"]), pr["is_ai_assisted"])


def test_bugs_per_shipped_pr_equals_the_truth(built_org):
    group = group_of(built_org)
    horizon = _horizon(built_org)
    prs = {(p["repo_full_name"], p["number"]): p for p in _truth_prs(built_org)}
    attribution = built_org.dicts(
        "select defect_id, defect_kind, created_at, rule, repo_full_name, number, weight "
        "from sim.truth_defect_attribution where number is not null"
    )
    expected = defaultdict(lambda: defaultdict(float))
    for p in prs.values():
        if p["shipped_at"] is None:
            continue
        row = expected[_cohort(p, group)]
        row["shipped_prs_incl_censored"] += 1
        row["censored_prs"] += p["censored"]
        row["shipped_prs"] += not p["censored"]
    for a in attribution:
        p = prs[(a["repo_full_name"], a["number"])]
        if p["shipped_at"] is None or p["censored"] or a["created_at"] > p["shipped_at"] + horizon:
            continue
        row = expected[_cohort(p, group)]
        row["defect_weight"] += a["weight"]
        row[f"{a['defect_kind']}_defect_weight"] += a["weight"]
        row[f"{a['rule']}_rule_weight"] += a["weight"]

    mart = {
        (r["shipped_month"], r["team_id"], r["is_ai_assisted"]): r
        for r in built_org.dicts("select * from marts.mart_bugs_per_shipped_pr")
    }
    assert set(mart) == set(expected)
    assert sum(r["defect_weight"] for r in expected.values()) > 0
    for cohort, want in expected.items():
        got = mart[cohort]
        for count in ("shipped_prs_incl_censored", "censored_prs", "shipped_prs"):
            assert got[count] == want[count], (cohort, count)
        for weight in (
            "defect_weight",
            "work_item_defect_weight",
            "incident_defect_weight",
            "explicit_rule_weight",
            "work_item_rule_weight",
            "deployment_rule_weight",
            "time_rule_weight",
        ):
            assert _close(got[weight], want[weight]), (cohort, weight)
        rate = want["defect_weight"] / want["shipped_prs"] if want["shipped_prs"] else None
        assert _close(got["bugs_per_shipped_pr"], rate), cohort


def test_unattributed_defects_are_all_counted(built_org):
    expected = defaultdict(lambda: [0, 0])
    for _defect_id, kind, created, rule in built_org.rows(
        "select distinct defect_id, defect_kind, created_at, rule from sim.truth_defect_attribution"
    ):
        expected[(_month(created), kind)][0] += 1
        expected[(_month(created), kind)][1] += rule == "unattributed"
    mart = {
        (month, kind): [defects, unattributed]
        for month, kind, defects, unattributed in built_org.rows(
            "select created_month, defect_kind, defects, unattributed_defects "
            "from marts.mart_unattributed_defects"
        )
    }
    assert mart == dict(expected)


def test_production_survival_equals_the_truth(built_org):
    group = group_of(built_org)
    horizon = _horizon(built_org)
    expected = defaultdict(lambda: defaultdict(int))
    for p in _truth_prs(built_org):
        if p["shipped_at"] is None:
            continue
        row = expected[_cohort(p, group)]
        row["shipped"] += 1
        row["censored"] += p["censored"]
        if p["censored"]:
            continue
        limit = p["shipped_at"] + horizon
        row["eligible"] += 1
        row["survived"] += p["survived"]
        row["reverted_within_h"] += p["reverted_at"] is not None and p["reverted_at"] <= limit
        row["rolled_back_within_h"] += (
            p["rolled_back_at"] is not None and p["rolled_back_at"] <= limit
        )
    mart = {
        (r["shipped_month"], r["team_id"], r["is_ai_assisted"]): r
        for r in built_org.dicts("select * from marts.mart_production_survival")
    }
    assert set(mart) == set(expected)
    counts = ("shipped", "censored", "eligible", "survived")
    counts += ("reverted_within_h", "rolled_back_within_h")
    for cohort, want in expected.items():
        got = mart[cohort]
        for count in counts:
            assert got[count] == want[count], (cohort, count)
        rate = want["survived"] / want["eligible"] if want["eligible"] else None
        assert _close(got["survival_rate"], rate), cohort


def test_kaplan_meier_curve_equals_the_product_limit_of_the_truth(built_org):
    horizon, as_of = _horizon(built_org), _as_of(built_org)
    days = horizon.days
    ends = defaultdict(list)  # cohort -> [(end day, is event)]
    for p in _truth_prs(built_org):
        if p["shipped_at"] is None:
            continue
        failures = [t for t in (p["reverted_at"], p["rolled_back_at"]) if t is not None]
        failed = min(failures) if failures else None
        if failed is not None and failed <= p["shipped_at"] + horizon:
            end = (max(math.floor((failed - p["shipped_at"]) / timedelta(days=1)), 0), True)
        else:
            observed = (as_of - p["shipped_at"]) / timedelta(days=1)
            end = (math.floor(min(observed, days)), False)
        ends["ai_assisted" if p["is_ai_assisted"] else "not_ai_assisted"].append(end)
        ends["all"].append(end)

    expected = {}
    for cohort, observations in ends.items():
        survival = 1.0
        for day in range(days + 1):
            at_risk = sum(1 for d, _ in observations if d >= day)
            events = sum(1 for d, e in observations if d == day and e)
            censored = sum(1 for d, e in observations if d == day and not e)
            if at_risk:
                survival *= 1 - events / at_risk
            expected[(cohort, day)] = (at_risk, events, censored, survival)

    mart = {
        (cohort, day): (at_risk, events, censored, probability)
        for cohort, day, at_risk, events, censored, probability in built_org.rows(
            "select cohort, day_since_ship, at_risk, events, censored, survival_probability "
            "from marts.mart_survival_curve"
        )
    }
    assert set(mart) == set(expected)
    assert sum(v[1] for k, v in expected.items() if k[0] == "all") > 0
    for key, (at_risk, events, censored, survival) in expected.items():
        got = mart[key]
        assert got[:3] == (at_risk, events, censored), key
        assert _close(got[3], survival), key


# --- DORA from the raw deployments -------------------------------------------------------------


def _is_production(environment: str, flag: bool, patterns: list[str]) -> bool:
    """docs/metrics.md section 8: the flag, or a pattern matching the name in any case (the
    default patterns have no wildcard but `*`, so fnmatch reads them as the models do)."""
    name = environment.lower()
    return bool(flag) or any(fnmatch.fnmatchcase(name, p.lower()) for p in patterns)


def _raw_production_deployments(org) -> dict[int, dict]:
    patterns = json.loads(_parameters(org)["production_environments"])
    deployments = {
        i: {"repo": repo, "created_at": created, "finished_at": None}
        for i, repo, env, flag, created in org.rows(
            "select id, repo_full_name, environment, production_environment, created_at "
            "from sim.gh_deployments"
        )
        if _is_production(env, flag, patterns)
    }
    for deployment_id, at in org.rows(
        "select deployment_id, created_at from sim.gh_deployment_statuses where state = 'success'"
    ):
        if deployment_id in deployments:
            deployments[deployment_id]["finished_at"] = at
    return deployments


def test_dora_frequency_and_lead_time_from_the_raw_deployments(built_org):
    deployments = _raw_production_deployments(built_org)
    # Repositories of the teams merged into the other teams are one (docs/metrics.md 11).
    shown = repository_name_of(built_org)
    for d in deployments.values():
        d["repo"] = shown(d["repo"])
    expected = defaultdict(lambda: {"deployments": 0, "successful": 0, "lead": []})
    for d in deployments.values():
        row = expected[(d["repo"], _week(d["created_at"]))]
        row["deployments"] += 1
        row["successful"] += d["finished_at"] is not None
    # Lead time: the deployment that shipped each PR (truth), its finish minus the PR's first
    # commit in the raw commits.
    first_commit = {
        (repo, n): at
        for repo, n, at in built_org.rows(
            "select repo_full_name, pr_number, min(author_date) from sim.gh_commits group by 1, 2"
        )
    }
    for repo, n, deployment_id in built_org.rows(
        "select repo_full_name, number, shipping_deployment_id from sim.truth_pull_requests "
        "where shipping_deployment_id is not null"
    ):
        d = deployments[deployment_id]
        hours = (d["finished_at"] - first_commit[(repo, n)]) / timedelta(hours=1)
        expected[(d["repo"], _week(d["created_at"]))]["lead"].append(hours)

    mart = {
        (r["repo_full_name"], r["deployment_week"]): r
        for r in built_org.dicts("select * from marts.mart_dora")
    }
    assert set(mart) == set(expected)
    for key, want in expected.items():
        got = mart[key]
        assert got["deployments"] == want["deployments"], key
        assert got["successful_deployments"] == want["successful"], key
        assert _close(got["deployments_per_day"], want["successful"] / 7), key
        assert got["shipped_prs"] == len(want["lead"]), key
        assert _close(got["lead_time_median_hours"], _percentile(want["lead"], 0.5)), key
        assert _close(got["lead_time_p75_hours"], _percentile(want["lead"], 0.75)), key

    summary = built_org.dicts("select * from marts.mart_dora_summary where grain = 'all'")
    assert len(summary) == 1
    total = summary[0]
    successful = sum(1 for d in deployments.values() if d["finished_at"] is not None)
    first_day = min(d["created_at"] for d in deployments.values()).date()
    period_days = (_as_of(built_org).date() - first_day).days
    assert total["successful_deployments"] == successful
    assert total["period_days"] == period_days
    assert _close(total["deployments_per_day"], successful / period_days)
    all_leads = [h for row in expected.values() for h in row["lead"]]
    assert _close(total["lead_time_median_hours"], _percentile(all_leads, 0.5))
    assert _close(total["lead_time_p75_hours"], _percentile(all_leads, 0.75))


def test_dora_tiers_follow_the_thresholds_seed(built_org):
    wrong = built_org.rows(
        """
        select m.grain, m.team_id, m.lead_time_tier, t.tier
        from marts.mart_dora_summary as m
        left join lateral (
            select tier from seeds.dora_thresholds
            where metric = 'lead_time_for_changes'
              and (threshold is null or m.lead_time_median_hours <= threshold)
            order by tier_order limit 1
        ) as t on true
        where m.lead_time_median_hours is not null and m.lead_time_tier is distinct from t.tier
        """
    )
    assert wrong == []
    assert built_org.scalar(
        "select count(*) from marts.mart_dora_summary where deployment_frequency_tier is null"
    ) == built_org.scalar(
        "select count(*) from marts.mart_dora_summary where deployments_per_day is null"
    )


# --- agentic work units --------------------------------------------------------------------------


def test_agentic_work_units_follow_the_documented_rule(built_org):
    """Recomputed from the store's Jira changelog, the truth's PR survival and PagerDuty."""
    horizon, as_of = _horizon(built_org), _as_of(built_org)
    bug_types = set(json.loads(_parameters(built_org)["bug_issue_types"]))
    items = {
        key: kind
        for key, kind in built_org.rows("select key, issuetype_name from sim.jira_issues")
        if kind not in bug_types
    }
    done_at, reopened_at = {}, {}
    for key, at, category in built_org.rows(
        "select issue_key, created, to_status_category from sim.jira_changelog "
        "where field = 'status' order by issue_key, created, history_id"
    ):
        if category == "done":
            done_at.setdefault(key, at)
        elif key in done_at and key not in reopened_at:
            reopened_at[key] = at
    implementing = defaultdict(list)
    for p in _truth_prs(built_org):
        if p["outcome"] == "merged" and p["implements_work_item"]:
            for key in p["implements_work_item"].split(","):
                implementing[key].append(p)

    expected = defaultdict(lambda: defaultdict(int))
    for key in items:
        if key not in done_at:
            continue
        week = expected[_week(done_at[key])]
        prs = implementing[key]
        window_end = done_at[key] + horizon
        if not prs:
            week["done_without_pull_request"] += 1
        elif key in reopened_at and reopened_at[key] <= window_end:
            week["reopened_work_items"] += 1
        elif any(p["survived"] is False for p in prs):
            week["failed_work_items"] += 1
        elif any(p["survived"] is None for p in prs) or window_end > as_of:
            week["pending_work_items"] += 1
        else:
            week["work_item_awus"] += 1
    for (resolved,) in built_org.rows(
        "select resolved_at from sim.pd_incidents where resolved_at is not null"
    ):
        expected[_week(resolved)]["incident_awus"] += 1

    columns = (
        "work_item_awus",
        "incident_awus",
        "pending_work_items",
        "reopened_work_items",
        "failed_work_items",
        "done_without_pull_request",
    )
    sums = ", ".join(f"sum({c})" for c in columns)
    mart = {
        week: dict(zip(columns, values, strict=True))
        for week, *values in built_org.rows(
            f"select week_start, {sums} from marts.mart_agentic_work_units group by week_start"
        )
    }
    for week, want in expected.items():
        for column in columns:
            assert mart[week][column] == want[column], (week, column)
    for week, got in mart.items():
        if week not in expected:
            assert all(v == 0 for v in got.values()), week
    assert sum(w["work_item_awus"] for w in expected.values()) > 0


def test_cost_per_awu_is_attributed_spend_over_awus(built_org):
    rows = built_org.rows(
        "select awus, attributed_spend_usd, cost_per_awu from marts.mart_agentic_work_units"
    )
    assert rows
    for awus, spend, cost in rows:
        if awus == 0:
            assert cost is None
        else:
            assert cost == pytest.approx(float(spend) / awus, rel=TOLERANCE)
    # Every person's spend, people with no team included (their no-team group).
    team_spend = built_org.scalar(
        "select sum(cost_usd) from intermediate.int_ai_spend__daily where person_id is not null"
    )
    mart_spend = built_org.scalar(
        "select sum(attributed_spend_usd) from marts.mart_agentic_work_units"
    )
    assert float(mart_spend) == pytest.approx(float(team_spend), rel=TOLERANCE)
