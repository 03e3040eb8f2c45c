"""LLM spend models against the simulator's ground truth (docs/metrics.md sections 2, 6 and 9).

The warehouse is the organisation loaded through the real loaders and built by dbt (`built_org`);
the store's truth tables (`sim.truth_*`) are an independent Python implementation of the same
rules (simulator/org_simulator/truth.py). Money is compared exactly where both sides round the same
sums the same way, and within a stated tolerance where they do not.
"""

from __future__ import annotations

import math
from collections import Counter, defaultdict
from datetime import date, datetime, timedelta
from decimal import Decimal

from tests.transform.reporting_groups import OTHER, group_of

MICRO = Decimal("0.000001")


def _as_of(built_org) -> date:
    return datetime.fromisoformat(built_org.settings.as_of.replace("Z", "")).date()


def _month(day) -> date:
    return date(day.year, day.month, 1)


# --- int_ai_spend__daily -------------------------------------------------------------------------


def test_daily_spend_equals_truth_spend(built_org):
    """Same rows, same attribution, same cost to the micro-dollar.

    The truth is computed team by team, so spend with no person and no team can appear in
    several truth rows of one key (one per simulated team); those are summed here, and each of
    their rounded parts may differ from the rounded whole by half a micro-dollar.
    """
    truth = {
        r[:6]: (r[6], r[7])
        for r in built_org.rows(
            "select day, provider, model, person_id, team_id, attributed_by, sum(cost_usd), "
            "count(*) from sim.truth_spend group by all"
        )
    }
    mine = {
        r[:6]: r[6]
        for r in built_org.rows(
            "select day, provider, model, person_id, team_id, attributed_by, cost_usd "
            "from intermediate.int_ai_spend__daily"
        )
    }
    assert len(truth) > 100
    assert set(mine) == set(truth)
    differing = {
        key: (usd, truth[key])
        for key, usd in mine.items()
        if abs(usd - truth[key][0]) > (0 if truth[key][1] == 1 else MICRO * truth[key][1])
    }
    assert differing == {}
    by = {key[5] for key in mine}
    assert by == {"api_key", "api_key_team", "user_email", "unattributed"}


# --- int_ai_spend__reconciliation ----------------------------------------------------------------

RAW_BILLED = """
    with anthropic as (
        select *, row_number() over (partition by row_key order by _dlt_load_id desc) as n
        from raw_anthropic.cost_report
    ), openai as (
        select *, row_number() over (partition by row_key order by _dlt_load_id desc) as n
        from raw_openai.costs
    )
    select 'anthropic', cast(timezone('UTC', bucket_start) as date), sum(amount_usd)
    from anthropic where n = 1 group by all
    union all
    select 'openai', cast(timezone('UTC', bucket_start) as date), sum(amount_usd)
    from openai where n = 1 group by all
"""


def test_reconciliation_holds_per_provider_and_day_against_raw_cost_reports(built_org):
    billed = {(p, d): usd for p, d, usd in built_org.rows(RAW_BILLED)}
    rows = built_org.rows(
        "select provider, day, billed_usd, attributed_usd, unattributed_usd "
        "from intermediate.int_ai_spend__reconciliation"
    )
    recon = {(p, d): (b, a, u) for p, d, b, a, u in rows}
    assert len(recon) == len(rows)
    assert {p for p, _ in billed} == {"anthropic", "openai"}
    assert set(recon) == set(billed)
    assert {k: v[0] for k, v in recon.items()} == billed
    breaks = {k: (a + u - b) for k, (b, a, u) in recon.items() if abs(a + u - b) > Decimal("0.01")}
    assert breaks == {}
    # And the priced side is the truth's spend, provider by provider and day by day.
    truth = {
        (p, d): (usd, n)
        for p, d, usd, n in built_org.rows(
            "select provider, day, sum(cost_usd), count(*) from sim.truth_spend group by all"
        )
    }
    assert set(truth) == set(recon)
    assert all(abs(a + u - truth[k][0]) <= MICRO * truth[k][1] for k, (_, a, u) in recon.items())


# --- int_spend_allocation ------------------------------------------------------------------------


def test_spend_allocation_equals_truth_spend_allocation(built_org):
    truth = Counter(
        built_org.rows(
            "select day, person_id, repo_full_name, number, cost_usd "
            "from sim.truth_spend_allocation"
        )
    )
    mine = Counter(
        built_org.rows(
            "select day, person_id, repo_full_name, pull_request_number, cost_usd "
            "from intermediate.int_spend_allocation"
        )
    )
    assert sum(truth.values()) > 100
    assert any(r[2] is None for r in truth) and any(r[2] is not None for r in truth)
    assert mine - truth == Counter()
    assert truth - mine == Counter()


def test_allocated_plus_unallocated_equals_attributed_spend(built_org):
    attributed, allocated = built_org.rows(
        "select (select sum(attributed_usd) from intermediate.int_ai_spend__reconciliation), "
        "(select sum(cost_usd) from intermediate.int_spend_allocation)"
    )[0]
    person_days = built_org.scalar(
        "select count(*) from (select distinct person_id, day from intermediate.int_ai_spend "
        "where person_id is not null)"
    )
    # One rounding to the micro-dollar per person-day, no more.
    assert abs(attributed - allocated) <= MICRO / 2 * person_days


# --- marts ---------------------------------------------------------------------------------------


def test_cost_per_outcome_equals_truth_recomputed(built_org):
    """Every team's, and the no-team group's (people with no team, and spend attributed to no
    one), in their reporting groups (docs/metrics.md section 11): nothing is left out, so the
    mart's totals are the organisation's."""
    group = group_of(built_org)
    spend = defaultdict(lambda: [Decimal(0), Decimal(0)])
    for day, person, team, usd in built_org.rows(
        "select day, person_id, team_id, cost_usd from sim.truth_spend"
    ):
        spend[(group(team), _month(day))][0 if person else 1] += usd
    shipped = defaultdict(lambda: [0, 0, 0])
    for team, shipped_at, censored, survived in built_org.rows(
        "select team_id, shipped_at, censored, survived from sim.truth_pull_requests "
        "where shipped_at is not null"
    ):
        counts = shipped[(group(team), _month(shipped_at))]
        counts[0] += 1
        counts[1] += 0 if censored else 1
        counts[2] += 1 if survived else 0
    expected = {}
    for key in set(spend) | set(shipped):
        attributed, team_keys = spend[key]
        n_shipped, n_evaluated, n_surviving = shipped[key]
        expected[key] = (
            attributed,
            team_keys,
            n_shipped,
            n_evaluated,
            n_surviving,
            float(attributed) / n_shipped if n_shipped else None,
            float(attributed) / n_surviving if n_surviving else None,
        )
    mine = {
        (r[0], r[1]): r[2:]
        for r in built_org.rows(
            "select team_id, month, attributed_spend_usd, team_key_spend_usd, shipped_prs, "
            "survival_evaluated_prs, surviving_prs, cost_per_shipped_pr, cost_per_surviving_pr "
            "from marts.mart_cost_per_outcome"
        )
    }
    assert len(expected) >= 3  # tiny: one group (its teams are all small) x three months
    assert set(mine) == set(expected)
    assert any(team == OTHER for team, _ in mine)
    for key, row in mine.items():
        want = expected[key]
        assert row[0] == want[0], key
        # The truth splits spend attributed to no one per simulated team and rounds each part.
        assert abs(row[1] - want[1]) <= (0 if key[0] != OTHER else MICRO * 100), key
        assert row[2:5] == want[2:5], key
        for got, ratio in zip(row[5:], want[5:], strict=True):
            assert (got is None) == (ratio is None), key
            if ratio is not None:
                assert abs(got - ratio) <= 1e-6, key


def test_waste_share_of_the_organisation_equals_truth_recomputed(built_org):
    pr_class = {}
    for repo, number, outcome, shipped_at, reverted_at in built_org.rows(
        "select repo_full_name, number, outcome, shipped_at, reverted_at "
        "from sim.truth_pull_requests"
    ):
        if outcome == "abandoned":
            pr_class[(repo, number)] = "abandoned"
        elif outcome == "open":
            pr_class[(repo, number)] = "in_progress"
        elif shipped_at is None:
            pr_class[(repo, number)] = "never_shipped"
        elif reverted_at is not None:
            pr_class[(repo, number)] = "reverted"
        else:
            pr_class[(repo, number)] = "productive"
    months = defaultdict(lambda: defaultdict(Decimal))
    for day, repo, number, usd in built_org.rows(
        "select day, repo_full_name, number, cost_usd from sim.truth_spend_allocation"
    ):
        months[_month(day)][pr_class[(repo, number)] if repo else "unallocated"] += usd
    mine = {
        r[0]: r[1:]
        for r in built_org.rows(
            "select month, abandoned_spend_usd, never_shipped_spend_usd, reverted_spend_usd, "
            "unallocated_spend_usd, in_progress_spend_usd, productive_spend_usd, "
            "total_spend_usd, waste_share from marts.mart_waste_share where scope = 'organisation'"
        )
    }
    assert set(mine) == set(months)
    classes = ("abandoned", "never_shipped", "reverted", "unallocated", "in_progress", "productive")
    for month, parts in months.items():
        row = mine[month]
        assert tuple(row[:6]) == tuple(parts[c] for c in classes), month
        total = sum(parts.values())
        assert row[6] == total
        waste = sum(parts[c] for c in classes[:4])
        assert abs(row[7] - float(waste / total)) <= 1e-6


def test_budget_runway_equals_recomputation_from_truth_and_seed(built_org):
    as_of = _as_of(built_org)
    last_day = as_of - timedelta(days=1)
    daily = defaultdict(Decimal)  # (team or None, day) -> usd
    for team, day, usd in built_org.rows(
        "select team_id, day, sum(cost_usd) from sim.truth_spend group by all"
    ):
        daily[(team, day)] += usd
    budgets = built_org.rows(
        "select scope, team, period_start, period_end, usd from sim.seed_ai_budgets"
    )
    mine = {
        (r[0], r[1], r[2]): r[3:]
        for r in built_org.rows(
            "select scope, team_id, period_start, spend_to_date_usd, "
            "trailing_28d_daily_run_rate, remaining_usd, days_left_in_period, "
            "projected_exhaustion_date, will_exhaust_before_period_end "
            "from marts.mart_budget_runway"
        )
    }
    # A team's budget is shown only for a team that reports as itself (docs/metrics.md 11).
    group = group_of(built_org)
    shown = [b for b in budgets if b[0] == "org" or group(b[1]) == b[1]]
    assert len(budgets) > 0 and len(mine) == len(shown)
    for scope, team, start, end, usd in shown:

        def in_scope(key, scope=scope, team=team):
            return scope == "org" or key[0] == team

        days = {
            d: v
            for (t, d), v in daily.items()
            if in_scope((t, d)) and start <= d <= min(end, last_day)
        }
        spent = sum(days.values(), Decimal(0))
        trailing = sum(
            (
                v
                for (t, d), v in daily.items()
                if in_scope((t, d)) and as_of - timedelta(28) <= d < as_of
            ),
            Decimal(0),
        )
        rate = float(trailing) / 28
        remaining = usd - spent
        begin = max(as_of, start)
        days_left = 0 if begin > end else (end - begin).days + 1
        if remaining <= 0:
            running, exhausted = Decimal(0), None
            for d in sorted(days):
                running += days[d]
                if running >= usd:
                    exhausted = d
                    break
        elif begin > end or rate <= 0:
            exhausted = None
        else:
            exhausted = begin + timedelta(days=math.ceil(float(remaining) / rate) - 1)
            exhausted = exhausted if exhausted <= end else None
        got = mine[(scope, team, start)]
        tolerance = Decimal("0.0001")  # the truth rounds each of its rows, dbt each day's sum
        assert abs(got[0] - spent) <= tolerance, (scope, team, start)
        assert abs(got[1] - rate) <= 1e-5, (scope, team, start)
        assert abs(got[2] - remaining) <= tolerance, (scope, team, start)
        assert got[3:] == (days_left, exhausted, exhausted is not None), (scope, team, start)


def test_spend_vs_output_shows_only_people_of_teams_that_report_as_themselves(built_org):
    group = group_of(built_org)
    teams = dict(built_org.rows("select person_id, team from sim.seed_people"))
    shown = built_org.rows("select distinct person_id, team_id from marts.mart_spend_vs_output")
    assert all(team == teams[person] == group(team) for person, team in shown)
    everyone = {p for p, t in teams.items() if t and group(t) == t}
    assert {p for p, _ in shown} == everyone
    assert all(
        n >= 5 for (n,) in built_org.rows("select people from marts.mart_spend_vs_output_quintiles")
    )
    columns = {
        name
        for (name,) in built_org.rows(
            "select column_name from information_schema.columns "
            "where table_schema = 'marts' and table_name = 'mart_spend_vs_output'"
        )
    }
    assert not any("rank" in c for c in columns)
    spread = built_org.rows(
        "select quarter, max(n) - min(n) from (select quarter, spend_quintile, count(*) as n "
        "from marts.mart_spend_vs_output group by all) group by quarter"
    )
    assert all(d <= 1 for _, d in spread)
