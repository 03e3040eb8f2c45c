"""GitHub Actions: workflow runs (`workflow_runs`, as of their latest attempt) and the jobs of
every attempt of each new or changed run (`workflow_jobs`)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timedelta
from typing import Any

import dlt
from dlt.sources import DltResource

from pipelines.sources.contract import Conformer
from pipelines.sources.github.extraction import (
    RESOURCE_HINTS,
    Extraction,
    Window,
    api_path,
    conformer,
    iso,
    version,
    window,
)
from pipelines.sources.github.tables import WORKFLOW_JOBS, WORKFLOW_RUNS
from pipelines.sources.record_keys import workflow_run_path

RUN_LOOKBACK = timedelta(days=3)


def workflow_runs(ctx: Extraction) -> DltResource:
    @dlt.resource(
        name="workflow_runs", primary_key="id", columns=WORKFLOW_RUNS.hints, **RESOURCE_HINTS
    )
    def workflow_runs() -> Iterator[list[dict[str, Any]]]:
        """Runs created within the window, newest first; re-runs and completions change a
        run's updated_at, status and attempt after it was created."""
        for repo in ctx.repos():
            win = window(ctx, repo, RUN_LOOKBACK)
            rows_of = conformer(ctx, WORKFLOW_RUNS, repo_full_name=repo)
            read: set[str] = set()  # paths of the runs yielded, whose jobs are read
            for rows in _run_pages(ctx, rows_of, repo, win.since):
                changed = [
                    r
                    for r in rows
                    if win.note(
                        r["id"],
                        version(r["updated_at"], r["status"], r["run_attempt"]),
                        r["created_at"],
                        settled=r["status"] == "completed",
                    )
                ]
                if changed:
                    read.update(api_path(repo, "actions/runs", r["id"]) for r in changed)
                    yield changed
            if again := _quarantined_before(ctx, rows_of, repo, win, read):
                yield again
            win.commit()

    return workflow_runs()


def _quarantined_before(
    ctx: Extraction, rows_of: Conformer, repo: str, win: Window, read: set[str]
) -> list[dict[str, Any]]:
    """Runs of `repo` an earlier load quarantined that this walk did not read (created
    before the window), and runs with a job quarantined that it did not yield, read again
    by id; those that conform now load with their jobs."""
    rows = ctx.quarantined_again(
        "workflow_runs", repo, workflow_run_path, rows_of, ("workflow_jobs",), read
    )
    for row in rows:
        at = version(row["updated_at"], row["status"], row["run_attempt"])
        win.note(row["id"], at, row["created_at"], settled=row["status"] == "completed")
    return rows


def _run_pages(
    ctx: Extraction, rows_of: Conformer, repo: str, since: datetime | None
) -> Iterator[list[dict[str, Any]]]:
    """The runs of a repository created since `since` (all when None), newest first.

    A query filtered by `created` reaches at most 1,000 runs; when one ends short of its
    total_count, the next continues from the oldest run read down (that second included,
    so nothing falls between two queries; the overlap is dropped by id)."""
    upper: str | None = None
    read: set[int] = set()
    while True:
        params = {}
        created = _created_filter(since, upper)
        if created:
            params["created"] = created
        total, reached, oldest = 0, 0, None
        for page in ctx.pages(f"/repos/{repo}/actions/runs", params, "workflow_runs"):
            total = int(page.response.json().get("total_count") or 0)
            reached += len(page)
            rows = rows_of.rows(page)
            if rows:
                oldest = min([r["created_at"] for r in rows] + ([oldest] if oldest else []))
            fresh = [r for r in rows if r["id"] not in read]
            read.update(r["id"] for r in fresh)
            if fresh:
                yield fresh
        if reached >= total or oldest is None:
            return
        if iso(oldest) == upper:
            raise RuntimeError(f"{repo}: more than {reached} workflow runs created at {upper}")
        upper = iso(oldest)


def _created_filter(since: datetime | None, upper: str | None) -> str | None:
    """GitHub's search syntax for `created`: >=A, A..B or <=B (bounds inclusive)."""
    if since is None:
        return f"<={upper}" if upper else None
    return f"{iso(since)}..{upper}" if upper else f">={iso(since)}"


def workflow_jobs(ctx: Extraction, runs: DltResource) -> DltResource:
    @dlt.transformer(
        name="workflow_jobs",
        data_from=runs,
        primary_key="id",
        columns=WORKFLOW_JOBS.hints,
        **RESOURCE_HINTS,
    )
    def workflow_jobs(items: list[dict[str, Any]]) -> Iterator[list[dict[str, Any]]]:
        """The jobs of every attempt of each new or changed run (some runs have none)."""
        for run, pages in ctx.children(items, _jobs_path, {"filter": "all"}, "jobs"):
            parent = api_path(run["repo_full_name"], "actions/runs", run["id"])
            rows_of = conformer(
                ctx, WORKFLOW_JOBS, parent=parent, repo_full_name=run["repo_full_name"]
            )
            for page in pages:
                rows = rows_of.rows(page)
                if rows:
                    yield rows
            ctx.quarantine.children_read("workflow_jobs", parent)

    return workflow_jobs


def _jobs_path(run: dict[str, Any]) -> str:
    return f"/repos/{run['repo_full_name']}/actions/runs/{run['id']}/jobs"
