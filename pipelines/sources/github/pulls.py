"""Pull requests (`pull_requests`), read whole, and the reviews and commits of each new or
changed one (`pull_request_reviews`, `pull_request_commits`)."""

from __future__ import annotations

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
    api_path,
    conformer,
    version,
    window,
)
from pipelines.sources.github.tables import COMMITS, PULL_REQUESTS, REVIEWS
from pipelines.sources.record_keys import pull_request_key, pull_request_path

PULL_REQUEST_LOOKBACK = timedelta(hours=1)


def pull_requests(ctx: Extraction) -> DltResource:
    listed = conformer(ctx, PULL_REQUESTS, _pull_request_key)

    @dlt.resource(
        name="pull_requests", primary_key="id", columns=PULL_REQUESTS.hints, **RESOURCE_HINTS
    )
    def pull_requests() -> Iterator[list[dict[str, Any]]]:
        """Pull requests, newest update first, each new or changed one read whole.

        The list has no `since`: the walk stops at the first page reaching behind the
        window. The list lacks sizes and merged_by, so a changed PR is read on its own.
        """
        for repo in ctx.repos():
            win = window(ctx, repo, PULL_REQUEST_LOOKBACK)
            read: set[str] = set()  # paths of the PRs yielded, whose children are read
            params = {"state": "all", "sort": "updated", "direction": "desc"}
            for page in ctx.pages(f"/repos/{repo}/pulls", params):
                fresh = win.inside(page, "updated_at")
                rows = listed.rows(fresh)
                inside = [r for r in rows if win.admits(r["updated_at"])]
                changed = [
                    r
                    for r in inside
                    if win.note(r["id"], version(r["updated_at"]), r["updated_at"])
                ]
                if changed:
                    for row in changed:
                        ctx.unreviewed.add((row["repo_full_name"].lower(), row["number"]))
                        read.add(_pr_key_path(row))
                    singles = ctx.each(changed, partial(_read_single, ctx, repo))
                    yield [
                        _whole(listed, row, single)
                        for row, single in zip(changed, singles, strict=True)
                    ]
                if len(fresh) < len(page) or len(inside) < len(rows):
                    break
            if again := _quarantined_before(ctx, listed, repo, win, read):
                yield again
            win.commit()
        ctx.pulls_done = True

    return pull_requests()


def _read_single(ctx: Extraction, repo: str, row: dict[str, Any]) -> Any:
    """The PR as the single-PR endpoint serves it; None when it is gone since it was listed
    (the list's row stands in for it then, as it does for a single read quarantined)."""
    return ctx.record(f"/repos/{repo}/pulls/{row['number']}")


def _quarantined_before(
    ctx: Extraction, listed: Conformer, repo: str, win: Window, read: set[str]
) -> list[dict[str, Any]]:
    """PRs of `repo` an earlier load quarantined that this walk did not read (their update
    lies behind the window), and PRs with a review or commit quarantined that this walk did
    not yield, read again by number: a record rejected once is not lost when its window
    passes. Those that conform now load with their reviews and commits."""
    rows = ctx.quarantined_again("pull_requests", repo, _payload_path, listed, CHILDREN, read)
    for row in rows:
        win.note(row["id"], version(row["updated_at"]), row["updated_at"])
        ctx.unreviewed.add((row["repo_full_name"].lower(), row["number"]))
    return rows


# The tables read per PR: a record of them quarantined has its PR read again.
CHILDREN = ("pull_request_reviews", "pull_request_commits")


def _payload_path(payload: dict[str, Any]) -> str | None:
    key = pull_request_key(payload)
    return pull_request_path(key) if key else None


def _pr_key_path(pr: dict[str, Any]) -> str:
    return api_path(pr["repo_full_name"], "pulls", pr["number"])


def _whole(listed: Conformer, row: dict[str, Any], single: Any) -> dict[str, Any]:
    whole = listed.row(single) if single is not None else None
    return whole if whole is not None else row


def _pr_path(child: str, pr: dict[str, Any]) -> str:
    return f"/repos/{pr['repo_full_name']}/pulls/{pr['number']}/{child}"


def _pull_request_key(pr: dict[str, Any]) -> str:
    return f"{pr['base']['repo']['full_name']}#{pr['number']}"


def _listed_under(pr: dict[str, Any]) -> dict[str, Any]:
    """The context of a PR's reviews and commits: the PR they are listed under."""
    return {"repo_full_name": pr["repo_full_name"], "pr_number": pr["number"]}


def _child_key(repo: str, number: int, field: str, record: dict[str, Any]) -> str:
    return f"{repo}#{number} {record[field]}"


def pull_request_reviews(ctx: Extraction, pulls: DltResource) -> DltResource:
    @dlt.transformer(
        name="pull_request_reviews",
        data_from=pulls,
        primary_key="id",
        columns=REVIEWS.hints,
        **RESOURCE_HINTS,
    )
    def pull_request_reviews(prs: list[dict[str, Any]]) -> Iterator[list[dict[str, Any]]]:
        """Every review of each new or changed PR (reviews are only listed per PR)."""
        for pr, pages in ctx.children(prs, partial(_pr_path, "reviews")):
            key = partial(_child_key, pr["repo_full_name"], pr["number"], "id")
            parent = _pr_key_path(pr)
            rows_of = conformer(ctx, REVIEWS, key, parent, **_listed_under(pr))
            latest: datetime | None = None
            for page in pages:
                rows = rows_of.rows(page)
                submitted = [r["submitted_at"] for r in rows if r["submitted_at"]]
                latest = max([*submitted, latest] if latest else submitted, default=None)
                if rows:
                    yield rows
            ctx.reviews_read(pr, latest)
            ctx.quarantine.children_read("pull_request_reviews", parent)

    return pull_request_reviews


def pull_request_commits(ctx: Extraction, pulls: DltResource) -> DltResource:
    @dlt.transformer(
        name="pull_request_commits",
        data_from=pulls,
        primary_key=("repo_full_name", "pr_number", "sha"),
        columns=COMMITS.hints,
        **RESOURCE_HINTS,
    )
    def pull_request_commits(prs: list[dict[str, Any]]) -> Iterator[list[dict[str, Any]]]:
        """The commits of each new or changed PR (GitHub lists the first 250)."""
        for pr, pages in ctx.children(prs, partial(_pr_path, "commits")):
            key = partial(_child_key, pr["repo_full_name"], pr["number"], "sha")
            parent = _pr_key_path(pr)
            rows_of = conformer(ctx, COMMITS, key, parent, **_listed_under(pr))
            for page in pages:
                rows = rows_of.rows(page)
                if rows:
                    yield rows
            ctx.quarantine.children_read("pull_request_commits", parent)

    return pull_request_commits
