"""The sidebar's filters: team, period (a range of months) and AI-assisted or not.

They sit in the app's entry script, so they keep their values from page to page; each page
applies those its marts carry the grain of (queries.py binds them as parameters) and says so.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

import duckdb
import streamlit as st

from pipelines.serving.dashboard import queries
from pipelines.serving.dashboard.publication import frame

ALL_TEAMS = "All teams"
AI_CHOICES = {"All PRs": None, "AI-assisted": True, "Not AI-assisted": False}


@dataclass(frozen=True)
class Filters:
    team: str | None  # None: every team the marts show
    start: date | None  # first day of the period's first month
    end: date | None  # first day of its last month
    ai: bool | None  # None: AI-assisted and other PRs

    def parameters(self) -> dict[str, Any]:
        # No period (no month in the marts): no bound either, rather than no rows.
        start, end = self.start or date(1, 1, 1), self.end or date(9999, 12, 1)
        return {"team": self.team, "ai": self.ai, "start": start, "end": end}

    def describe(self, team: bool = True, period: bool = True, ai: bool = True) -> str:
        """The filters a page applies, in words (a page says which it ignores)."""
        parts = []
        if team:
            parts.append(self.team or "all teams")
        if period and self.start:
            parts.append(_month_span(self.start, self.end))
        if ai:
            parts.append(
                {None: "all PRs", True: "AI-assisted PRs", False: "not AI-assisted PRs"}[self.ai]
            )
        return ", ".join(parts)


def _month_span(start: date, end: date | None) -> str:
    if end is None or end == start:
        return f"{start:%Y-%m}"
    return f"{start:%Y-%m} to {end:%Y-%m}"


def sidebar_filters(con: duckdb.DuckDBPyConnection) -> Filters:
    teams = frame(con, queries.FILTER_TEAMS, {})["team_id"].tolist()
    months = [m.date() for m in frame(con, queries.FILTER_MONTHS, {})["month"]]
    st.sidebar.header("Filters")
    team = st.sidebar.selectbox(
        "Team",
        [ALL_TEAMS, *teams],
        key="filter_team",
        help="Teams smaller than min_group_size are not shown (docs/metrics.md section 11).",
    )
    start = end = None
    if len(months) > 1:
        start, end = st.sidebar.select_slider(
            "Period (months)",
            options=months,
            value=(months[0], months[-1]),
            format_func=lambda m: f"{m:%Y-%m}",
            key="filter_period",
        )
    elif months:
        start = end = months[0]
        st.sidebar.caption(f"Period: {start:%Y-%m}, the only month the marts hold.")
    ai = st.sidebar.radio("Pull requests", list(AI_CHOICES), key="filter_ai")
    return Filters(None if team == ALL_TEAMS else team, start, end, AI_CHOICES[ai])
