"""Starting the dashboard: Streamlit's own server, headless, on loopback, without telemetry.

No usage statistics (`browser.gatherUsageStats`), no browser opened, no file watcher; the
publication's path goes to the app after Streamlit's `--`.
"""

from __future__ import annotations

import sys
from pathlib import Path

APP = Path(__file__).with_name("app.py")
DEFAULT_PORT = 8501
DEFAULT_HOST = "127.0.0.1"


def streamlit_command(publication: Path, port: int = DEFAULT_PORT, host: str = DEFAULT_HOST):
    return [
        sys.executable, "-m", "streamlit", "run", str(APP),
        "--server.headless=true",
        f"--server.address={host}",
        f"--server.port={port}",
        "--browser.gatherUsageStats=false",
        "--server.fileWatcherType=none",
        "--server.runOnSave=false",
        "--global.developmentMode=false",
        "--client.toolbarMode=viewer",
        "--",
        "--publication", str(publication.resolve()),
    ]  # fmt: skip


def environment(base: dict[str, str]) -> dict[str, str]:
    """The server's environment: telemetry off for Streamlit's own variable too."""
    return {**base, "STREAMLIT_BROWSER_GATHER_USAGE_STATS": "false"}
