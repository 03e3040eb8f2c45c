"""The cross-cutting marts (fct_pull_requests, funnel, review hours, identity coverage, outcome
board) and the demo summary, against expectations computed in Python from the ground truth.

The truth keeps full-precision times; the APIs speak whole seconds, so review durations are
recomputed from the truth's sessions at second precision (the same rule on the same instants).
Counts are compared exactly, money to the micro-dollar, float ratios within 1e-9.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import date, datetime, timedelta
from decimal import Decimal

import duckdb
import pytest

from pipelines.serving.summary import format_summary, outcome_summary
from tests.transform.reporting_groups import NO_TEAM, OTHER, group_of

H = timedelta(days=30)
GAP, FLOOR, CAP = 30.0, 15.0, 240.0
TOLERANCE = 1e-9


def _week(t: datetime) -> date:
    return (t - timedelta(days=t.weekday())).date()


def _month(t: datetime | date) -> date:
    return date(t.year, t.month, 1)


def _second(t: datetime | None) -> datetime | None:
    return t.replace(microsecond=0) if t else None


@pytest.fixture(scope="module")
def truth_prs(built_org) -> list[dict]:
    return built_org.dicts("select * from sim.truth_pull_requests")


@pytest.fixture(scope="module")
def defect_weight(built_org, truth_prs) -> dict[tuple[str, int], float]:
    """Defect weight that came back within H days of shipping, per PR (docs/metrics.md 4)."""
    shipped = {(p["repo_full_name"], p["number"]): p["shipped_at"] for p in truth_prs}
    weight = defaultdict(float)
    for a in built_org.dicts(
        "select * from sim.truth_defect_attribution where repo_full_name is not null"
    ):
        at = shipped[(a["repo_full_name"], a["number"])]
        if at is not None and a["created_at"] <= _second(at) + H:
            weight[(a["repo_full_name"], a["number"])] += a["weight"]
    return weight


@pytest.fixture(scope="module")
def session_hours(built_org) -> list[dict]:
    """Truth review sessions with minutes recomputed at the API's precision."""
    sessions = built_org.dicts("select * from sim.truth_review_sessions")
    for s in sessions:
        span = (_second(s["ended_at"]) - _second(s["started_at"])).total_seconds() / 60
        s["minutes"] = min(CAP, span + FLOOR)
    return sessions


def test_fct_pull_requests_has_every_pr_with_its_outcome(built_org, truth_prs, defect_weight):
    group = group_of(built_org)  # the reporting groups (docs/metrics.md section 11)
    ours = {
        (r["repo_full_name"], r["pull_request_number"]): r
        for r in built_org.dicts("select * from marts.fct_pull_requests")
    }
    assert len(ours) == len(truth_prs) > 0
    allocated = defaultdict(Decimal)
    for repo, number, usd in built_org.rows(
        "select repo_full_name, number, cost_usd from sim.truth_spend_allocation "
        "where number is not null"
    ):
        allocated[(repo, number)] += usd
    wrong = []
    for t in truth_prs:
        key = (t["repo_full_name"], t["number"])
        o = ours[key]
        expected = {
            "team_id": group(t["team_id"]),
            "is_ai_assisted": t["is_ai_assisted"],
            "outcome": t["outcome"],
            "is_censored": t["censored"],
            "survived": t["survived"],
            "allocated_spend_usd": allocated[key],
        }
        got = {k: o[k] for k in expected}
        if got != expected or abs(o["defect_weight_within_h"] - defect_weight[key]) > TOLERANCE:
            wrong.append((key, got, expected, o["defect_weight_within_h"], defect_weight[key]))
    assert wrong == []
    assert sum(1 for t in truth_prs if t["survived"]) > 0
    assert sum(defect_weight.values()) > 0


def test_delivery_funnel_equals_the_truth(built_org, truth_prs):
    group = group_of(built_org)  # the reporting groups (docs/metrics.md section 11)
    expected = defaultdict(lambda: defaultdict(int))
    for t in truth_prs:
        c = expected[(_week(t["opened_at"]), group(t["team_id"]), t["is_ai_assisted"])]
        c["opened"] += 1
        c["merged"] += t["outcome"] == "merged"
        c["abandoned"] += t["outcome"] == "abandoned"
        c["still_open"] += t["outcome"] == "open"
        c["shipped"] += t["shipped_at"] is not None
        c["shipped_censored"] += bool(t["censored"])
        c["shipped_observed"] += t["survived"] is not None
        c["survived"] += bool(t["survived"])
    rows = built_org.dicts("select * from marts.mart_delivery_funnel")
    columns = ("opened", "merged", "abandoned", "still_open", "shipped")
    columns += ("shipped_censored", "shipped_observed", "survived")
    got = {
        (r["opened_week"], r["team_id"], r["is_ai_assisted"]): {c: r[c] for c in columns}
        for r in rows
    }
    assert got == {k: dict(v) for k, v in expected.items()}
    for r in rows:  # the funnel is monotone and its shares are shares of opened
        assert r["opened"] >= r["merged"] >= r["shipped"] >= r["survived"]
        assert abs(r["survived_share"] - r["survived"] / r["opened"]) < TOLERANCE


def test_review_hours_equal_the_truth(built_org, truth_prs, session_hours):
    group = group_of(built_org)  # the reporting groups (docs/metrics.md section 11)
    hours = defaultdict(float)
    for s in session_hours:
        hours[(s["repo_full_name"], s["number"])] += s["minutes"] / 60
    expected = defaultdict(lambda: [0, 0.0, 0.0, 0.0])
    for t in truth_prs:
        c = expected[(_week(t["opened_at"]), group(t["team_id"]), t["is_ai_assisted"])]
        c[0] += 1
        c[1] += hours[(t["repo_full_name"], t["number"])]
        c[2] += t["human_reviewers"]
        c[3] += t["changes_requested"]
    rows = built_org.rows(
        "select opened_week, team_id, is_ai_assisted, pull_requests, review_hours, "
        "reviewers_per_pr, review_rounds_per_pr from marts.mart_review_hours"
    )
    assert len(rows) == len(expected)
    for week, team, ai, prs, total, reviewers, rounds in rows:
        n, h, r, cr = expected[(week, team, ai)]
        assert prs == n
        assert abs(total - h) < TOLERANCE * max(1, h)
        assert abs(reviewers - r / n) < TOLERANCE and abs(rounds - cr / n) < TOLERANCE


def test_identity_coverage_equals_the_truth(built_org):
    got = {
        (r[0], r[1]): r[2:]
        for r in built_org.rows(
            "select domain, subject, items, resolved_items, usd, resolved_usd "
            "from marts.mart_identity_coverage"
        )
    }
    expected = {}
    # Spend: compared in USD (the truth rounds each of its rows to the micro-dollar).
    for provider, usd, resolved_usd in built_org.rows(
        "select provider, sum(cost_usd), "
        "coalesce(sum(cost_usd) filter (where person_id is not null), 0) "
        "from sim.truth_spend group by provider"
    ):
        ours = got.pop(("spend", provider))
        assert abs(ours[2] - usd) < Decimal("0.001")
        assert abs(ours[3] - resolved_usd) < Decimal("0.001")
        assert 0 < ours[3] < ours[2]
    n, resolved = built_org.rows(
        "select count(*), count(author_person_id) from sim.truth_pull_requests"
    )[0]
    expected[("pull_requests", "github")] = (n, resolved, None, None)
    for system, n, resolved in built_org.rows(
        "select system, count(*), count(resolved_person_id) from sim.truth_identities "
        "group by system"
    ):
        expected[("identities", system)] = (n, resolved, None, None)
    spend_and_ids = {k: v for k, v in got.items() if k[0] != "reviews"}
    assert spend_and_ids == expected
    # Review events: every human event by someone other than the author, resolved by login.
    for event_type, table in (
        ("review", "gh_reviews"),
        ("review_comment", "gh_review_comments"),
        ("issue_comment", "gh_issue_comments"),
    ):
        n, resolved = built_org.rows(
            f"select count(*), count(people.person_id) from sim.{table} as e "
            "join sim.gh_pull_requests as pr "
            "  on pr.repo_full_name = e.repo_full_name and pr.number = e.pr_number "
            "left join sim.seed_people as people "
            "  on lower(people.github_login) = lower(e.user_login) "
            "where e.user_login <> pr.author_login and e.user_login not like '%[bot]' "
            "and not coalesce(people.is_bot, false)"
        )[0]
        assert got[("reviews", event_type)][:2] == (n, resolved)


def test_outcome_board_team_rows_equal_the_truth(
    built_org, truth_prs, defect_weight, session_hours
):
    group = group_of(built_org)  # the reporting groups (docs/metrics.md section 11)
    teams = dict(built_org.rows("select person_id, team from sim.seed_people"))
    logins = dict(built_org.rows("select lower(github_login), person_id from sim.seed_people"))
    expected = defaultdict(lambda: defaultdict(float))
    for t in truth_prs:
        if t["shipped_at"] is None:
            continue
        c = expected[(_month(t["shipped_at"]), group(t["team_id"]))]
        c["shipped_prs"] += 1
        c["surviving_prs"] += bool(t["survived"])
        c["observed_prs"] += t["survived"] is not None
        if t["survived"] is not None:
            c["defect_weight"] += defect_weight[(t["repo_full_name"], t["number"])]
    for s in session_hours:
        person = logins.get(s["reviewer_login"].lower())
        key = (_month(s["started_at"]), group(teams.get(person)))
        expected[key]["review_hours_on_others_prs"] += s["minutes"] / 60
    for day, team, _person, usd in built_org.rows(
        "select day, team_id, person_id, cost_usd from sim.truth_spend where person_id is not null"
    ):
        expected[(_month(day), group(team))]["attributed_spend_usd"] += float(usd)
    rows = built_org.dicts("select * from marts.mart_outcome_board where board_level = 'team'")
    got = {(r["month_start"], r["team_id"]): r for r in rows}
    mismatched = []
    for key, e in expected.items():
        r = got.get(key)
        if r is None:
            mismatched.append((key, "missing"))
            continue
        for column in ("shipped_prs", "surviving_prs", "observed_prs"):
            if r[column] != e[column]:
                mismatched.append((key, column, r[column], e[column]))
        for column in ("review_hours_on_others_prs", "attributed_spend_usd"):
            if abs(float(r[column]) - e[column]) > 1e-6 * max(1.0, e[column]):
                mismatched.append((key, column, r[column], e[column]))
        bugs = e["defect_weight"] / e["observed_prs"] if e["observed_prs"] else None
        if (bugs is None) != (r["bugs_per_shipped_pr"] is None) or (
            bugs is not None and abs(r["bugs_per_shipped_pr"] - bugs) > TOLERANCE
        ):
            mismatched.append((key, "bugs_per_shipped_pr", r["bugs_per_shipped_pr"], bugs))
    assert mismatched == []
    # AWUs on the board are the AWU mart's, summed over the weeks of each month's units.
    board_awus = built_org.scalar(
        "select sum(awus) from marts.mart_outcome_board where board_level = 'team'"
    )
    assert board_awus == built_org.scalar("select sum(awus) from marts.mart_agentic_work_units")
    assert board_awus > 0


def test_outcome_board_has_person_rows_only_for_teams_that_report_as_themselves(built_org):
    sizes = dict(
        built_org.rows(
            "select team, count(*) from sim.seed_people where not is_bot and team is not null "
            "group by team"
        )
    )
    group = group_of(built_org)
    persons = built_org.rows(
        "select distinct team_id, person_id from marts.mart_outcome_board "
        "where board_level = 'person'"
    )
    # Teams that report as themselves: at least five people, not merged into the other teams.
    big = {team for team in sizes if group(team) == team}
    assert all(sizes[team] >= 5 for team in big)
    # tiny's teams are all smaller than five (no person rows at all); demo's are not
    assert bool(big) == (built_org.size == "demo")
    assert {team for team, _ in persons} == big
    columns = {
        c
        for (c,) in built_org.rows(
            "select column_name from information_schema.columns "
            "where table_schema = 'marts' and table_name = 'mart_outcome_board'"
        )
    }
    assert not {c for c in columns if "rank" in c or "token" in c}


def test_ai_assisted_outcomes_equal_the_truth(built_org, truth_prs, defect_weight, session_hours):
    """The whole history's AI-assisted against other PRs, which `make demo` prints."""
    allocated = defaultdict(Decimal)
    for repo, number, usd in built_org.rows(
        "select repo_full_name, number, cost_usd from sim.truth_spend_allocation "
        "where number is not null"
    ):
        allocated[(repo, number)] += usd
    hours = defaultdict(float)
    for s in session_hours:
        hours[(s["repo_full_name"], s["number"])] += s["minutes"] / 60
    rows = {
        r["is_ai_assisted"]: r
        for r in built_org.dicts("select * from marts.mart_ai_assisted_outcomes")
    }
    assert set(rows) == {True, False}
    for ai, row in rows.items():
        mine = [t for t in truth_prs if t["is_ai_assisted"] == ai]
        keys = [(t["repo_full_name"], t["number"]) for t in mine]
        observed = [t for t in mine if t["survived"] is not None]
        survived = sum(bool(t["survived"]) for t in mine)
        spend = sum((allocated[k] for k in keys), Decimal(0))
        weight = sum(defect_weight[(t["repo_full_name"], t["number"])] for t in observed)
        assert (row["opened"], row["shipped"], row["shipped_observed"], row["survived"]) == (
            len(mine),
            sum(t["shipped_at"] is not None for t in mine),
            len(observed),
            survived,
        )
        assert row["allocated_spend_usd"] == spend
        assert abs(row["allocated_cost_per_surviving_pr"] - float(spend) / survived) <= 1e-6
        assert abs(row["bugs_per_shipped_pr"] - weight / len(observed)) < TOLERANCE
        review = sum(hours[k] for k in keys) / len(mine)
        assert abs(row["review_hours_per_pr"] - review) < TOLERANCE * max(1, review)
        assert row["unavailable_reason"] is None


def test_the_board_reads_the_teams_cost_per_surviving_pr(built_org):
    """One formula, one model: a team row's figure is mart_cost_per_outcome's."""
    differing = built_org.rows(
        "select b.month_start, b.team_id, b.cost_per_surviving_pr, c.cost_per_surviving_pr "
        "from marts.mart_outcome_board as b "
        "left join marts.mart_cost_per_outcome as c "
        "  on b.team_id = c.team_id and b.month_start = c.month "
        "where b.board_level = 'team' "
        "  and b.cost_per_surviving_pr is distinct from c.cost_per_surviving_pr"
    )
    assert differing == []
    assert built_org.scalar(
        "select count(*) from marts.mart_outcome_board "
        "where board_level = 'team' and cost_per_surviving_pr > 0"
    )


def test_demo_summary_reads_the_marts(built_org, truth_prs):
    with duckdb.connect(str(built_org.warehouse), read_only=True) as con:
        summary = outcome_summary(con)
        marts = {
            r[0]: r[1:]
            for r in con.execute(
                "select is_ai_assisted, allocated_cost_per_surviving_pr, bugs_per_shipped_pr, "
                "review_hours_per_pr from marts.mart_ai_assisted_outcomes"
            ).fetchall()
        }
    by_ai = {c.is_ai_assisted: c for c in summary.cohorts}
    assert set(by_ai) == {True, False}
    for ai, cohort in by_ai.items():
        mine = [t for t in truth_prs if t["is_ai_assisted"] == ai]
        assert cohort.opened == len(mine)
        assert cohort.shipped == sum(t["shipped_at"] is not None for t in mine)
        assert cohort.survived == sum(bool(t["survived"]) for t in mine)
        # Read from the mart as it is, not recomputed.
        figures = (
            cohort.allocated_cost_per_surviving_pr,
            cohort.bugs_per_shipped_pr,
            cohort.review_hours_per_pr,
        )
        assert figures == tuple(float(v) for v in marts[ai])
    total = built_org.scalar("select sum(cost_usd) from sim.truth_spend_allocation")
    assert abs(Decimal(str(summary.total_spend_usd)) - total) < Decimal("0.01")
    unallocated = built_org.scalar(
        "select sum(cost_usd) from sim.truth_spend_allocation where number is null"
    )
    assert abs(Decimal(str(summary.unallocated_spend_usd)) - unallocated) < Decimal("0.01")
    assert {s["source"] for s in summary.sources if s["is_available"]} == {
        "github",
        "jira",
        "pagerduty",
        "anthropic",
        "openai",
    }
    text = format_summary(summary)
    assert "AI-assisted" in text and "allocated $/surviving PR" in text
    assert f"${by_ai[True].allocated_cost_per_surviving_pr:,.2f}" in text
    assert "top routing opportunity" in text
    assert "not available" not in text


# Each team-grained mart against the whole: (mart, its total, the organisation's total).
SHIPPED = "select count(shipped_at) from marts.fct_pull_requests"
NO_TEAM_TOTALS = [
    ("mart_delivery_funnel", "sum(opened)", "select count(*) from marts.fct_pull_requests"),
    ("mart_review_hours", "sum(pull_requests)", "select count(*) from marts.fct_pull_requests"),
    (
        "mart_bugs_per_shipped_pr",
        "sum(shipped_prs_incl_censored)",
        SHIPPED,
    ),
    ("mart_production_survival", "sum(shipped)", SHIPPED),
    ("mart_cost_per_outcome", "sum(shipped_prs)", SHIPPED),
    (
        "mart_cost_per_outcome",
        "sum(attributed_spend_usd + team_key_spend_usd)",
        "select sum(cost_usd) from intermediate.int_ai_spend__daily",
    ),
    (
        "mart_cost_per_outcome_by_ai",
        "sum(allocated_spend_usd)",
        "select sum(allocated_spend_usd) from marts.fct_pull_requests",
    ),
    (
        "mart_waste_share",
        "sum(total_spend_usd + not_attributed_spend_usd) filter (where scope = 'team')",
        "select sum(cost_usd) from intermediate.int_ai_spend__daily",
    ),
    (
        "mart_routing_opportunity",
        "sum(allocated_spend_usd)",
        "select sum(cost_usd) from intermediate.int_spend_allocation__by_model "
        "where pull_request_id is not null",
    ),
    (
        "mart_agentic_work_units",
        "sum(awus)",
        "select count(*) from intermediate.int_agentic_work_units where awu_status = 'awu'",
    ),
    (
        "mart_agentic_work_units",
        "sum(attributed_spend_usd)",
        "select sum(cost_usd) from intermediate.int_ai_spend__daily where person_id is not null",
    ),
    (
        "mart_outcome_board",
        "sum(shipped_prs) filter (where board_level = 'team')",
        SHIPPED,
    ),
    (
        "mart_outcome_board",
        "sum(review_hours_on_others_prs) filter (where board_level = 'team')",
        "select sum(minutes) / 60 from intermediate.int_review_sessions",
    ),
]


def test_work_and_spend_of_no_team_are_one_group_in_every_mart(built_org):
    """One rule (macros/no_team.sql): every team column holds a team or var no_team_label,
    never null (organisation-wide rows apart), and no mart drops anything, so each one's
    total is the organisation's."""
    team_marts = [
        table
        for (table,) in built_org.rows(
            "select table_name from information_schema.columns "
            "where table_schema = 'marts' and column_name = 'team_id' order by 1"
        )
    ]
    assert len(team_marts) >= 12
    for mart in team_marts:
        if mart.startswith("mart_dora") or mart == "mart_budget_runway":
            continue  # DORA's teams are its repositories' owners; budgets are the seed's
        organisation = "scope = 'organisation'" if mart == "mart_waste_share" else "false"
        nulls = built_org.scalar(
            f"select count(*) from marts.{mart} where team_id is null and not ({organisation})"
        )
        assert nulls == 0, mart
    for mart, total, expected in NO_TEAM_TOTALS:
        got = built_org.scalar(f"select {total} from marts.{mart}")
        want = built_org.scalar(expected)
        assert abs(float(got) - float(want)) <= 1e-6 * max(1.0, abs(float(want))), mart
    # The no-team group is one of the other teams (docs/metrics.md section 11), never shown.
    groups = built_org.scalar(
        f"select count(*) from marts.fct_pull_requests where team_id = '{OTHER}' "
        "and (author_person_id is null or is_bot_author)"
    )
    assert groups > 0  # unresolved authors and bots: the rule is exercised
    for mart in team_marts:
        assert not built_org.scalar(
            f"select count(*) from marts.{mart} where team_id = '{NO_TEAM}'"
        ), mart
    for mart in ("mart_cost_per_outcome", "mart_bugs_per_shipped_pr", "mart_outcome_board"):
        assert built_org.scalar(f"select count(*) from marts.{mart} where team_id = '{OTHER}'"), (
            mart
        )


def test_source_coverage_states_what_each_source_holds_and_feeds(built_org):
    coverage = {r["source"]: r for r in built_org.dicts("select * from marts.mart_source_coverage")}
    assert set(coverage) == {"github", "jira", "pagerduty", "anthropic", "openai"}
    start = built_org.scalar("select cast(value as date) from sim.org_meta where key = 'start'")
    as_of = built_org.scalar("select cast(value as date) from sim.org_meta where key = 'as_of'")
    for source, row in coverage.items():
        tables = built_org.rows(
            "select table_name from information_schema.tables "
            f"where table_schema = 'raw_{source}' and not starts_with(table_name, '_dlt') "
            "and table_name <> 'quarantine'"
        )
        raw_rows = sum(
            built_org.scalar(f"select count(*) from raw_{source}.{table}") for (table,) in tables
        )
        assert row["raw_rows"] == raw_rows > 0, source
        assert row["raw_tables_present"] == len(tables), source
        assert (row["is_configured"], row["is_available"]) == (True, True), source
        # The loads recorded themselves in the load log (ops.source_loads).
        assert (row["availability_basis"], row["last_load_status"]) == ("load_log", "loaded")
        assert row["last_successful_load_at"] == built_org.scalar(
            "select max(finished_at) at time zone 'UTC' from ops.source_loads "
            f"where source = '{source}' and status = 'loaded'"
        )
        assert start - timedelta(days=31) <= row["first_record_date"] <= row["last_record_date"]
        assert row["last_record_date"] < as_of
        assert row["status"].startswith("Loaded: "), row["status"]
    fed = {s: set(r["feeds_marts"].split(", ")) for s, r in coverage.items()}
    # From the dbt graph: review hours rest on GitHub alone, budgets on the billing sources.
    assert {s for s, marts in fed.items() if "mart_review_hours" in marts} == {"github"}
    assert {s for s, marts in fed.items() if "mart_budget_runway" in marts} == {
        "anthropic",
        "openai",
    }
    assert all("mart_source_coverage" not in marts for marts in fed.values())
    assert all(r["marts_fed"] == len(fed[s]) for s, r in coverage.items())
