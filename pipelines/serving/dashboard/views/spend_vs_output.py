"""Spend against output: people in quintiles of their quarter's LLM spend, what each quintile
shipped and kept in production, and the marginal cost of one more surviving PR
(mart_spend_vs_output_quintiles)."""

from __future__ import annotations

import altair as alt
import streamlit as st

from pipelines.serving.dashboard import queries
from pipelines.serving.dashboard.publication import Render
from pipelines.serving.dashboard.widgets import (
    metric_heading,
    nothing_to_show,
    reasons,
    table,
    unavailable,
)


def render(r: Render) -> None:
    st.title("Spend against output")
    metric_heading(
        "Surviving PRs per person by spend quintile",
        "marginal cost of one more surviving PR",
        "6-what-the-output-cost",
        "mart_spend_vs_output_quintiles",
    )
    st.caption(
        f"Quarters of {r.filters.describe(team=False, ai=False)}; people, not teams, are "
        "ranked, so the team and AI-assisted filters do not apply. Quintile 5 spent most."
    )
    quintiles = r.frame(queries.QUINTILES)
    shown = quintiles.dropna(subset=["spend_quintile"])
    if shown.empty:
        nothing_to_show("mart_spend_vs_output_quintiles", "this period", reasons(quintiles))
        return
    shown = shown.assign(quarter_label=shown["quarter"].dt.strftime("%Y-%m"))
    base = alt.Chart(shown).encode(
        x=alt.X("spend_quintile:O", title="spend quintile (5 = most spend)"),
        xOffset="quarter_label:N",
        color=alt.Color("quarter_label:N", title="quarter from"),
    )
    left, right = st.columns(2)
    with left:
        st.markdown("**Surviving PRs per person**")
        st.altair_chart(
            base.mark_bar().encode(
                y=alt.Y("surviving_per_person:Q", title="surviving PRs per person"),
                tooltip=["quarter_label:N", "spend_quintile:O", "surviving_per_person:Q"],
            ),
            width="stretch",
        )
    with right:
        st.markdown("**Marginal cost of one more surviving PR (USD)**")
        st.altair_chart(
            base.mark_bar().encode(
                y=alt.Y("marginal_cost_per_surviving_pr:Q", title="USD"),
                tooltip=["quarter_label:N", "spend_quintile:O", "marginal_cost_per_surviving_pr:Q"],
            ),
            width="stretch",
        )
    st.caption(
        "The marginal cost compares each quintile with the one below it: the extra spend per "
        "person over the extra surviving PRs per person. It is empty for the lowest quintile, "
        "where the quintile below is too small to show, and where surviving PRs per person "
        "did not rise."
    )
    unavailable(quintiles)
    table(quintiles, "mart_spend_vs_output_quintiles")
