"""Comments: review (diff) comments (`pull_request_review_comments`) and the conversation
comments of PRs and issues (`issue_comments`), each from a repository-wide `since` walk.

A comment quarantined by an earlier load is read again with its PR's or issue's comments
(`/pulls/{n}/comments`, `/issues/{n}/comments`, found from its `pull_request_url` or
`issue_url`) at the end of the next walk: the walk passes it once its update is behind it."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import datetime, timedelta
from functools import partial
from typing import Any

import dlt
from dlt.sources import DltResource

from pipelines.sources.contract import Conformer
from pipelines.sources.github.extraction import (
    RESOURCE_HINTS,
    Extraction,
    Window,
    conformer,
    iso,
    version,
    window,
)
from pipelines.sources.github.tables import ISSUE_COMMENTS, REVIEW_COMMENTS

COMMENT_LOOKBACK = timedelta(hours=1)


def pull_request_review_comments(ctx: Extraction) -> DltResource:
    @dlt.resource(
        name="pull_request_review_comments",
        primary_key="id",
        columns=REVIEW_COMMENTS.hints,
        **RESOURCE_HINTS,
    )
    def pull_request_review_comments() -> Iterator[list[dict[str, Any]]]:
        """Review comments updated within the window, repository-wide, oldest update first;
        then, on their own, the comments of changed PRs whose review was submitted within
        the window (its comments keep their earlier drafting times)."""
        for repo in ctx.repos():
            win = window(ctx, repo, COMMENT_LOOKBACK)
            # After a first load, comments a review publishes late may be older than `since`:
            # re-read the PRs that may hold them. Without this extraction's review reads
            # (resources selected without the pull-request ones), walk everything instead.
            recheck = win.incremental and ctx.reviews_complete
            since = win.since if recheck or not win.incremental else win.start
            parent = partial(_comments_path, "pull_request_url")
            rows_of = conformer(ctx, REVIEW_COMMENTS, None, parent, repo_full_name=repo)
            read: set[int] = set()
            path = f"/repos/{repo}/pulls/comments"
            yield from _comment_walk(ctx, win, rows_of, path, since, read)
            if recheck:
                yield from _recheck_comments(ctx, rows_of, repo, since, read)
            yield from ctx.children_again("pull_request_review_comments", repo, rows_of, read)
            win.commit()

    return pull_request_review_comments()


def _recheck_comments(
    ctx: Extraction, rows_of: Conformer, repo: str, since: datetime | None, read: set[int]
) -> Iterator[list[dict[str, Any]]]:
    """The review comments of changed PRs reviewed since `since`, not read by the walk."""
    numbers = [
        number
        for number, latest in sorted(ctx.reviewed.get(repo.lower(), {}).items())
        if since is None or latest >= since
    ]
    for _, pages in ctx.children(numbers, lambda number: f"/repos/{repo}/pulls/{number}/comments"):
        for page in pages:
            if rows := rows_of.unread_rows(page, read):
                yield rows


def _comment_walk(
    ctx: Extraction,
    win: Window,
    rows_of: Conformer,
    path: str,
    since: datetime | None,
    read: set[int],
) -> Iterator[list[dict[str, Any]]]:
    """A repository-wide comment list updated since `since`, oldest update first; yields
    the comments new or changed to the window."""
    params: dict[str, Any] = {"sort": "updated", "direction": "asc"}
    if since is not None:
        params["since"] = iso(since)
    for page in ctx.pages(path, params):
        rows = rows_of.rows(page)
        read.update(r["id"] for r in rows)
        fresh = [r for r in rows if win.note(r["id"], version(r["updated_at"]), r["updated_at"])]
        if fresh:
            yield fresh


def issue_comments(ctx: Extraction) -> DltResource:
    @dlt.resource(
        name="issue_comments", primary_key="id", columns=ISSUE_COMMENTS.hints, **RESOURCE_HINTS
    )
    def issue_comments() -> Iterator[list[dict[str, Any]]]:
        """Conversation comments of PRs and issues updated within the window."""
        for repo in ctx.repos():
            win = window(ctx, repo, COMMENT_LOOKBACK)
            parent = partial(_comments_path, "issue_url")
            rows_of = conformer(ctx, ISSUE_COMMENTS, None, parent, repo_full_name=repo)
            read: set[int] = set()
            path = f"/repos/{repo}/issues/comments"
            yield from _comment_walk(ctx, win, rows_of, path, win.since, read)
            yield from ctx.children_again("issue_comments", repo, rows_of, read)
            win.commit()

    return issue_comments()


_PARENT_IN_URL = re.compile(r"(/repos/[^/]+/[^/]+/(?:pulls|issues)/\d+)/?$")


def _comments_path(field: str, comment: dict[str, Any]) -> str | None:
    """The API path of the comment list of the PR or issue whose API URL is `field`."""
    match = _PARENT_IN_URL.search(str(comment.get(field) or ""))
    return f"{match.group(1).lower()}/comments" if match else None
