"""Benchmark: how soon readers see a run's marts, and how fast the dashboard's pages load.

.venv/bin/python -m benchmarks.serving                       # the demo's publication
.venv/bin/python -m benchmarks.serving --publication P --loads 5 --screenshots DIR

Reads a publication (after `make demo`: .data/demo.serving.duckdb): the seconds from the end
of the marts' build to the publication (publication.about: built_at -> published_at). Then
starts the dashboard on it as a user does (`python -m pipelines dashboard`) and opens every page
in headless Chromium (Debian's, as the browser tests do), `--loads` times each, reporting the
first load (a new session) and the median of the rest, in seconds until the page is drawn;
`--screenshots DIR` also saves each page, whole, as DIR/<page>.png.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path

import duckdb

from pipelines.serving.dashboard.views import PAGES
from tests.dashboard.browser import chromium, wait_rendered
from tests.dashboard.conftest import REPO_ROOT, start_dashboard, stop

URLS = ["", *(url for _, _, url in PAGES[1:]), "metric-reference"]


def publication_latency(publication: Path) -> dict[str, object]:
    with duckdb.connect(str(publication), read_only=True) as con:
        run_id, built_at, published_at, tables = con.execute(
            "select run_id, built_at, published_at, tables from publication.about"
        ).fetchone()
        marts_rows = sum(
            con.execute(f"select count(*) from marts.{name}").fetchone()[0]
            for (name,) in con.execute(
                "select table_name from information_schema.tables where table_schema = 'marts'"
            ).fetchall()
        )
    seconds = (published_at - built_at).total_seconds() if built_at else None
    return {
        "run_id": run_id,
        "tables": tables,
        "rows": marts_rows,
        "size_mib": round(publication.stat().st_size / 2**20, 2),
        "seconds_from_build_to_publication": round(seconds, 2) if seconds is not None else None,
    }


def page_loads(
    publication: Path, loads: int, screenshots: Path | None = None
) -> dict[str, tuple[float, float]]:
    """Each page's first load and the median of the others, in seconds."""
    log = Path(tempfile.mkdtemp()) / "streamlit.log"
    served = start_dashboard(publication, log)
    timings: dict[str, tuple[float, float]] = {}
    try:
        with chromium() as browser:
            for url in URLS:
                seconds = []
                for _ in range(loads):
                    page = browser.new_page(viewport={"width": 1400, "height": 2400})
                    started = time.monotonic()
                    page.goto(f"{served.url}/{url}")
                    wait_rendered(page)
                    seconds.append(time.monotonic() - started)
                    if screenshots and len(seconds) == loads:
                        page.screenshot(
                            path=screenshots / f"{url or 'outcomes'}.png", full_page=True
                        )
                    page.close()
                timings[url or "outcomes"] = (seconds[0], statistics.median(seconds[1:]))
    finally:
        stop(served.process)
    return timings


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--publication", type=Path, default=REPO_ROOT / ".data" / "demo.serving.duckdb"
    )
    parser.add_argument("--loads", type=int, default=4, help="loads of each page (at least 2)")
    parser.add_argument("--screenshots", type=Path, help="a directory for each page's PNG")
    args = parser.parse_args()
    if args.screenshots:
        args.screenshots.mkdir(parents=True, exist_ok=True)
    print(publication_latency(args.publication))
    print(f"{'page':<20} {'first s':>8} {'median s':>9}")
    for page, (first, median) in page_loads(
        args.publication, max(args.loads, 2), args.screenshots
    ).items():
        print(f"{page:<20} {first:>8.2f} {median:>9.2f}")


if __name__ == "__main__":
    main()
