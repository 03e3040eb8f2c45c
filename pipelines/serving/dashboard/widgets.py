"""What every page is made of: a metric's heading with the link to its definition, headline
tiles, tables with their CSV download, and the sentence shown instead of a missing figure."""

from __future__ import annotations

import math
from collections.abc import Iterable
from typing import Any

import pandas as pd
import streamlit as st

# The in-app metric reference (views/metric_reference.py renders docs/metrics.md there).
REFERENCE_PAGE = "metric-reference"


def definition_link(anchor: str, label: str = "definition") -> str:
    """A link to a section of docs/metrics.md in the in-app metric reference."""
    return f"[{label}]({REFERENCE_PAGE}#{anchor})"


def metric_heading(title: str, metric: str, anchor: str, mart: str) -> None:
    """A chart's or table's heading: what it shows, the metric, its definition and its mart."""
    st.subheader(title)
    st.caption(f"Metric: **{metric}** ({definition_link(anchor)}), read from `{mart}`.")


def is_missing(value: Any) -> bool:
    return value is None or (isinstance(value, float) and math.isnan(value)) or value is pd.NA


def money(value: Any) -> str:
    if is_missing(value):
        return "n/a"
    return f"{'-' if float(value) < 0 else ''}${abs(float(value)):,.2f}"


def count(value: Any) -> str:
    return "n/a" if is_missing(value) else f"{int(value):,}"


def ratio(value: Any, digits: int = 3) -> str:
    return "n/a" if is_missing(value) else f"{float(value):,.{digits}f}"


def hours(value: Any) -> str:
    return "n/a" if is_missing(value) else f"{float(value):,.2f} h"


def share(value: Any) -> str:
    return "n/a" if is_missing(value) else f"{float(value):.1%}"


def tile(key: str, label: str, value: str, delta: str | None = None, help: str | None = None):
    """A headline figure in a container whose key is its stable test id (`st-key-<key>`)."""
    with st.container(key=key, border=True):
        st.metric(label, value, delta=delta, delta_color="off", help=help)


def reasons(frame: pd.DataFrame, column: str = "unavailable_reason") -> list[str]:
    if column not in frame.columns:
        return []
    return sorted({r for r in frame[column] if isinstance(r, str) and r})


def unavailable(frame: pd.DataFrame) -> None:
    """A sentence for each reason a mart gives for its null figures."""
    for reason in reasons(frame):
        st.info(f"Some figures are not available: {reason}")


def nothing_to_show(mart: str, filters: str | None = None, why: Iterable[str] = ()) -> None:
    where = f" for {filters}" if filters else ""
    lines = [f"`{mart}` has no rows{where}, so there is nothing to show here."]
    lines += [f"Why: {reason}" for reason in why]
    st.info("\n\n".join(lines))


def table(frame: pd.DataFrame, name: str, show: bool = True) -> None:
    """The rows as the mart holds them, and a CSV download of exactly those rows (only the
    download where the page already lays the rows out)."""
    dates = [c for c in frame.attrs.get("dates", []) if c in frame.columns]
    frame = frame.assign(**{c: frame[c].dt.date for c in dates}) if dates else frame
    if show:
        st.dataframe(frame, hide_index=True, width="stretch")
    st.download_button(
        f"Download {name}.csv",
        frame.to_csv(index=False).encode(),
        file_name=f"{name}.csv",
        mime="text/csv",
        key=f"download-{name}",
    )


def cohort_label(is_ai_assisted: Any) -> str:
    if is_missing(is_ai_assisted):
        return "all PRs"
    return "AI-assisted" if bool(is_ai_assisted) else "not AI-assisted"
