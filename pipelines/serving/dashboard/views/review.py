"""Review load: human review hours per PR, the wait for a first human review (pickup) and the
time from ready to approval, by team and week, and the team-weeks where PRs waited longest
for a reviewer (mart_review_hours)."""

from __future__ import annotations

import altair as alt
import streamlit as st

from pipelines.serving.dashboard import queries
from pipelines.serving.dashboard.publication import Render
from pipelines.serving.dashboard.widgets import (
    cohort_label,
    metric_heading,
    nothing_to_show,
    table,
)

REVIEW = "5-human-review-hours"
LIFE = "3-a-pull-requests-life"
WAITS = {
    "median_hours_to_first_human_review": "median hours to a first human review (pickup)",
    "median_hours_ready_to_approval": "median hours from ready to approval",
}
BOTTLENECKS_SHOWN = 10


def render(r: Render) -> None:
    st.title("Review load")
    weeks = r.frame(queries.REVIEW_WEEKS)
    if weeks.empty:
        nothing_to_show("mart_review_hours", r.filters.describe())
        return
    weeks = weeks.assign(
        PRs=weeks["is_ai_assisted"].map(cohort_label),
        group=weeks["team_id"] + ", " + weeks["is_ai_assisted"].map(cohort_label),
    )
    metric_heading(
        "Human review hours per PR, week by week",
        "human review hours",
        REVIEW,
        "mart_review_hours",
    )
    st.caption(f"PRs opened in the weeks of {r.filters.describe()}.")
    st.altair_chart(_weekly(weeks, "review_hours_per_pr", "review hours per PR"), width="stretch")

    metric_heading("Waiting for reviewers", "cycle time: pickup", LIFE, "mart_review_hours")
    wait = st.radio("Wait", list(WAITS), format_func=WAITS.get, horizontal=True, key="wait")
    st.altair_chart(_weekly(weeks, wait, WAITS[wait]), width="stretch")
    st.markdown(
        f"**Where reviewers are the bottleneck**: the {BOTTLENECKS_SHOWN} team-weeks whose "
        "PRs waited longest for a first human review."
    )
    slowest = weeks.dropna(subset=["median_hours_to_first_human_review"]).nlargest(
        BOTTLENECKS_SHOWN, "median_hours_to_first_human_review"
    )
    table(
        slowest[
            [
                "opened_week",
                "team_id",
                "PRs",
                "pull_requests",
                "reviewed_pull_requests",
                "median_hours_to_first_human_review",
                "median_hours_ready_to_approval",
                "review_hours_per_pr",
                "reviewers_per_pr",
            ]
        ],
        "review_bottlenecks",
    )
    st.subheader("Every team-week")
    table(weeks.drop(columns=["PRs", "group"]), "mart_review_hours")


def _weekly(weeks, column: str, title: str) -> alt.Chart:
    """Team-weeks as a heat map: a row per team (and AI-assisted or not), a column per week."""
    return (
        alt.Chart(weeks.dropna(subset=[column]))
        .mark_rect()
        .encode(
            x=alt.X("yearmonthdate(opened_week):O", title="week opened"),
            y=alt.Y("group:N", title=None),
            color=alt.Color(f"{column}:Q", title=title, scale=alt.Scale(scheme="orangered")),
            tooltip=[
                alt.Tooltip("opened_week:T", title="week"),
                "team_id:N",
                "PRs:N",
                "pull_requests:Q",
                alt.Tooltip(f"{column}:Q", format=".2f"),
            ],
        )
    )
