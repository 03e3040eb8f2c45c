"""The metric reference in the app: docs/metrics.md rendered section by section, each heading
with the anchor GitHub gives it, so a chart's link `metric-reference#8-dora` works offline."""

from __future__ import annotations

import re
from functools import cache

import streamlit as st

from pipelines.project_files import REPO_ROOT

METRICS_DOC = REPO_ROOT / "docs" / "metrics.md"
# A link to a file of the repository: shown as its path, there being no page for it here.
FILE_LINK = re.compile(r"\[([^\]]+)\]\((?!#|https?:)([^)]+)\)")


def anchor(heading: str) -> str:
    """GitHub's anchor for a heading: lower case, punctuation dropped, spaces as hyphens."""
    text = re.sub(r"[^\w\- ]", "", heading.strip().lower())
    return text.replace(" ", "-")


@cache
def sections() -> list[tuple[str, str]]:
    """(heading, body) for each `## ` section; the title's text comes first, heading ''."""
    found: list[tuple[str, str]] = []
    heading, body = "", []
    for line in METRICS_DOC.read_text().splitlines():
        if line.startswith("## "):
            found.append((heading, "\n".join(body)))
            heading, body = line[3:], []
        elif not line.startswith("# "):
            body.append(FILE_LINK.sub(lambda m: f"{m.group(1)} (`{m.group(2)}`)", line))
    found.append((heading, "\n".join(body)))
    return found


def render(_r: object = None) -> None:
    st.title("Metric reference")
    st.caption("docs/metrics.md: what every number in the marts means.")
    for heading, body in sections():
        if heading:
            st.header(heading, anchor=anchor(heading))
        st.markdown(body)
