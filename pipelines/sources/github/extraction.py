"""What the GitHub resources of one extraction share: the client and configuration
(`Extraction`), the incremental window of each list (`Window`), and the small helpers every
resource uses."""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, TypeVar

import dlt
from dlt.common.jsonpath import compile_path
from dlt.sources.helpers.rest_client import RESTClient
from requests import HTTPError

from pipelines.sources.contract import SCHEMA_CONTRACT, Conformer, Quarantine, to_timestamp
from pipelines.sources.cursors import window_start
from pipelines.sources.fanout import fetch_each
from pipelines.sources.tables import Table

# The hints every GitHub table shares (`quarantine` aside).
RESOURCE_HINTS: dict[str, Any] = {"write_disposition": "merge", "schema_contract": SCHEMA_CONTRACT}
# Compiled once: dlt compiles a string selector on every request.
_SELECTORS = {name: compile_path(name) for name in ("$", "workflow_runs", "jobs")}
# Parents whose children are read (and held) at once; transformers get pages of at most 100.
_FANOUT_BATCH = 100

log = logging.getLogger(__name__)

P = TypeVar("P")
R = TypeVar("R")


@dataclass
class Extraction:
    """What the resources of one extraction share: the client, the configuration, and what
    the pull-request resources saw (for the review-comment walk, which runs after them).

    Per-parent requests run on `concurrency` threads (`each`, `children`); only the requests
    do: everything else here is read and written on the extracting thread alone.
    """

    client: RESTClient
    repositories: list[str]
    start_date: str | None
    per_page: int
    quarantine: Quarantine
    concurrency: int = 1
    pulls_done: bool = False
    # Changed PRs whose reviews have not been read (yet): (repo, number).
    unreviewed: set[tuple[str, int]] = field(default_factory=set)
    # repo -> PR number -> its latest review submission, for changed PRs with review comments.
    reviewed: dict[str, dict[int, datetime]] = field(default_factory=dict)
    # For the commit ranges (pipelines.sources.github.ranges), which run after the
    # deployments: the new or changed deployments read (repo -> id -> row), the first success
    # time of each whose statuses were read, the deployments whose statuses were not read
    # (yet), and each repository's deployments window floor for the next run.
    deployments_read: dict[str, dict[int, dict[str, Any]]] = field(default_factory=dict)
    succeeded: dict[int, datetime] = field(default_factory=dict)
    unstatused: set[int] = field(default_factory=set)
    deployments_floor: dict[str, datetime | None] = field(default_factory=dict)
    deployments_done: bool = False
    # The commits of each compared pair (deployment id, base deployment id), until written.
    range_commits: dict[tuple[int, int], list[dict[str, Any]]] = field(default_factory=dict)

    def repos(self) -> list[str]:
        if not self.repositories:
            raise ValueError("SOURCES__GITHUB__REPOSITORIES is empty: nothing to load")
        return self.repositories

    def pages(
        self, path: str, params: dict[str, Any] | None = None, selector: str | None = None
    ) -> Iterator[Any]:
        return self.client.paginate(
            path,
            params={"per_page": self.per_page, **(params or {})},
            data_selector=_SELECTORS[selector or "$"],
        )

    def record(self, path: str) -> Any:
        """One record read on its own; None when it is gone (404)."""
        response = self.client.get(path)
        if response.status_code == 404:
            return None
        response.raise_for_status()
        return response.json()

    def quarantined_again(
        self,
        resource: str,
        repo: str,
        path_of: Callable[[dict[str, Any]], str | None],
        rows_of: Conformer,
        children: Sequence[str] = (),
        read: set[str] | None = None,
    ) -> list[dict[str, Any]]:
        """Records of `resource` in `repo` read again on their own path: those an earlier
        load quarantined that this run has not read (their window has passed them; `path_of`
        their stored payload), and the parents of the `children` an earlier load quarantined
        (a review: its PR), unless this run read them (`read`: their paths). The rows of
        those that conform now; yielded, they bring their children's lists with them."""
        prefix = f"/repos/{repo.lower()}/"
        own = [path_of(json.loads(payload)) for _, payload in self.quarantine.unread(resource)]
        parents = [path for child in children for path in self.quarantine.parents(child)]
        paths: dict[str, str] = {}
        for path in own + parents:
            if path and path.lower().startswith(prefix) and path.lower() not in (read or ()):
                paths.setdefault(path.lower(), path)
        records = self.each(list(paths.values()), self.record)
        rows = [rows_of.row(record) for record in records if record is not None]
        return [row for row in rows if row is not None]

    def children_again(
        self, resource: str, repo: str, rows_of: Conformer, read: set[Any]
    ) -> Iterator[list[dict[str, Any]]]:
        """The lists (`parent_key`: their path) in `repo` holding records of `resource` an
        earlier load quarantined, read again whole; rows whose id this run has not `read`
        (updated in place). A list gone since (404) resolves what it held."""
        prefix = f"/repos/{repo.lower()}/"
        lists = [path for path in self.quarantine.parents(resource) if path.startswith(prefix)]
        for path, pages in self.children(lists, lambda path: path):
            for page in pages:
                if rows := rows_of.unread_rows(page, read):
                    yield rows
            self.quarantine.children_read(resource, path)

    def child_pages(
        self, path: str, params: dict[str, Any] | None = None, selector: str | None = None
    ) -> list[list[Any]]:
        """The pages of a parent's list; none when the parent is gone since it was listed."""
        read: list[list[Any]] = []
        try:
            for page in self.pages(path, params, selector):
                read.append(list(page))  # the records only, not the response behind them
        except HTTPError as exc:
            if exc.response is None or exc.response.status_code != 404:
                raise
            log.warning("%s: not found (deleted since it was listed); skipped", path)
        return read

    def each(self, items: Sequence[P], fetch: Callable[[P], R]) -> list[R]:
        """`fetch` (requests only) of each item, `concurrency` at a time, in the items' order."""
        return fetch_each(items, fetch, self.concurrency)

    def children(
        self,
        parents: Sequence[P],
        path: Callable[[P], str],
        params: dict[str, Any] | None = None,
        selector: str | None = None,
    ) -> Iterator[tuple[P, list[list[Any]]]]:
        """Each parent with the pages of its list at `path(parent)` (see `child_pages`),
        in the parents' order; the lists are read `concurrency` at a time."""
        for start in range(0, len(parents), _FANOUT_BATCH):
            batch = parents[start : start + _FANOUT_BATCH]
            lists = self.each(
                batch, lambda parent: self.child_pages(path(parent), params, selector)
            )
            yield from zip(batch, lists, strict=True)

    def reviews_read(self, pr: dict[str, Any], latest: datetime | None) -> None:
        repo = pr["repo_full_name"].lower()
        self.unreviewed.discard((repo, pr["number"]))
        if latest is not None and pr.get("review_comments") != 0:
            self.reviewed.setdefault(repo, {})[pr["number"]] = latest

    def statuses_read(self, deployment_id: int, statuses: list[dict[str, Any]]) -> None:
        self.unstatused.discard(deployment_id)
        successes = [s["created_at"] for s in statuses if s.get("state") == "success"]
        if successes:
            self.succeeded[deployment_id] = min(successes)

    @property
    def deployments_complete(self) -> bool:
        """Whether the deployments and the statuses of every changed one were read in this
        extraction (not so when resources were selected without them)."""
        return self.deployments_done and not self.unstatused

    @property
    def reviews_complete(self) -> bool:
        """Whether every changed PR's reviews were read in this extraction (not so when
        resources were selected without the pull-request ones)."""
        return self.pulls_done and not self.unreviewed


class Window:
    """The incremental window of one list of one repository, kept in resource state.

    `since` = cursor - look-back (never before the start date; None: read everything). The
    records read inside the window are remembered by version, so the next run that re-reads
    them can tell what changed. Records not `settled` (a run in progress) are not
    remembered: they count as changed until they settle.
    """

    def __init__(self, state: dict[str, Any], start_date: str | None, lookback: timedelta):
        self._state = state
        self._lookback = lookback
        self._known: dict[str, str] = state.get("seen", {})
        self._read: dict[str, tuple[str, datetime]] = {}
        self._cursor = to_timestamp(state["cursor"]) if state.get("cursor") else None
        self.start = window_start(None, start_date)
        self.since = window_start(state.get("cursor"), start_date, lookback)
        # Whether an earlier run left a cursor (else this is the repository's first load).
        self.incremental = self._cursor is not None

    def admits(self, at: datetime) -> bool:
        return self.since is None or at >= self.since

    def inside(self, records: Sequence[Any], field: str) -> list[Any]:
        """The records of a page the window admits, read as served, before the contract: a
        record behind the window is neither loaded nor quarantined (a list whose records are
        all quarantined would otherwise walk, and quarantine, a repository's whole history).
        A record whose `field` is not a time stays, for the contract to quarantine."""
        return [record for record in records if not self._behind(record, field)]

    def _behind(self, record: Any, field: str) -> bool:
        try:
            return not self.admits(to_timestamp(record[field]))
        except (KeyError, TypeError, ValueError):
            return False

    def note(self, key: Any, version: str, at: datetime, settled: bool = True) -> bool:
        """Record a record read at cursor time `at`; True when it is new or changed."""
        if self._cursor is None or at > self._cursor:
            self._cursor = at
        if settled:
            self._read[str(key)] = (version, at)
        return self._known.get(str(key)) != version

    @property
    def floor(self) -> datetime | None:
        """Where the next run's window starts (before any start date): cursor - look-back."""
        return None if self._cursor is None else self._cursor - self._lookback

    def commit(self) -> None:
        if self._cursor is None:
            return
        floor = self._cursor - self._lookback
        self._state["cursor"] = self._cursor.isoformat()
        self._state["seen"] = {k: v for k, (v, at) in self._read.items() if at >= floor}


def window(ctx: Extraction, repo: str, lookback: timedelta) -> Window:
    """The window of `repo` in the current resource's state."""
    windows = dlt.current.resource_state().setdefault("repos", {})
    return Window(windows.setdefault(repo, {}), ctx.start_date, lookback)


def version(*values: Any) -> str:
    return "|".join(v.isoformat() if isinstance(v, datetime) else str(v) for v in values)


def conformer(
    ctx: Extraction,
    table: Table,
    key: Callable | None = None,
    parent: str | Callable[[dict[str, Any]], str | None] | None = None,
    **context: Any,
) -> Conformer:
    """`key`: a record's natural id for the quarantine (default: its `id`); `parent`: the
    path of the parent or list a quarantined record is read again from (see `api_path`),
    or how to read it from the record; `context`: the table's context values (the
    repository and parent the records were listed under)."""
    parent_of = (lambda _record: parent) if isinstance(parent, str) else parent
    return Conformer.of(table, ctx.quarantine, context=context, key=key, parent_of=parent_of)


def api_path(repo: str, *parts: Any) -> str:
    """A record's API path in `repo` as the quarantine keeps a parent: lower-cased, since
    GitHub's names ignore case (`api_path("Acme/API", "pulls", 12)` -> /repos/acme/api/pulls/12)."""
    return "/".join(("/repos", repo, *map(str, parts))).lower()


def iso(at: datetime) -> str:
    """A UTC time as GitHub's query parameters take it (whole seconds, Z)."""
    return to_timestamp(at).astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
