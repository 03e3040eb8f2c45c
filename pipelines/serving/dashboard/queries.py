"""Every SQL statement the dashboard runs, in one place, each named and tied to its page.

The dashboard reads the publication only: the `marts` schema as dbt built it and the
`publication` schema the publish step writes (docs/serving.md). Figures are read as the marts
hold them. Where a page shows a coarser grain than a mart's (all teams of a month, the weeks
of a period), ratios are the mart's own definition at that grain, a sum over a sum (cost per
surviving PR = spend / surviving PRs, docs/metrics.md section 6), never an average of ratios.

Filters are bound parameters: `$team` (a team_id, or null for every team shown), `$ai` (true,
false, or null for every PR), `$start` and `$end` (the first days of the period's first and
last months). A query takes only the parameters its text names (`parameters`).
`page_marts(page)` lists the marts a page reads, which the dbt exposures must match
(dbt_project/models/marts/_exposures.yml; tests/dashboard/test_exposures.py).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

# Filter clauses on the marts' own columns. Casts give a null parameter its type.
TEAM = "(cast($team as varchar) is null or team_id = cast($team as varchar))"
AI = "(cast($ai as boolean) is null or is_ai_assisted = cast($ai as boolean))"


def _months(column: str) -> str:
    """A period filter on a date column: the months from $start through $end."""
    return f"(date_trunc('month', {column}) between cast($start as date) and cast($end as date))"


@dataclass(frozen=True)
class Query:
    page: str  # the page (url path) that runs it
    sql: str

    def parameters(self, given: dict[str, Any]) -> dict[str, Any]:
        """The filter values this query names (DuckDB refuses unused named parameters)."""
        named = set(re.findall(r"\$(\w+)", self.sql))
        return {name: value for name, value in given.items() if name in named}

    @property
    def relations(self) -> set[str]:
        return set(re.findall(r"\bmarts\.(\w+)", self.sql))


# --- what the filters offer -----------------------------------------------------------------

FILTER_TEAMS = Query(
    "*",
    """
    select distinct team_id from (
        select team_id from marts.mart_delivery_funnel
        union all select team_id from marts.mart_cost_per_outcome
    ) where team_id is not null order by team_id
    """,
)
FILTER_MONTHS = Query(
    "*",
    """
    select distinct month from (
        select date_trunc('month', opened_week) as month from marts.mart_delivery_funnel
        union all select month from marts.mart_cost_per_outcome
    ) where month is not null order by month
    """,
)

# --- 1. what the tokens turned into ---------------------------------------------------------

# One row per month of the period (the team and AI filters applied): spend, shipped and
# surviving PRs, cost per surviving PR, bugs per shipped PR and review hours per PR. Spend is
# the attributed spend (mart_cost_per_outcome) for every PR; for one side of the AI split it is
# the spend allocated to that side's PRs (mart_cost_per_outcome_by_ai): attributed spend has no
# AI grain.
MONTHLY_OUTCOMES = Query(
    "outcomes",
    f"""
    with attributed as (
        select month, sum(attributed_spend_usd) as spend_usd, sum(surviving_prs) as surviving_prs,
            min(unavailable_reason) as unavailable_reason
        from marts.mart_cost_per_outcome
        where {TEAM} and {_months("month")}
        group by month
    ),
    allocated as (
        select month, sum(allocated_spend_usd) as spend_usd, sum(shipped_prs) as shipped_prs,
            sum(surviving_prs) as surviving_prs, min(unavailable_reason) as unavailable_reason
        from marts.mart_cost_per_outcome_by_ai
        where {TEAM} and {AI} and {_months("month")}
        group by month
    ),
    bugs as (
        select shipped_month as month, sum(defect_weight) as defect_weight,
            sum(shipped_prs) as shipped_prs, min(unavailable_reason) as unavailable_reason
        from marts.mart_bugs_per_shipped_pr
        where {TEAM} and {AI} and {_months("shipped_month")}
        group by shipped_month
    ),
    review as (
        select date_trunc('month', opened_week) as month, sum(review_hours) as review_hours,
            sum(pull_requests) as pull_requests
        from marts.mart_review_hours
        where {TEAM} and {AI} and {_months("opened_week")}
        group by 1
    ),
    months as (
        select month from attributed union select month from allocated
        union select month from bugs union select month from review
    )
    select
        months.month,
        case when cast($ai as boolean) is null then attributed.spend_usd
            else allocated.spend_usd end as spend_usd,
        allocated.shipped_prs,
        allocated.surviving_prs,
        case when cast($ai as boolean) is null
            then attributed.spend_usd / nullif(attributed.surviving_prs, 0)
            else allocated.spend_usd / nullif(allocated.surviving_prs, 0)
        end as cost_per_surviving_pr,
        bugs.defect_weight / nullif(bugs.shipped_prs, 0) as bugs_per_shipped_pr,
        review.review_hours / nullif(review.pull_requests, 0) as review_hours_per_pr,
        coalesce(attributed.unavailable_reason, allocated.unavailable_reason,
            bugs.unavailable_reason) as unavailable_reason
    from months
    left join attributed on months.month = attributed.month
    left join allocated on months.month = allocated.month
    left join bugs on months.month = bugs.month
    left join review on months.month = review.month
    order by months.month
    """,
)

# The same figures by month for AI-assisted and other PRs side by side (spend allocated to PRs).
MONTHLY_BY_AI = Query(
    "outcomes",
    f"""
    with allocated as (
        select month, is_ai_assisted, sum(allocated_spend_usd) as spend_usd,
            sum(shipped_prs) as shipped_prs, sum(surviving_prs) as surviving_prs
        from marts.mart_cost_per_outcome_by_ai
        where {TEAM} and {_months("month")}
        group by month, is_ai_assisted
    ),
    bugs as (
        select shipped_month as month, is_ai_assisted,
            sum(defect_weight) / nullif(sum(shipped_prs), 0) as bugs_per_shipped_pr
        from marts.mart_bugs_per_shipped_pr
        where {TEAM} and {_months("shipped_month")}
        group by shipped_month, is_ai_assisted
    ),
    review as (
        select date_trunc('month', opened_week) as month, is_ai_assisted,
            sum(review_hours) / nullif(sum(pull_requests), 0) as review_hours_per_pr
        from marts.mart_review_hours
        where {TEAM} and {_months("opened_week")}
        group by 1, 2
    )
    select
        allocated.month, allocated.is_ai_assisted, allocated.spend_usd,
        allocated.shipped_prs, allocated.surviving_prs,
        allocated.spend_usd / nullif(allocated.surviving_prs, 0) as cost_per_surviving_pr,
        bugs.bugs_per_shipped_pr, review.review_hours_per_pr
    from allocated
    left join bugs using (month, is_ai_assisted)
    left join review using (month, is_ai_assisted)
    order by allocated.month, allocated.is_ai_assisted desc
    """,
)

# The organisation's whole history, AI-assisted against other PRs, as the mart holds it.
AI_ASSISTED_OUTCOMES = Query(
    "outcomes",
    "select * from marts.mart_ai_assisted_outcomes order by is_ai_assisted desc",
)

# --- 2. the delivery funnel -----------------------------------------------------------------

FUNNEL = Query(
    "funnel",
    f"""
    select is_ai_assisted, sum(opened) as opened, sum(merged) as merged,
        sum(shipped) as shipped, sum(shipped_observed) as shipped_observed,
        sum(survived) as survived
    from marts.mart_delivery_funnel
    where {TEAM} and {AI} and {_months("opened_week")}
    group by is_ai_assisted
    order by is_ai_assisted desc
    """,
)
FUNNEL_WEEKS = Query(
    "funnel",
    f"""
    select * from marts.mart_delivery_funnel
    where {TEAM} and {AI} and {_months("opened_week")}
    order by opened_week, team_id, is_ai_assisted desc
    """,
)

# --- 3. spend vs output ---------------------------------------------------------------------

QUINTILES = Query(
    "spend-vs-output",
    """
    select * from marts.mart_spend_vs_output_quintiles
    -- A quarter in the period when any of its months is.
    where quarter is null or (quarter <= cast($end as date)
        and quarter + interval 3 month > cast($start as date))
    order by quarter, spend_quintile
    """,
)

# --- 4. production survival -----------------------------------------------------------------

SURVIVAL_CURVE = Query(
    "survival",
    "select * from marts.mart_survival_curve order by cohort, day_since_ship",
)
PRODUCTION_SURVIVAL = Query(
    "survival",
    f"""
    select * from marts.mart_production_survival
    where {TEAM} and {AI} and {_months("shipped_month")}
    order by shipped_month, team_id, is_ai_assisted desc
    """,
)

# --- 5. review load -------------------------------------------------------------------------

REVIEW_WEEKS = Query(
    "review",
    f"""
    select * from marts.mart_review_hours
    where {TEAM} and {AI} and {_months("opened_week")}
    order by opened_week, team_id, is_ai_assisted desc
    """,
)

# --- 6. delivery performance: DORA and the outcome board ------------------------------------

DORA_SUMMARY = Query(
    "teams",
    f"""
    select * from marts.mart_dora_summary
    where grain = 'all' or {TEAM}
    order by grain = 'all' desc, team_id
    """,
)
DORA_WEEKS = Query(
    "teams",
    f"""
    select * from marts.mart_dora
    where {TEAM} and {_months("deployment_week")}
    order by deployment_week, team_id, repo_full_name
    """,
)
OUTCOME_BOARD = Query(
    "teams",
    f"""
    select * from marts.mart_outcome_board
    where {TEAM} and {_months("month_start")}
    order by month_start, board_level, team_id, person_id
    """,
)

# --- 7. spend: budget runway, model mix, routing --------------------------------------------

BUDGET_RUNWAY = Query(
    "spend",
    f"""
    select * from marts.mart_budget_runway
    where team_id is null or {TEAM}
    order by scope, team_id, period_start
    """,
)
MODEL_MIX = Query(
    "spend",
    f"""
    select * from marts.mart_model_mix
    where {_months("month")} or month is null
    order by month, spend_usd desc
    """,
)
ROUTING = Query(
    "spend",
    f"""
    select * from marts.mart_routing_opportunity
    where {TEAM} and {_months("month")}
    order by routable_spend_usd desc, team_id, month
    """,
)

# --- 8. what the numbers rest on ------------------------------------------------------------

ABOUT = Query("coverage", "select * from publication.about")
FRESHNESS = Query("coverage", "select * from publication.source_freshness order by source")
QUALITY_CHECKS = Query(
    "coverage",
    """
    select * from publication.quality_checks
    order by passed, blocking desc, asset_key, check_name
    """,
)
SOURCE_COVERAGE = Query("coverage", "select * from marts.mart_source_coverage order by source")
IDENTITY_COVERAGE = Query(
    "coverage", "select * from marts.mart_identity_coverage order by domain, subject"
)

QUERIES: dict[str, Query] = {
    name: value for name, value in dict(globals()).items() if isinstance(value, Query)
}


def page_marts(page: str) -> set[str]:
    """The marts a page reads (its own queries and the filters every page shows)."""
    return {
        relation
        for query in QUERIES.values()
        if query.page in (page, "*")
        for relation in query.relations
    }
