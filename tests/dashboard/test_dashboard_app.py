"""The dashboard's script without a browser (Streamlit's AppTest): what it says without a
publication, and the metric reference's anchors."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from pipelines.serving.dashboard.server import APP, streamlit_command
from pipelines.serving.dashboard.views.metric_reference import METRICS_DOC, anchor, sections


def test_without_a_publication_it_says_how_to_make_one(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    missing = tmp_path / "nothing.serving.duckdb"
    monkeypatch.setattr("sys.argv", [str(APP), "--publication", str(missing)])
    app = AppTest.from_file(str(APP), default_timeout=30).run()
    assert not app.exception
    assert app.title[0].value == "No publication yet"
    assert str(missing) in app.info[0].value and "make demo" in app.info[0].value


def test_the_server_runs_headless_on_loopback_without_telemetry(tmp_path: Path) -> None:
    command = streamlit_command(tmp_path / "p.duckdb", 8765)
    assert "--browser.gatherUsageStats=false" in command
    assert "--server.address=127.0.0.1" in command and "--server.port=8765" in command
    assert "--server.headless=true" in command
    assert command[-2:] == ["--publication", str((tmp_path / "p.duckdb").resolve())]


def test_the_metric_reference_keeps_the_anchors_the_docs_link_to() -> None:
    # Every in-document link of docs/metrics.md lands on a section the page gives that anchor.
    headings = {anchor(heading) for heading, _ in sections() if heading}
    linked = set(re.findall(r"\]\(#([\w-]+)\)", METRICS_DOC.read_text()))
    assert linked and linked <= headings | {"index"}
    assert anchor("11. Privacy: no group smaller than `min_group_size`") == (
        "11-privacy-no-group-smaller-than-min_group_size"
    )
    assert anchor("3. A pull request's life") == "3-a-pull-requests-life"


def test_every_definition_link_of_the_pages_lands_on_a_section() -> None:
    headings = {anchor(heading) for heading, _ in sections() if heading}
    views = Path(APP).with_name("views")
    used = set()
    for module in views.glob("*.py"):
        text = module.read_text()
        used |= set(re.findall(r'"(\d+-[a-z0-9_-]+|when-a-vendor-is-missing)"', text))
        used |= set(re.findall(r"metric-reference#([\w-]+)", text))
    assert {"6-what-the-output-cost", "8-dora", "5-human-review-hours"} <= used
    assert used <= headings
