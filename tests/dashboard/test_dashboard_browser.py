"""The dashboard in a real headless Chromium against the real Streamlit server, serving a
publication of the tiny organisation: every page renders without an error, the headline
tiles are the marts' figures (read here with SQL) before and after a filter changes, a
table downloads as CSV, a metric's link reaches its definition, and a publication whose
marts are empty or whose figures are null for want of a source reads as sentences.

Screenshots of every page go to $DASHBOARD_SCREENSHOTS (default .data/screenshots/).
"""

from __future__ import annotations

import json
import os
import re
import shutil
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import duckdb
import pandas as pd
import pytest
from playwright.sync_api import Browser, Page

from pipelines.serving.dashboard.views import PAGES
from tests.dashboard.browser import (
    Console,
    chromium,
    page_errors,
    tile_value,
    wait_rendered,
)
from tests.dashboard.conftest import REPO_ROOT, Dashboard, start_dashboard, stop

SCREENSHOTS = Path(os.environ.get("DASHBOARD_SCREENSHOTS", REPO_ROOT / ".data" / "screenshots"))
# Page url paths; the first page is served at the root.
URLS = ["", *(url for _, _, url in PAGES[1:]), "metric-reference"]
NO_BILLING = "no billing source is available (anthropic, openai)"


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with chromium() as launched:
        yield launched


@pytest.fixture(scope="module")
def browser_page(dashboard: Dashboard, browser: Browser) -> Iterator[tuple[Page, Console]]:
    context = browser.new_context(viewport={"width": 1400, "height": 2400}, accept_downloads=True)
    console = Console()
    yield console.watch(context.new_page()), console
    context.close()


def _open(page: Page, console: Console, url: str) -> float:
    """Open a page, wait for its render; the seconds it took."""
    started = time.monotonic()
    page.goto(url)
    wait_rendered(page)
    return time.monotonic() - started


def _rows(publication: Path, sql: str, params: list[Any] | None = None) -> list[tuple]:
    with duckdb.connect(str(publication), read_only=True) as con:
        return con.execute(sql, params or []).fetchall()


def _number(shown: str) -> float | None:
    """A tile's text as a number: '$1,234.50' -> 1234.5, '0.065' -> 0.065, 'n/a' -> None."""
    if shown == "n/a":
        return None
    return float(re.sub(r"[^0-9.\-]", "", shown))


def _expected_tiles(publication: Path, team: str | None, ai: bool | None) -> dict[str, Any]:
    """The headline figures of the last month, read from the marts: a ratio at the grain of
    several rows is the mart's own definition, a sum over a sum."""
    team_sql = "(? is null or team_id = ?)"
    ai_sql = "(? is null or is_ai_assisted = ?)"
    month = _rows(
        publication,
        "select max(m) from (select month as m from marts.mart_cost_per_outcome "
        "union all select month from marts.mart_cost_per_outcome_by_ai "
        "union all select shipped_month from marts.mart_bugs_per_shipped_pr "
        "union all select date_trunc('month', opened_week) from marts.mart_review_hours)",
    )[0][0]
    spend, surviving_all = _rows(
        publication,
        f"select sum(attributed_spend_usd), sum(surviving_prs) from marts.mart_cost_per_outcome "
        f"where month = ? and {team_sql}",
        [month, team, team],
    )[0]
    allocated, shipped, surviving = _rows(
        publication,
        "select sum(allocated_spend_usd), sum(shipped_prs), sum(surviving_prs) "
        f"from marts.mart_cost_per_outcome_by_ai where month = ? and {team_sql} and {ai_sql}",
        [month, team, team, ai, ai],
    )[0]
    weight, bugs_shipped = _rows(
        publication,
        "select sum(defect_weight), sum(shipped_prs) from marts.mart_bugs_per_shipped_pr "
        f"where shipped_month = ? and {team_sql} and {ai_sql}",
        [month, team, team, ai, ai],
    )[0]
    hours, prs = _rows(
        publication,
        "select sum(review_hours), sum(pull_requests) from marts.mart_review_hours "
        f"where date_trunc('month', opened_week) = ? and {team_sql} and {ai_sql}",
        [month, team, team, ai, ai],
    )[0]

    def over(a, b):
        return None if a is None or not b else float(a) / float(b)

    shown_spend = spend if ai is None else allocated
    return {
        "tile-spend": (None if shown_spend is None else float(shown_spend), 2),
        "tile-shipped": (shipped, 0),
        "tile-surviving": (surviving, 0),
        "tile-cost-per-surviving-pr": (
            over(spend, surviving_all) if ai is None else over(allocated, surviving),
            2,
        ),
        "tile-bugs-per-shipped-pr": (over(weight, bugs_shipped), 3),
        "tile-review-hours-per-pr": (over(hours, prs), 2),
    }


def _assert_tiles(page: Page, expected: dict[str, Any]) -> None:
    for key, (value, digits) in expected.items():
        shown = _number(tile_value(page, key))
        if value is None:
            assert shown is None, key
        else:
            assert shown == pytest.approx(round(float(value), digits), abs=10**-digits / 2), key


def _sidebar_choice(page: Page, label: str) -> None:
    page.locator('[data-testid="stSidebar"]').get_by_text(label, exact=True).click()
    wait_rendered(page)


def test_every_page_renders_without_errors_and_is_saved(
    dashboard: Dashboard, browser_page: tuple[Page, Console], request: pytest.FixtureRequest
) -> None:
    # On the worker that holds the built organisation (tests/xdist_groups.py).
    assert request.node.get_closest_marker("xdist_group").args == ("built_org",)
    page, console = browser_page
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    timings = {}
    for url in URLS:
        timings[url or "outcomes"] = _open(page, console, f"{dashboard.url}/{url}")
        assert page_errors(page) == [], url
        assert console.errors == [], url
        assert page.locator("h1").first.inner_text().strip()
        page.screenshot(path=SCREENSHOTS / f"{url or 'outcomes'}.png", full_page=True)
    # Recorded, not asserted: page load times are measured by benchmarks/serving.py.
    (SCREENSHOTS / "page_load_seconds.json").write_text(json.dumps(timings, indent=2))
    # The address the command printed is the one served.
    assert f"dashboard: {dashboard.url}" in dashboard.output()


def test_headline_tiles_are_the_marts_figures_and_follow_the_filters(
    dashboard: Dashboard, publication: Path, browser_page: tuple[Page, Console]
) -> None:
    page, console = browser_page
    _open(page, console, dashboard.url)
    everything = _expected_tiles(publication, None, None)
    _assert_tiles(page, everything)

    _sidebar_choice(page, "AI-assisted")
    ai_assisted = _expected_tiles(publication, None, True)
    assert ai_assisted != everything  # the filter changes what the marts give
    _assert_tiles(page, ai_assisted)
    _sidebar_choice(page, "Not AI-assisted")
    _assert_tiles(page, _expected_tiles(publication, None, False))
    _sidebar_choice(page, "All PRs")

    # One team: its row of mart_cost_per_outcome, the mart's own cost per surviving PR.
    team, cost = _rows(
        publication,
        "select team_id, cost_per_surviving_pr from marts.mart_cost_per_outcome "
        "where month = (select max(month) from marts.mart_cost_per_outcome) "
        "order by team_id limit 1",
    )[0]
    page.locator('[data-testid="stSidebar"] [data-testid="stSelectbox"]').click()
    page.get_by_role("option", name=team, exact=True).click()
    wait_rendered(page)
    by_team = _expected_tiles(publication, team, None)
    _assert_tiles(page, by_team)
    shown_cost = _number(tile_value(page, "tile-cost-per-surviving-pr"))
    assert shown_cost == (None if cost is None else pytest.approx(round(cost, 2), abs=0.005))
    assert page_errors(page) == [] and console.errors == []


def test_a_table_downloads_as_the_marts_rows(
    dashboard: Dashboard, publication: Path, browser_page: tuple[Page, Console]
) -> None:
    page, console = browser_page
    _open(page, console, f"{dashboard.url}/funnel")
    with page.expect_download() as download:
        page.get_by_role("button", name="Download mart_delivery_funnel.csv").click()
    assert download.value.suggested_filename == "mart_delivery_funnel.csv"
    rows = pd.read_csv(download.value.path())
    count, opened, survived = _rows(
        publication, "select count(*), sum(opened), sum(survived) from marts.mart_delivery_funnel"
    )[0]
    assert count > 0
    assert len(rows) == count
    assert (rows["opened"].sum(), rows["survived"].sum()) == (opened, survived)


def test_a_metric_links_to_its_definition_in_the_metric_reference(
    dashboard: Dashboard, browser_page: tuple[Page, Console]
) -> None:
    page, console = browser_page
    _open(page, console, f"{dashboard.url}/teams")
    link = page.locator('a[href$="metric-reference#8-dora"]').first
    href = link.get_attribute("href")
    _open(page, console, href if href.startswith("http") else f"{dashboard.url}/{href}")
    assert "DORA" in page.locator('[id="8-dora"]').first.inner_text()
    assert page.locator('[id="11-privacy-no-group-smaller-than-min_group_size"]').count() == 1
    assert page_errors(page) == [] and console.errors == []


@pytest.fixture(scope="module")
def thin_dashboard(
    publication: Path, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Dashboard]:
    """A publication with no rows in most marts and no billing: spend figures null, and the
    marts' reason for it."""
    work = tmp_path_factory.mktemp("thin")
    thin = work / "thin.serving.duckdb"
    shutil.copyfile(publication, thin)
    kept = {"mart_cost_per_outcome", "mart_cost_per_outcome_by_ai", "mart_ai_assisted_outcomes"}
    with duckdb.connect(str(thin)) as con:
        for (table,) in con.execute(
            "select table_name from information_schema.tables where table_schema = 'marts'"
        ).fetchall():
            if table not in kept:
                con.execute(f"delete from marts.{table}")
        con.execute("delete from publication.quality_checks")
        con.execute(
            "update marts.mart_cost_per_outcome set attributed_spend_usd = null, "
            "team_key_spend_usd = null, cost_per_shipped_pr = null, "
            "cost_per_surviving_pr = null, unavailable_reason = ?",
            [NO_BILLING],
        )
        con.execute(
            "update marts.mart_cost_per_outcome_by_ai set allocated_spend_usd = null, "
            "allocated_cost_per_shipped_pr = null, allocated_cost_per_surviving_pr = null, "
            "unavailable_reason = ?",
            [NO_BILLING],
        )
        con.execute(
            "update marts.mart_ai_assisted_outcomes set allocated_spend_usd = null, "
            "allocated_cost_per_surviving_pr = null, unavailable_reason = ?",
            [NO_BILLING],
        )
    served = start_dashboard(thin, work / "streamlit.log")
    try:
        yield served
    finally:
        stop(served.process)


def test_empty_marts_and_null_figures_read_as_sentences(
    thin_dashboard: Dashboard, browser: Browser
) -> None:
    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    console = Console()
    page = console.watch(context.new_page())
    try:
        for url in URLS:
            _open(page, console, f"{thin_dashboard.url}/{url}")
            assert page_errors(page) == [], url
            assert console.errors == [], url
        _open(page, console, thin_dashboard.url)
        assert tile_value(page, "tile-spend") == "n/a"
        assert tile_value(page, "tile-cost-per-surviving-pr") == "n/a"
        assert _number(tile_value(page, "tile-shipped")) is not None
        assert NO_BILLING in page.inner_text("body")
        _open(page, console, f"{thin_dashboard.url}/funnel")
        assert "mart_delivery_funnel has no rows" in page.inner_text("body")
        _open(page, console, f"{thin_dashboard.url}/coverage")
        assert "publication.quality_checks has no rows" in page.inner_text("body")
    finally:
        context.close()
