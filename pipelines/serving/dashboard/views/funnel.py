"""The delivery funnel: PRs opened, merged, shipped and survived, AI-assisted against other PRs
(mart_delivery_funnel, by the week the PR was opened)."""

from __future__ import annotations

import altair as alt
import pandas as pd
import streamlit as st

from pipelines.serving.dashboard import queries
from pipelines.serving.dashboard.publication import Render
from pipelines.serving.dashboard.widgets import cohort_label, metric_heading, nothing_to_show, table

STAGES = ["opened", "merged", "shipped", "survived"]


def render(r: Render) -> None:
    st.title("The delivery funnel")
    metric_heading(
        "Opened, merged, shipped, survived",
        "delivery funnel (survived share)",
        "3-a-pull-requests-life",
        "mart_delivery_funnel",
    )
    st.caption(
        f"PRs opened in the weeks of {r.filters.describe()}. Survived counts the shipped PRs "
        "observed for the whole survival horizon that were neither reverted nor rolled back; "
        "PRs shipped too recently to judge are not yet in it."
    )
    funnel = r.frame(queries.FUNNEL)
    if funnel.empty:
        nothing_to_show("mart_delivery_funnel", r.filters.describe())
        return
    stages = funnel.melt(id_vars=["is_ai_assisted"], value_vars=STAGES, var_name="stage")
    stages["PRs"] = stages["is_ai_assisted"].map(cohort_label)
    chart = (
        alt.Chart(stages)
        .mark_bar()
        .encode(
            x=alt.X("stage:N", sort=STAGES, title=None),
            xOffset="PRs:N",
            y=alt.Y("value:Q", title="pull requests"),
            color=alt.Color("PRs:N"),
            tooltip=["PRs:N", "stage:N", "value:Q"],
        )
    )
    st.altair_chart(chart, width="stretch")
    shares = pd.DataFrame(
        {
            "PRs": funnel["is_ai_assisted"].map(cohort_label),
            **{stage: funnel[stage].astype(int) for stage in STAGES},
            "shipped, observed": funnel["shipped_observed"].astype(int),
        }
    )
    table(shares, "delivery_funnel_totals")
    st.subheader("Week by week")
    table(r.frame(queries.FUNNEL_WEEKS), "mart_delivery_funnel")
