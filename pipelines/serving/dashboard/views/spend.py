"""Spend: budget runway (mart_budget_runway), the model mix by month (mart_model_mix) and the
spend that could move to a cheaper model (mart_routing_opportunity)."""

from __future__ import annotations

import altair as alt
import streamlit as st

from pipelines.serving.dashboard import queries
from pipelines.serving.dashboard.publication import Render
from pipelines.serving.dashboard.widgets import (
    metric_heading,
    money,
    nothing_to_show,
    reasons,
    table,
    unavailable,
)

COST = "6-what-the-output-cost"


def render(r: Render) -> None:
    st.title("Spend: budgets, models and routing")
    _runway(r)
    _model_mix(r)
    _routing(r)


def _runway(r: Render) -> None:
    metric_heading("Budget runway", "budget runway", "9-budget-and-runway", "mart_budget_runway")
    runway = r.frame(queries.BUDGET_RUNWAY)
    if runway.empty:
        nothing_to_show(
            "mart_budget_runway",
            r.filters.describe(period=False, ai=False),
            reasons(runway) or ["no budget is set in the budgets seed for these teams"],
        )
        return
    exhausting = runway[runway["will_exhaust_before_period_end"].fillna(False).astype(bool)]
    for _, row in exhausting.iterrows():
        st.warning(
            f"Budget {row['budget_id']} ({row['team_id'] or row['scope']}) is projected to run "
            f"out on {row['projected_exhaustion_date']}, before its period ends on "
            f"{row['period_end']}."
        )
    unavailable(runway)
    table(runway, "mart_budget_runway")


def _model_mix(r: Render) -> None:
    metric_heading("Model mix", "model mix", COST, "mart_model_mix")
    st.caption(
        f"Months of {r.filters.describe(team=False, ai=False)}; the mix is the organisation's."
    )
    mix = r.frame(queries.MODEL_MIX)
    shown = mix.dropna(subset=["month", "spend_usd"])
    if shown.empty:
        nothing_to_show("mart_model_mix", "this period", reasons(mix))
        return
    chart = (
        alt.Chart(shown)
        .mark_bar()
        .encode(
            x=alt.X("yearmonth(month):T", title="month"),
            y=alt.Y("spend_usd:Q", title="spend (USD)"),
            color=alt.Color("model:N"),
            tooltip=[
                "month:T",
                "provider:N",
                "model:N",
                alt.Tooltip("spend_usd:Q", format=",.2f"),
                alt.Tooltip("share_of_month_spend:Q", format=".1%"),
            ],
        )
    )
    st.altair_chart(chart, width="stretch")
    unavailable(mix)
    table(mix, "mart_model_mix")


def _routing(r: Render) -> None:
    metric_heading("Routing opportunities", "routing opportunity", COST, "mart_routing_opportunity")
    st.caption(
        "Spend on the most expensive tier of models for small, lightly reviewed PRs: what a "
        f"cheaper model could have done. {r.filters.describe(ai=False)}."
    )
    routing = r.frame(queries.ROUTING)
    if routing.empty:
        nothing_to_show("mart_routing_opportunity", r.filters.describe(ai=False))
        return
    top = routing.iloc[0]
    st.metric(
        f"Largest: team {top['team_id']}, {top['month']:%Y-%m}",
        money(top["routable_spend_usd"]),
        help=f"{int(top['small_prs'])} small PRs",
    )
    table(routing, "mart_routing_opportunity")
