"""The simulated vendor APIs: one loopback HTTP server, one path prefix per vendor.

`http://HOST:PORT/github/repos/...` answers as `https://api.github.com/repos/...` would, and
likewise `/anthropic`, `/openai`, `/jira`, `/pagerduty`; so a loader's base URL is the only
thing that differs between the simulator and the real vendor. `/_sim/...` is the control
plane for tests: request statistics, fault switches, the simulated clock and what the
organisation holds (`/_sim/org`: what a loader's configuration names).
"""

from __future__ import annotations

import importlib
import json
import threading
import time
from collections import Counter
from datetime import datetime
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import duckdb

from org_simulator.faults import (
    DRIFT_KINDS,
    Fault,
    FaultPlan,
    break_first_record,
    drift,
    shift_times,
)
from org_simulator.http import ApiError, Request, Response, Vendor, dumps, parse_time
from org_simulator.http_wire import QuietServer, make_handler
from org_simulator.options import OrgOptions, without_fields
from org_simulator.render_cache import Memo, PageCache, page_key

VENDOR_NAMES = ("github", "anthropic", "openai", "jira", "pagerduty")


def load_vendor(name: str) -> Vendor:
    return importlib.import_module(f"org_simulator.vendors.{name}").VENDOR


_PLAIN = frozenset("#\t\r\n")  # what urlsplit reads or removes besides `?`


def _split_target(raw_path: str) -> tuple[str, str]:
    """(path, query) as urlsplit gives them; directly for a plain `/path?query`."""
    if raw_path.startswith("/") and not raw_path.startswith("//") and _PLAIN.isdisjoint(raw_path):
        path, _, query = raw_path.partition("?")
        return path, query
    parts = urlsplit(raw_path)
    return parts.path, parts.query


def _parse_query(query: str) -> dict[str, list[str]]:
    """parse_qs(query, keep_blank_values=True); directly when nothing needs unquoting."""
    if "%" in query or "+" in query:
        return parse_qs(query, keep_blank_values=True)
    values: dict[str, list[str]] = {}
    for pair in query.split("&"):
        if pair:
            name, _, value = pair.partition("=")
            values.setdefault(name, []).append(value)
    return values


class SimulatorServer:
    """Serve a simulator store on loopback. Use as a context manager, or start()/stop()."""

    def __init__(
        self,
        store_path: Path | str,
        host: str = "127.0.0.1",
        port: int = 0,
        absent_fields: dict[str, tuple[str, ...]] | None = None,
        page_cache_mib: float = 0,
    ):
        """`absent_fields`: vendor -> fields left out of every object it answers with
        (org_simulator.options). `page_cache_mib`: how much of rendered page bodies to keep
        for requests asked again (0: none; org_simulator.render_cache)."""
        self.store_path = Path(store_path)
        self.absent_fields = OrgOptions(absent_fields=absent_fields or {}).absent_fields
        # One thread per query: requests are tiny point lookups, where DuckDB's parallelism
        # costs more than it gains and would take the core the loader runs on.
        # (A setting, not a connect config: other connections to the store in this process
        # must open it with the same config.)
        self._db = duckdb.connect(str(self.store_path), read_only=True)
        self._db.execute("set threads = 1")
        self.faults = FaultPlan()
        self.memo = Memo()
        self.pages = PageCache(int(page_cache_mib * 2**20)) if page_cache_mib > 0 else None
        self._stats: Counter[tuple[str, str, int]] = Counter()
        self._stats_lock = threading.Lock()
        self.now: datetime = self._store_as_of()
        self._vendors: dict[str, Vendor] = {}
        self._httpd = QuietServer((host, port), make_handler(self.handle))
        host, port = self._httpd.server_address[:2]
        self._url = f"http://{host}:{port}"
        self._thread: threading.Thread | None = None

    # --- lifecycle ---------------------------------------------------------------------

    @property
    def url(self) -> str:
        return self._url

    def base_url(self, vendor: str) -> str:
        if vendor not in VENDOR_NAMES:
            raise KeyError(f"unknown vendor {vendor!r}")
        return f"{self.url}/{vendor}"

    def start(self) -> SimulatorServer:
        self._thread = threading.Thread(
            target=self._httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )
        self._thread.start()
        return self

    def serve_forever(self) -> None:
        self._httpd.serve_forever()

    def stop(self) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()
        self._db.close()

    def __enter__(self) -> SimulatorServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # --- control -----------------------------------------------------------------------

    def inject(self, fault: Fault) -> Fault:
        self.faults.add(fault)
        return fault

    def vendor(self, name: str) -> Vendor | None:
        """The vendor module behind a path prefix, imported on first use."""
        if name not in VENDOR_NAMES:
            return None
        if name not in self._vendors:
            self._vendors[name] = load_vendor(name)
        return self._vendors[name]

    def set_now(self, now: datetime) -> None:
        self.now = now

    def stats(self) -> dict[str, Any]:
        """Requests answered, by vendor, route and status."""
        with self._stats_lock:
            items = sorted(self._stats.items())
        by_route: dict[str, int] = Counter()
        for (vendor, name, _status), n in items:
            by_route[f"{vendor}.{name}"] += n
        return {
            "total": sum(n for _, n in items),
            "by_route": dict(sorted(by_route.items())),
            "by_status": [
                {"vendor": v, "route": r, "status": s, "count": n} for (v, r, s), n in items
            ],
            "page_cache": self.pages.describe() if self.pages else None,
        }

    def reset_stats(self) -> None:
        with self._stats_lock:
            self._stats.clear()

    def repositories(self) -> list[str]:
        rows = (
            self._db.cursor()
            .execute("select full_name from gh_repositories order by full_name")
            .fetchall()
        )
        return [r[0] for r in rows]

    def jira_projects(self) -> list[str]:
        """The Jira project keys the simulated Jira serves (issues' projects and teams')."""
        rows = (
            self._db.cursor()
            .execute(
                "select project_key from jira_issues where project_key is not null "
                "union select jira_project_key from org_teams where jira_project_key is not null "
                "order by 1"
            )
            .fetchall()
        )
        return [r[0] for r in rows]

    def history_start(self) -> str:
        """The first day of the simulated organisation's history (ISO date)."""
        row = self._db.cursor().execute("select value from org_meta where key = 'start'").fetchone()
        return row[0]

    def _store_as_of(self) -> datetime:
        row = self._db.cursor().execute("select value from org_meta where key = 'as_of'").fetchone()
        return datetime.fromisoformat(row[0])

    def _count(self, vendor: str, name: str, status: int) -> None:
        with self._stats_lock:
            self._stats[(vendor, name, status)] += 1

    # --- dispatch ----------------------------------------------------------------------

    def handle(self, method: str, raw_path: str, headers: dict[str, str], body: bytes):
        """Answer one request: (status, headers, body bytes, fault or None)."""
        target, query = _split_target(raw_path)
        segments = target.split("/", 2)
        prefix = segments[1] if len(segments) > 1 else ""
        path = "/" + (segments[2] if len(segments) > 2 else "")
        if prefix == "_sim":
            return (*self._control(method, path, body), None)
        vendor = self.vendor(prefix)
        if vendor is None:
            return 404, {}, dumps({"message": f"no vendor at /{prefix}"}), None

        request = Request(
            vendor=prefix,
            method=method,
            path=path,
            query=_parse_query(query),
            headers=headers,
            body=body,
            params={},
            base_url=f"{self.url}/{prefix}",
            now=self.now,
            store=self._db,
            memo=self.memo,
        )
        try:
            found = vendor.route(method, path)
            name = found[0].name if found else "unknown"
            fault = self.faults.take(prefix, path)
            key = page_key(prefix, method, raw_path, request.now, body, headers)
            response = self._answer(vendor, request, found, fault, key)
        finally:
            request.close()
        if self.absent_fields.get(prefix) and response.status == 200:
            response.body = without_fields(response.body, self.absent_fields[prefix])
        if vendor.decorate:
            vendor.decorate(request, response)
        self._count(prefix, name, response.status)
        if fault and fault.kind == "slow":
            time.sleep(fault.delay)
        return response.status, response.headers, response.encoded(), fault

    def _answer(
        self, vendor: Vendor, request: Request, found, fault: Fault | None, key: tuple
    ) -> Response:
        if fault and fault.kind == "rate_limit":
            status = fault.status or 429
            return Response(
                status,
                vendor.error_body(status, "rate limit exceeded"),
                {"retry-after": str(fault.retry_after), "x-simulated-fault": fault.kind},
            )
        if fault and fault.kind == "server_error":
            status = fault.status or 503
            return Response(
                status,
                vendor.error_body(status, "service unavailable"),
                {"x-simulated-fault": fault.kind},
            )
        if not vendor.authenticate(request):
            return Response(401, vendor.error_body(401, "missing or invalid credentials"))
        if found is None:
            return Response(404, vendor.error_body(404, f"no route for {request.path}"))
        route, params = found
        request.params = params

        def render() -> Response:
            cached = self.pages.get(key) if self.pages else None
            if cached is not None:
                return cached
            response = route.handler(request)  # an ApiError is not kept: it is raised again
            return self.pages.put(key, response) if self.pages else response

        try:
            response = vendor.guard(request, render) if vendor.guard else render()
        except ApiError as exc:
            response = Response(exc.status, vendor.error_body(exc.status, exc.message))
            response.headers.update(exc.headers)
        if fault and fault.kind == "malformed" and response.status == 200:
            response.body = break_first_record(json.loads(response.encoded()))
        elif fault and fault.kind in DRIFT_KINDS and response.status == 200:
            response.body = drift(json.loads(response.encoded()), fault)
        elif fault and fault.kind == "invalid_json" and response.status == 200:
            response.body = response.encoded()[: max(1, len(response.encoded()) // 2)] + b"<html>"
        elif fault and fault.kind == "shift_time" and response.status == 200:
            body = json.loads(response.encoded())
            response.body = shift_times(body, fault.time_field, fault.shift_days)
        return response

    def _control(self, method: str, path: str, body: bytes) -> tuple[int, dict, bytes]:
        payload = json.loads(body) if body else None
        if path == "/health":
            return 200, {}, dumps({"ok": True, "now": self.now})
        if path == "/org" and method == "GET":
            org = {
                "repositories": self.repositories(),
                "jira_projects": self.jira_projects(),
                "history_start": self.history_start(),
            }
            return 200, {}, dumps(org)
        if path == "/stats" and method == "GET":
            return 200, {}, dumps(self.stats())
        if path == "/stats" and method == "DELETE":
            self.reset_stats()
            return 204, {}, b""
        if path == "/faults" and method == "GET":
            return 200, {}, dumps(self.faults.describe())
        if path == "/faults" and method == "POST":
            specs = payload if isinstance(payload, list) else [payload]
            try:
                for spec in specs:
                    self.inject(Fault(**spec))
            except (TypeError, ValueError) as exc:
                return 400, {}, dumps({"message": str(exc)})
            return 201, {}, dumps(self.faults.describe())
        if path == "/faults" and method == "DELETE":
            self.faults.clear()
            return 204, {}, b""
        if path == "/clock" and method == "POST":
            self.set_now(parse_time(payload["now"], "now"))
            return 200, {}, dumps({"now": self.now})
        return 404, {}, dumps({"message": f"no control route {method} {path}"})
