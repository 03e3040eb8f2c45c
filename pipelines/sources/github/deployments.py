"""Deployments (`deployments`) and the statuses of each new or changed one
(`deployment_statuses`)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from functools import partial
from typing import Any

import dlt
from dlt.sources import DltResource

from pipelines.sources.contract import Conformer
from pipelines.sources.github.columns import DEPLOYMENT_COLUMNS, DEPLOYMENT_STATUS_COLUMNS, user
from pipelines.sources.github.extraction import (
    RESOURCE_HINTS,
    Extraction,
    Window,
    api_path,
    conformer,
    version,
    window,
)
from pipelines.sources.record_keys import deployment_path

DEPLOYMENT_LOOKBACK = timedelta(days=2)


def deployments(ctx: Extraction) -> DltResource:
    @dlt.resource(
        name="deployments", primary_key="id", columns=DEPLOYMENT_COLUMNS, **RESOURCE_HINTS
    )
    def deployments() -> Iterator[list[dict[str, Any]]]:
        """Deployments, newest first (the list has no `since`), down to the window's start:
        statuses keep arriving after a deployment is created, changing its updated_at."""
        for repo in ctx.repos():
            win = window(ctx, repo, DEPLOYMENT_LOOKBACK)
            project = partial(_project_deployment, repo)
            rows_of = conformer(ctx, "deployments", DEPLOYMENT_COLUMNS, project)
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


def _project_deployment(repo: str, deployment: dict[str, Any]) -> dict[str, Any]:
    return {
        "id": deployment["id"],
        "repo_full_name": repo,
        "sha": deployment.get("sha"),
        "ref": deployment.get("ref"),
        "task": deployment.get("task"),
        "environment": deployment.get("environment"),
        "original_environment": deployment.get("original_environment"),
        "production_environment": deployment.get("production_environment"),
        "transient_environment": deployment.get("transient_environment"),
        "description": deployment.get("description"),
        **user(deployment.get("creator"), "creator"),
        "payload": deployment.get("payload"),
        "created_at": deployment["created_at"],
        "updated_at": deployment.get("updated_at") or deployment["created_at"],
    }


def deployment_statuses(ctx: Extraction, deploys: DltResource) -> DltResource:
    @dlt.transformer(
        name="deployment_statuses",
        data_from=deploys,
        primary_key="id",
        columns=DEPLOYMENT_STATUS_COLUMNS,
        **RESOURCE_HINTS,
    )
    def deployment_statuses(items: list[dict[str, Any]]) -> Iterator[list[dict[str, Any]]]:
        """The statuses of each new or changed deployment."""
        for deployment, pages in ctx.children(items, _statuses_path):
            repo, deployment_id = deployment["repo_full_name"], deployment["id"]
            project = partial(_project_deployment_status, repo, deployment_id)
            parent = api_path(repo, "deployments", deployment_id)
            rows_of = conformer(
                ctx, "deployment_statuses", DEPLOYMENT_STATUS_COLUMNS, project, parent=parent
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


def _project_deployment_status(repo: str, deployment_id: int, status: dict[str, Any]):
    return {
        "id": status["id"],
        "deployment_id": deployment_id,
        "repo_full_name": repo,
        "state": status.get("state"),
        "environment": status.get("environment"),
        "description": status.get("description"),
        **user(status.get("creator"), "creator"),
        "created_at": status["created_at"],
        "updated_at": status.get("updated_at"),
    }
