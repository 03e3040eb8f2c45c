"""dlt source `github`: GitHub REST API -> dataset `raw_github`.

Configuration follows dlt's convention (env vars or .dlt/ toml):
  SOURCES__GITHUB__BASE_URL       e.g. https://api.github.com (the default)
  SOURCES__GITHUB__ACCESS_TOKEN   secret; sent only as an Authorization header
  SOURCES__GITHUB__REPOSITORIES   JSON list of "owner/name", e.g. '["acme/api"]'
  SOURCES__GITHUB__START_DATE     optional ISO date/time: ignore PRs last updated before it

Every resource projects the vendor objects to the fields the marts need, as typed columns,
so the raw schema is stable whatever the API adds and nested objects never explode into
child tables.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any

import dlt
from dlt.common.schema.typing import TTableSchemaColumns
from dlt.common.time import ensure_pendulum_datetime
from dlt.common.typing import TSecretStrValue
from dlt.sources import DltResource
from dlt.sources.helpers.rest_client import RESTClient
from dlt.sources.helpers.rest_client.auth import BearerTokenAuth
from dlt.sources.helpers.rest_client.paginators import HeaderLinkPaginator

SOURCE_NAME = "github"
DATASET_NAME = "raw_github"
DEFAULT_BASE_URL = "https://api.github.com"

PULL_REQUEST_COLUMNS: TTableSchemaColumns = {
    "id": {"data_type": "bigint", "nullable": False},
    "number": {"data_type": "bigint", "nullable": False},
    "repo_full_name": {"data_type": "text", "nullable": False},
    "title": {"data_type": "text"},
    "body": {"data_type": "text"},
    "state": {"data_type": "text"},
    "draft": {"data_type": "bool"},
    "user_login": {"data_type": "text"},
    "user_id": {"data_type": "bigint"},
    "user_type": {"data_type": "text"},
    "head_ref": {"data_type": "text"},
    "head_sha": {"data_type": "text"},
    "base_ref": {"data_type": "text"},
    # Label names as one JSON array: marts filter on them, a child table buys nothing.
    "labels": {"data_type": "json"},
    "created_at": {"data_type": "timestamp"},
    "updated_at": {"data_type": "timestamp", "nullable": False},
    "closed_at": {"data_type": "timestamp"},
    "merged_at": {"data_type": "timestamp"},
    "merge_commit_sha": {"data_type": "text"},
    # Only the single-PR endpoint returns these; the list endpoint leaves them null.
    "additions": {"data_type": "bigint"},
    "deletions": {"data_type": "bigint"},
    "changed_files": {"data_type": "bigint"},
    "html_url": {"data_type": "text"},
}


@dlt.source(name=SOURCE_NAME, section=SOURCE_NAME, max_table_nesting=1)
def github(
    access_token: TSecretStrValue = dlt.secrets.value,
    repositories: Sequence[str] = dlt.config.value,
    base_url: str = DEFAULT_BASE_URL,
    start_date: str | None = None,
    per_page: int = 100,
) -> Sequence[DltResource]:
    """GitHub pull requests (later: reviews, commits, deployments, workflow runs)."""
    client = RESTClient(
        base_url=base_url,
        headers={"Accept": "application/vnd.github+json", "X-GitHub-Api-Version": "2022-11-28"},
        # An auth object, not a header: dlt's debug request log prints headers, not auth.
        auth=BearerTokenAuth(access_token),
        paginator=HeaderLinkPaginator(),
        data_selector="$",
    )
    return [pull_requests(client, list(repositories), start_date, per_page)]


def pull_requests(
    client: RESTClient, repositories: list[str], start_date: str | None, per_page: int
) -> DltResource:
    @dlt.resource(
        name="pull_requests",
        primary_key="id",
        write_disposition="merge",
        columns=PULL_REQUEST_COLUMNS,
    )
    def _pull_requests() -> Iterator[list[dict[str, Any]]]:
        """Pull requests of the configured repositories, newest update first.

        One `updated_at` cursor per repository, kept in dlt resource state (persisted in the
        destination with the data): a single cursor over all repositories would silently
        skip the history of a repository added to the configuration later.
        """
        if not repositories:
            raise ValueError("SOURCES__GITHUB__REPOSITORIES is empty: nothing to load")
        cursors: dict[str, str] = dlt.current.resource_state().setdefault("updated_at", {})
        floor = ensure_pendulum_datetime(start_date) if start_date else None
        for repo in repositories:
            since = _later(floor, cursors.get(repo))
            newest = cursors.get(repo)
            for page in client.paginate(
                f"/repos/{repo}/pulls",
                params={
                    "state": "all",
                    "sort": "updated",
                    "direction": "desc",
                    "per_page": per_page,
                },
            ):
                rows = [_project_pull_request(pr, repo) for pr in page]
                # Sorted by updated desc: stop at the first row older than the cursor.
                # Rows equal to the cursor are fetched again; the merge on `id` dedupes them.
                fresh = [r for r in rows if since is None or _ts(r["updated_at"]) >= since]
                if fresh:
                    newest = _latest(newest, *(r["updated_at"] for r in fresh))
                    yield fresh
                if len(fresh) < len(rows):
                    break
            if newest is not None:
                cursors[repo] = newest

    return _pull_requests()


def _project_pull_request(pr: dict[str, Any], repo: str) -> dict[str, Any]:
    user = pr.get("user") or {}
    head = pr.get("head") or {}
    base = pr.get("base") or {}
    return {
        "id": pr["id"],
        "number": pr["number"],
        "repo_full_name": (base.get("repo") or {}).get("full_name") or repo,
        "title": pr.get("title"),
        "body": pr.get("body"),
        "state": pr.get("state"),
        "draft": pr.get("draft"),
        "user_login": user.get("login"),
        "user_id": user.get("id"),
        "user_type": user.get("type"),
        "head_ref": head.get("ref"),
        "head_sha": head.get("sha"),
        "base_ref": base.get("ref"),
        "labels": [label["name"] for label in pr.get("labels") or [] if label.get("name")],
        "created_at": pr.get("created_at"),
        "updated_at": pr["updated_at"],
        "closed_at": pr.get("closed_at"),
        "merged_at": pr.get("merged_at"),
        "merge_commit_sha": pr.get("merge_commit_sha"),
        "additions": pr.get("additions"),
        "deletions": pr.get("deletions"),
        "changed_files": pr.get("changed_files"),
        "html_url": pr.get("html_url"),
    }


def _ts(value: str) -> Any:
    return ensure_pendulum_datetime(value)


def _latest(*values: str | None) -> str:
    return max((v for v in values if v is not None), key=_ts)


def _later(floor: Any, cursor: str | None) -> Any:
    if cursor is None:
        return floor
    return max(floor, _ts(cursor)) if floor is not None else _ts(cursor)
