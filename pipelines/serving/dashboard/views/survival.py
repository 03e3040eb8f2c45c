"""Production survival: the Kaplan-Meier curves of shipped PRs, AI-assisted against other PRs
(mart_survival_curve), and the survival rate within the horizon by month shipped
(mart_production_survival)."""

from __future__ import annotations

import altair as alt
import streamlit as st

from pipelines.serving.dashboard import queries
from pipelines.serving.dashboard.publication import Render
from pipelines.serving.dashboard.widgets import metric_heading, nothing_to_show, table, unavailable

COHORTS = {"ai_assisted": "AI-assisted", "not_ai_assisted": "not AI-assisted", "all": "all PRs"}


def render(r: Render) -> None:
    st.title("Production survival")
    metric_heading(
        "Share of shipped PRs still in production, by days since shipping",
        "survival curve (Kaplan-Meier)",
        "3-a-pull-requests-life",
        "mart_survival_curve",
    )
    st.caption(
        "Every shipped PR of the organisation: the curve has no team or period grain. A PR "
        "leaves the curve when it is reverted or rolled back; one not yet watched that long is "
        "censored (it counts while at risk)."
    )
    curve = r.frame(queries.SURVIVAL_CURVE)
    if curve.empty:
        nothing_to_show("mart_survival_curve")
    else:
        curve = curve.assign(PRs=curve["cohort"].map(COHORTS).fillna(curve["cohort"]))
        chart = (
            alt.Chart(curve)
            .mark_line(interpolate="step-after")
            .encode(
                x=alt.X("day_since_ship:Q", title="days since shipped"),
                y=alt.Y(
                    "survival_probability:Q",
                    title="survival probability",
                    scale=alt.Scale(zero=False),
                ),
                color=alt.Color("PRs:N"),
                tooltip=[
                    "PRs:N",
                    "day_since_ship:Q",
                    "at_risk:Q",
                    "events:Q",
                    alt.Tooltip("survival_probability:Q", format=".3f"),
                ],
            )
        )
        st.altair_chart(chart, width="stretch")
        table(curve.drop(columns=["PRs"]), "mart_survival_curve")

    metric_heading(
        "Survival rate within the horizon, by month shipped",
        "production survival rate",
        "3-a-pull-requests-life",
        "mart_production_survival",
    )
    st.caption(f"PRs shipped in {r.filters.describe()}.")
    rates = r.frame(queries.PRODUCTION_SURVIVAL)
    if rates.empty:
        nothing_to_show("mart_production_survival", r.filters.describe())
        return
    unavailable(rates)
    table(rates, "mart_production_survival")
