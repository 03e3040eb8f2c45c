"""The dashboard's entry: Streamlit runs this file on every render (`python -m pipelines
dashboard --publication PATH` starts it; the path comes after Streamlit's `--`).

Each render opens the publication read-only, draws the sidebar's filters and the page asked
for, and closes it (publication.py says why). Without a publication it says how to make one.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from pathlib import Path

import duckdb
import streamlit as st

from pipelines.serving.dashboard.filters import sidebar_filters
from pipelines.serving.dashboard.publication import MAKE_ONE, Render
from pipelines.serving.dashboard.views import PAGES, metric_reference


def publication_path(argv: list[str]) -> Path:
    parser = argparse.ArgumentParser(prog="dashboard")
    parser.add_argument("--publication", type=Path, required=True)
    return parser.parse_known_args(argv)[0].publication


def _page(module, title: str, url_path: str, render: Callable[[object], None]) -> st.Page:
    def draw() -> None:
        module.render(render())

    draw.__name__ = url_path.replace("-", "_")
    return st.Page(draw, title=title, url_path=url_path, default=url_path == "outcomes")


def main() -> None:
    st.set_page_config(page_title="What the tokens turned into", layout="wide")
    path = publication_path(sys.argv[1:])
    if not path.is_file():
        st.title("No publication yet")
        st.info(
            f"There is no publication at `{path}`. {MAKE_ONE}; or pass another file "
            "with `--publication`."
        )
        return
    with duckdb.connect(str(path), read_only=True) as con:
        render = Render(con, sidebar_filters(con))
        pages = [_page(module, title, url, lambda: render) for module, title, url in PAGES]
        reference = st.Page(
            metric_reference.render, title="Metric reference", url_path="metric-reference"
        )
        st.navigation({"Outcomes": pages, "Reference": [reference]}).run()


if __name__ == "__main__":  # as Streamlit runs it; importing it draws nothing
    main()
