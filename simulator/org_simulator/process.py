"""The simulated vendor APIs in a process of their own, for the demo and the benchmarks.

`SimulatorServer` answers from threads of the process that starts it; a loader in that same
process then shares one interpreter lock with the server, and on a small machine each waits
for the other. `SimulatorProcess` runs `python -m org_simulator serve` instead and offers
what the demo and the benchmarks use of a server (`url`, `base_url`, `now`, `stats()`,
`repositories()`, `jira_projects()`, `history_start()`) through the control plane
(`/_sim/...`). Tests that switch faults or the clock in-process keep using SimulatorServer.
"""

from __future__ import annotations

import json
import subprocess
import sys
import threading
import urllib.request
from datetime import datetime
from pathlib import Path
from typing import Any

from org_simulator.server import VENDOR_NAMES

_STARTUP_SECONDS = 120  # a cold interpreter imports dlt's and DuckDB's modules first


class SimulatorProcess:
    """Serve a simulator store from a child process on a free loopback port. Use as a
    context manager, or start()/stop()."""

    def __init__(
        self,
        store_path: Path | str,
        absent_fields: dict[str, tuple[str, ...]] | None = None,
        github_rate_limit: int | None = None,
        page_cache_mib: float = 0,
    ):
        self.store_path = Path(store_path)
        self.command = [sys.executable, "-m", "org_simulator", "serve"]
        self.command += ["--store", str(self.store_path), "--port", "0"]
        self.command += ["--page-cache-mib", str(page_cache_mib)]
        for vendor, fields in (absent_fields or {}).items():
            self.command += [f"--absent-field={vendor}:{name}" for name in fields]
        if github_rate_limit:
            self.command += ["--github-rate-limit", str(github_rate_limit)]
        self._proc: subprocess.Popen[str] | None = None
        self._url: str | None = None
        self._org: dict[str, Any] | None = None

    # --- lifecycle ---------------------------------------------------------------------

    @property
    def pid(self) -> int:
        if self._proc is None:
            raise RuntimeError("the simulator process is not started")
        return self._proc.pid

    @property
    def url(self) -> str:
        if self._url is None:
            raise RuntimeError("the simulator process is not started")
        return self._url

    def base_url(self, vendor: str) -> str:
        if vendor not in VENDOR_NAMES:
            raise KeyError(f"unknown vendor {vendor!r}")
        return f"{self.url}/{vendor}"

    def start(self) -> SimulatorProcess:
        self._proc = subprocess.Popen(
            self.command, stdout=subprocess.PIPE, stdin=subprocess.DEVNULL, text=True
        )
        found = threading.Event()
        # The first line names the URL; the rest (the loaders' settings) is drained so the
        # child never blocks on a full pipe.
        threading.Thread(target=self._read_output, args=(found,), daemon=True).start()
        if not found.wait(_STARTUP_SECONDS) or self._url is None:
            self.stop()
            raise RuntimeError(f"the simulator did not start: {' '.join(self.command)}")
        return self

    def _read_output(self, found: threading.Event) -> None:
        assert self._proc is not None and self._proc.stdout is not None
        for line in self._proc.stdout:
            if self._url is None and " on http://" in line:
                self._url = line.split(" on ", 1)[1].split()[0]
                found.set()
        found.set()  # the child ended (before serving, if no URL was read)

    def stop(self) -> None:
        if self._proc is None or self._proc.poll() is not None:
            return
        self._proc.terminate()
        try:
            self._proc.wait(10)
        except subprocess.TimeoutExpired:
            self._proc.kill()
            self._proc.wait()

    def __enter__(self) -> SimulatorProcess:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # --- what the server knows, through the control plane -------------------------------

    def _control(self, method: str, path: str, payload: Any = None) -> Any:
        data = None if payload is None else json.dumps(payload).encode()
        request = urllib.request.Request(f"{self.url}/_sim{path}", data=data, method=method)
        with urllib.request.urlopen(request, timeout=60) as response:
            body = response.read()
        return json.loads(body) if body else None

    @property
    def now(self) -> datetime:
        return datetime.fromisoformat(self._control("GET", "/health")["now"].rstrip("Z"))

    def set_now(self, now: datetime) -> None:
        self._control("POST", "/clock", {"now": now.isoformat()})

    def stats(self) -> dict[str, Any]:
        """Requests answered, by vendor, route and status (SimulatorServer.stats)."""
        return self._control("GET", "/stats")

    def reset_stats(self) -> None:
        self._control("DELETE", "/stats")

    def _organisation(self) -> dict[str, Any]:
        if self._org is None:
            self._org = self._control("GET", "/org")
        return self._org

    def repositories(self) -> list[str]:
        return list(self._organisation()["repositories"])

    def jira_projects(self) -> list[str]:
        return list(self._organisation()["jira_projects"])

    def history_start(self) -> str:
        return self._organisation()["history_start"]
