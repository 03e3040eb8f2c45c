"""Deployments (`deployments`) and the statuses of each new or changed one
(`deployment_statuses`)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
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
    version,
    window,
)
from pipelines.sources.github.tables import DEPLOYMENT_STATUSES, DEPLOYMENTS
from pipelines.sources.record_keys import deployment_path

DEPLOYMENT_LOOKBACK = timedelta(days=2)


def deployments(ctx: Extraction) -> DltResource:
    @dlt.resource(name="deployments", primary_key="id", columns=DEPLOYMENTS.hints, **RESOURCE_HINTS)
    def deployments() -> Iterator[list[dict[str, Any]]]:
        """Deployments, newest first (the list has no `since`), down to the window's start:
        statuses keep arriving after a deployment is created, changing its updated_at."""
        for repo in ctx.repos():
            win = window(ctx, repo, DEPLOYMENT_LOOKBACK)
            rows_of = conformer(ctx, DEPLOYMENTS, repo_full_name=repo)
            yielded: set[str] = set()  # paths of the deployments yielded, statuses read
            for page in ctx.pages(f"/repos/{repo}/deployments"):
                fresh = win.inside(page, "created_at")
                rows = rows_of.rows(fresh)
                inside = [r for r in rows if win.admits(r["created_at"])]
                changed = [
                    r
                    for r in inside
                    if win.note(r["id"], version(r["updated_at"]), r["created_at"])
                ]
                if changed:
                    read = ctx.deployments_read.setdefault(repo, {})
                    for row in changed:
                        read[row["id"]] = row
                        ctx.unstatused.add(row["id"])
                        yielded.add(api_path(repo, "deployments", row["id"]))
                    yield changed
                if len(fresh) < len(page) or len(inside) < len(rows):
                    break
            if again := _quarantined_before(ctx, rows_of, repo, win, yielded):
                read = ctx.deployments_read.setdefault(repo, {})
                for row in again:
                    read[row["id"]] = row
                    ctx.unstatused.add(row["id"])
                yield again
            ctx.deployments_floor[repo] = win.floor
            win.commit()
        ctx.deployments_done = True

    return deployments()


def _quarantined_before(
    ctx: Extraction, rows_of: Conformer, repo: str, win: Window, read: set[str]
) -> list[dict[str, Any]]:
    """Deployments of `repo` an earlier load quarantined that this walk did not read (created
    before the window), and deployments with a status quarantined that it did not yield,
    read again by id; those that conform now load with their statuses."""
    rows = ctx.quarantined_again(
        "deployments", repo, deployment_path, rows_of, ("deployment_statuses",), read
    )
    for row in rows:
        win.note(row["id"], version(row["updated_at"]), row["created_at"])
    return rows


def deployment_statuses(ctx: Extraction, deploys: DltResource) -> DltResource:
    @dlt.transformer(
        name="deployment_statuses",
        data_from=deploys,
        primary_key="id",
        columns=DEPLOYMENT_STATUSES.hints,
        **RESOURCE_HINTS,
    )
    def deployment_statuses(items: list[dict[str, Any]]) -> Iterator[list[dict[str, Any]]]:
        """The statuses of each new or changed deployment."""
        for deployment, pages in ctx.children(items, _statuses_path):
            repo, deployment_id = deployment["repo_full_name"], deployment["id"]
            parent = api_path(repo, "deployments", deployment_id)
            rows_of = conformer(
                ctx,
                DEPLOYMENT_STATUSES,
                parent=parent,
                repo_full_name=repo,
                deployment_id=deployment_id,
            )
            read = []
            for page in pages:
                rows = rows_of.rows(page)
                read += rows
                if rows:
                    yield rows
            ctx.statuses_read(deployment_id, read)
            ctx.quarantine.children_read("deployment_statuses", parent)

    return deployment_statuses


def _statuses_path(deployment: dict[str, Any]) -> str:
    return f"/repos/{deployment['repo_full_name']}/deployments/{deployment['id']}/statuses"
