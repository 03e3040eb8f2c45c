"""Debian's Chromium driven by Playwright, headless and offline, and what a test asks of a
rendered Streamlit page: wait for the render to finish, collect errors, read tiles."""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

from playwright.sync_api import Browser, ConsoleMessage, Page, sync_playwright

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
RENDER_TIMEOUT_MS = 60_000
# Streamlit's own markers: a script still running, an exception, an error alert.
RUNNING = '[data-testid="stStatusWidget"], [data-testid="stSkeleton"]'
EXCEPTION = '[data-testid="stException"]'
ERROR_ALERT = '[data-testid="stAlertContentError"]'
# Streamlit's client first asks for its health and host config under the page's own path (in
# case the app is served below one), then at the root: the first answer is a 404 by design.
BASE_PATH_PROBE = re.compile(r"/[\w-]+/_stcore/(health|host-config)$")


@contextmanager
def chromium() -> Iterator[Browser]:
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True
        )
        try:
            yield browser
        finally:
            browser.close()


@dataclass
class Console:
    """The page's console errors and uncaught exceptions."""

    errors: list[str] = field(default_factory=list)

    def watch(self, page: Page) -> Page:
        page.on("console", self._message)
        page.on("pageerror", lambda e: self.errors.append(str(e)))
        return page

    def _message(self, message: ConsoleMessage) -> None:
        if message.type != "error":
            return
        url = (message.location or {}).get("url", "")
        if message.text.startswith("Failed to load resource") and BASE_PATH_PROBE.search(url):
            return
        self.errors.append(f"{message.text} ({url})")


def wait_rendered(page: Page) -> None:
    """Until Streamlit has drawn the page: a title, and no script running or skeleton left."""
    page.wait_for_selector("h1", timeout=RENDER_TIMEOUT_MS)
    page.wait_for_function(
        f"() => document.querySelectorAll('{RUNNING}').length === 0",
        timeout=RENDER_TIMEOUT_MS,
    )
    # The last deltas of a render arrive after the status widget goes: a short settle.
    page.wait_for_timeout(300)
    page.wait_for_function(
        f"() => document.querySelectorAll('{RUNNING}').length === 0",
        timeout=RENDER_TIMEOUT_MS,
    )


def page_errors(page: Page) -> list[str]:
    return [e.inner_text() for e in page.query_selector_all(f"{EXCEPTION}, {ERROR_ALERT}")]


def tile_value(page: Page, key: str) -> str:
    return page.locator(f'.st-key-{key} [data-testid="stMetricValue"]').inner_text().strip()
