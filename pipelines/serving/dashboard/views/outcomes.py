"""What the tokens turned into: the period's last month in headline tiles (against the month
before), the trend over the period, AI-assisted against other PRs, and the whole history as
mart_ai_assisted_outcomes holds it."""

from __future__ import annotations

import altair as alt
import pandas as pd
import streamlit as st

from pipelines.serving.dashboard import queries
from pipelines.serving.dashboard.publication import Render
from pipelines.serving.dashboard.widgets import (
    cohort_label,
    count,
    definition_link,
    hours,
    is_missing,
    metric_heading,
    money,
    nothing_to_show,
    ratio,
    share,
    table,
    tile,
    unavailable,
)

COST = "6-what-the-output-cost"
LIFE = "3-a-pull-requests-life"
DEFECTS = "4-defects-and-what-caused-them"
REVIEW = "5-human-review-hours"

# Tile key -> (label, column, format, definition anchor).
TILES = {
    "tile-spend": ("LLM spend", "spend_usd", money, COST),
    "tile-shipped": ("PRs shipped", "shipped_prs", count, LIFE),
    "tile-surviving": ("PRs surviving", "surviving_prs", count, LIFE),
    "tile-cost-per-surviving-pr": ("Cost per surviving PR", "cost_per_surviving_pr", money, COST),
    "tile-bugs-per-shipped-pr": ("Bugs per shipped PR", "bugs_per_shipped_pr", ratio, DEFECTS),
    "tile-review-hours-per-pr": ("Review hours per PR", "review_hours_per_pr", hours, REVIEW),
}
TREND_METRICS = {
    "Cost per surviving PR (USD)": "cost_per_surviving_pr",
    "Bugs per shipped PR": "bugs_per_shipped_pr",
    "Review hours per PR": "review_hours_per_pr",
    "PRs shipped": "shipped_prs",
    "PRs surviving": "surviving_prs",
    "LLM spend allocated to PRs (USD)": "spend_usd",
}


def render(r: Render) -> None:
    st.title("What the tokens turned into")
    f = r.filters
    months = r.frame(queries.MONTHLY_OUTCOMES)
    if months.empty:
        nothing_to_show("mart_cost_per_outcome", f.describe())
    else:
        _tiles(months, f.ai)
        unavailable(months)
        _trend(r)
    _whole_history(r)


def _tiles(months: pd.DataFrame, ai: bool | None) -> None:
    last = months.iloc[-1]
    before = months.iloc[-2] if len(months) > 1 else None
    spend_label = "LLM spend" if ai is None else "LLM spend allocated to these PRs"
    st.markdown(
        f"**{last['month']:%B %Y}**, the period's last month"
        + (f", against {before['month']:%B %Y}" if before is not None else "")
        + ". Spend is the attributed spend of the teams shown; split by AI-assisted it is the "
        f"spend allocated to those PRs ({definition_link(COST, 'section 6')}). Surviving PRs "
        "are those shipped long enough ago to be judged that stayed in production."
    )
    columns = st.columns(3)
    for i, (key, (label, column, fmt, anchor)) in enumerate(TILES.items()):
        value = last[column]
        delta = None
        if before is not None and not is_missing(value) and not is_missing(before[column]):
            delta = f"{fmt(float(value) - float(before[column]))} vs month before"
        if key == "tile-spend":
            label = spend_label
        with columns[i % 3]:
            tile(key, label, fmt(value), delta, help=f"docs/metrics.md#{anchor}")


def _trend(r: Render) -> None:
    by_ai = r.frame(queries.MONTHLY_BY_AI)
    metric_heading(
        "AI-assisted against other PRs, month by month",
        "allocated cost per surviving PR, bugs per shipped PR, review hours per PR",
        COST,
        "mart_cost_per_outcome_by_ai, mart_bugs_per_shipped_pr, mart_review_hours",
    )
    if by_ai.empty:
        nothing_to_show("mart_cost_per_outcome_by_ai", r.filters.describe(ai=False))
        return
    label = st.selectbox("Trend of", list(TREND_METRICS), key="trend_metric")
    column = TREND_METRICS[label]
    data = by_ai.assign(cohort=by_ai["is_ai_assisted"].map(cohort_label))
    chart = (
        alt.Chart(data.dropna(subset=[column]))
        .mark_line(point=True)
        .encode(
            x=alt.X("yearmonth(month):T", title="month"),
            y=alt.Y(f"{column}:Q", title=label),
            color=alt.Color("cohort:N", title="PRs"),
            tooltip=["month:T", "cohort:N", alt.Tooltip(f"{column}:Q", format=",.3f")],
        )
    )
    st.altair_chart(chart, width="stretch")
    table(by_ai, "outcomes_by_month_and_ai")


def _whole_history(r: Render) -> None:
    cohorts = r.frame(queries.AI_ASSISTED_OUTCOMES)
    metric_heading(
        "The whole history: AI-assisted against other PRs",
        "AI-assisted vs other outcomes",
        COST,
        "mart_ai_assisted_outcomes",
    )
    st.caption("Every team and month the warehouse holds: the sidebar's filters do not apply.")
    if cohorts.empty:
        nothing_to_show("mart_ai_assisted_outcomes")
        return
    shown = pd.DataFrame(
        {
            "PRs": cohorts["is_ai_assisted"].map(cohort_label),
            "opened": cohorts["opened"].map(count),
            "merged": cohorts["merged"].map(count),
            "shipped": cohorts["shipped"].map(count),
            "survived": cohorts["survived"].map(count),
            "survived / opened": cohorts["survived_share"].map(share),
            "allocated $ / surviving PR": cohorts["allocated_cost_per_surviving_pr"].map(money),
            "bugs / shipped PR": cohorts["bugs_per_shipped_pr"].map(ratio),
            "review h / PR": cohorts["review_hours_per_pr"].map(lambda v: ratio(v, 2)),
        }
    )
    st.dataframe(shown, hide_index=True, width="stretch")
    unavailable(cohorts)
    table(cohorts, "mart_ai_assisted_outcomes", show=False)
