"""Delivery performance by team: DORA's keys and the deployment rework rate with their tiers
(mart_dora_summary, mart_dora), and the outcome board (mart_outcome_board), which holds only
groups of at least `min_group_size` people: the dashboard shows its rows as they are."""

from __future__ import annotations

import altair as alt
import streamlit as st

from pipelines.serving.dashboard import queries
from pipelines.serving.dashboard.publication import Render
from pipelines.serving.dashboard.widgets import (
    metric_heading,
    nothing_to_show,
    table,
    unavailable,
)

DORA = "8-dora"
TIERS = [
    ("deployments_per_week", "deployment_frequency_tier", "deployments per week"),
    ("lead_time_median_hours", "lead_time_tier", "lead time, median hours"),
    ("change_failure_rate", "change_failure_rate_tier", "change failure rate"),
    ("recovery_time_median_hours", "recovery_time_tier", "recovery time, median hours"),
    ("deployment_rework_rate", "deployment_rework_rate_tier", "deployment rework rate"),
]


def render(r: Render) -> None:
    st.title("Delivery performance by team")
    _dora(r)
    _board(r)


def _dora(r: Render) -> None:
    metric_heading(
        "DORA's keys and the rework rate, with their tiers",
        "DORA tiers per team",
        DORA,
        "mart_dora_summary",
    )
    st.caption(
        "The whole period the warehouse holds (the mart's own period); the row `all` is the "
        "organisation. Tiers follow the thresholds seed (elite, high, medium, low)."
    )
    summary = r.frame(queries.DORA_SUMMARY)
    if summary.empty:
        nothing_to_show("mart_dora_summary", r.filters.describe(period=False, ai=False))
    else:
        summary = summary.assign(team=summary["team_id"].fillna("all teams"))
        keys = st.columns(len(TIERS))
        org = summary.iloc[0]
        for column, (figure, tier, label) in zip(keys, TIERS, strict=True):
            value = org[figure]
            shown = "n/a" if value != value or value is None else f"{value:,.3g}"
            column.metric(label, shown, delta=org[tier], delta_color="off")
        st.caption(f"Figures of `{org['team']}`; the tier under each figure.")
        unavailable(summary)
        table(summary.drop(columns=["team"]), "mart_dora_summary")

    metric_heading("Deployments per day, week by week", "deployment frequency", DORA, "mart_dora")
    weeks = r.frame(queries.DORA_WEEKS)
    if weeks.empty:
        nothing_to_show("mart_dora", r.filters.describe(ai=False))
        return
    chart = (
        alt.Chart(weeks)
        .mark_line(point=True)
        .encode(
            x=alt.X("deployment_week:T", title="week"),
            y=alt.Y("deployments_per_day:Q", title="deployments per day"),
            color=alt.Color("repo_full_name:N", title="repository"),
            tooltip=[
                "deployment_week:T",
                "team_id:N",
                "repo_full_name:N",
                "deployments_per_day:Q",
                "deployment_frequency_tier:N",
            ],
        )
    )
    st.altair_chart(chart, width="stretch")
    table(weeks, "mart_dora")


def _board(r: Render) -> None:
    metric_heading("The outcome board", "outcome board", "10-boards", "mart_outcome_board")
    st.caption(
        f"Months of {r.filters.describe(ai=False)}. Only groups of at least `min_group_size` "
        "people are in the mart (see the [privacy rule](metric-reference#"
        "11-privacy-no-group-smaller-than-min_group_size)); smaller ones are never shown."
    )
    board = r.frame(queries.OUTCOME_BOARD)
    if board.empty:
        nothing_to_show("mart_outcome_board", r.filters.describe(ai=False))
        return
    unavailable(board)
    table(board, "mart_outcome_board")
