"""The GitHub tables (pipelines.sources.tables): each one's typed columns, what each resource's
rows are checked against (pipelines.sources.contract), and where GitHub's records hold the
values. `required_for` marks the fields the models need and the marts they feed, `set_when`
the invariants between fields (pipelines.sources.field_rules): a record breaking either is
quarantined, not loaded half-empty. The repository and parent a record was listed under are
`context` columns, given by the resource that reads the list."""

from __future__ import annotations

import re
from functools import partial
from typing import Any

from pipelines.sources.tables import RECORD, Column, Table

# The marts that read each group of fields (followed from the staging models).
SHIPPING_MARTS = (
    "fct_pull_requests",
    "mart_delivery_funnel",
    "mart_dora",
    "mart_production_survival",
    "mart_survival_curve",
    "mart_bugs_per_shipped_pr",
    "mart_cost_per_outcome",
    "mart_outcome_board",
)
AUTHOR_MARTS = ("fct_pull_requests", "mart_outcome_board", "mart_spend_vs_output")
REVIEW_MARTS = ("fct_pull_requests", "mart_review_hours")
AI_MARTS = ("fct_pull_requests", "mart_ai_assisted_outcomes", "mart_cost_per_outcome_by_ai")
DEPLOYMENT_MARTS = ("mart_dora", "mart_production_survival", "mart_survival_curve")


def account(prefix: str, **login: Any) -> list[Column]:
    """An account's login, id and type (User, Bot, Organization), from the object `prefix`:
    all null for a deleted or unlinked one. `login`: more about the login column."""
    return [
        Column(f"{prefix}_login", path=f"{prefix}.login", **login),
        Column(f"{prefix}_id", "bigint", path=f"{prefix}.id"),
        Column(f"{prefix}_type", path=f"{prefix}.type"),
    ]


# The repository (`owner/name`) a record was listed under, as the resource reads it.
REPO_FULL_NAME = Column("repo_full_name", nullable=False, context=True)


def listed_or_empty(values: list[Any] | None) -> list[Any]:
    return values or []


def label_names(labels: list[dict[str, Any]] | None) -> list[str]:
    return [label["name"] for label in labels or [] if label.get("name")]


def count(items: list[Any] | None) -> int:
    return len(items or [])


def updated_or_created(record: dict[str, Any]) -> Any:
    """`updated_at`, or `created_at` for a record GitHub has not updated since."""
    return record.get("updated_at") or record["created_at"]


_NUMBER_IN_URL = {kind: re.compile(rf"/{kind}/(\d+)/?$") for kind in ("pulls", "issues")}


def number_from_url(url: str | None, kind: str) -> int | None:
    """The PR or issue number at the end of an API URL (`.../pulls/12`, `.../issues/12`)."""
    match = _NUMBER_IN_URL[kind].search(url or "")
    return int(match.group(1)) if match else None


def pull_request_numbers(pull_requests: list[dict[str, Any]] | None) -> list[int]:
    return [pr["number"] for pr in pull_requests or [] if pr.get("number") is not None]


REPOSITORIES = Table(
    "repositories",
    [
        Column("id", "bigint", nullable=False),
        Column("full_name", nullable=False),
        Column("name"),
        Column("owner_login", path="owner.login"),
        Column("description"),
        Column("private", "bool"),
        Column("visibility"),
        Column("fork", "bool"),
        Column("archived", "bool"),
        Column("default_branch"),
        Column("language"),
        Column("topics", "json", derive=listed_or_empty),
        Column("created_at", "timestamp"),
        Column("updated_at", "timestamp"),
        Column("pushed_at", "timestamp"),
        Column("html_url"),
    ],
)

PULL_REQUESTS = Table(
    "pull_requests",
    [
        Column("id", "bigint", nullable=False),
        Column("number", "bigint", nullable=False),
        # Its base repository as GitHub names it. Not strict: a base or name left out reads
        # as a null name, which the contract refuses as null.
        Column("repo_full_name", nullable=False, path="base.repo.full_name", strict=False),
        Column("title"),
        Column("body"),
        Column("state", required_for=SHIPPING_MARTS),
        Column("draft", "bool"),
        *account("user", required_for=AUTHOR_MARTS),
        Column("author_association"),
        Column("head_ref", path="head.ref"),
        Column("head_sha", path="head.sha"),
        Column("base_ref", path="base.ref"),
        # Label names as one JSON array: marts filter on them, a child table buys nothing.
        Column("labels", "json", derive=label_names),
        Column("created_at", "timestamp", required_for=SHIPPING_MARTS),
        Column("updated_at", "timestamp", nullable=False),
        Column(
            "closed_at",
            "timestamp",
            required_for=SHIPPING_MARTS,
            set_when={"state": "closed"},
        ),
        # Both endpoints serve it (null until merged); only the single one serves `merged`.
        Column("merged_at", "timestamp", required_for=SHIPPING_MARTS, set_when={"merged": True}),
        Column("merge_commit_sha"),
        # From here on only the single-PR endpoint serves the values; a row that could only be
        # read from the list (its single read was quarantined) leaves them null.
        Column("merged", "bool"),
        Column("merged_by_login", path="merged_by.login"),
        Column("merged_by_id", "bigint", path="merged_by.id"),
        Column("additions", "bigint"),
        Column("deletions", "bigint"),
        Column("changed_files", "bigint"),
        # Counts as GitHub reports them: `commits` beyond 250 exceed what the commits list shows.
        Column("commits", "bigint"),
        Column("comments", "bigint"),
        Column("review_comments", "bigint"),
        Column("html_url"),
    ],
)

REVIEWS = Table(
    "pull_request_reviews",
    [
        Column("id", "bigint", nullable=False),
        REPO_FULL_NAME,
        Column("pr_number", "bigint", nullable=False, context=True),
        *account("user", required_for=REVIEW_MARTS),
        Column("state", required_for=REVIEW_MARTS),
        Column("body"),
        # Absent from a pending review (only its author sees one): not required.
        Column("submitted_at", "timestamp"),
        Column("commit_id"),
        Column("author_association"),
        Column("html_url"),
    ],
)

REVIEW_COMMENTS = Table(
    "pull_request_review_comments",
    [
        Column("id", "bigint", nullable=False),
        REPO_FULL_NAME,
        # From the PR's API URL. Not strict: a comment without one has a null number, which
        # the contract refuses as null.
        Column(
            "pr_number",
            "bigint",
            nullable=False,
            path="pull_request_url",
            derive=partial(number_from_url, kind="pulls"),
            strict=False,
        ),
        Column("pull_request_review_id", "bigint"),
        Column("in_reply_to_id", "bigint"),
        *account("user"),
        Column("body"),
        Column("path"),
        Column("line", "bigint"),
        Column("original_line", "bigint"),
        Column("side"),
        Column("commit_id"),
        Column("original_commit_id"),
        Column("author_association"),
        Column("created_at", "timestamp"),
        Column("updated_at", "timestamp", nullable=False),
        Column("html_url"),
    ],
)

COMMITS = Table(
    "pull_request_commits",
    [
        REPO_FULL_NAME,
        Column("pr_number", "bigint", nullable=False, context=True),
        Column("sha", nullable=False),
        # The whole message: AI co-author trailers live in its last lines.
        Column("message", path="commit.message", required_for=AI_MARTS),
        Column("author_name", path="commit.author.name"),
        Column("author_email", path="commit.author.email"),
        Column("author_date", "timestamp", path="commit.author.date"),
        Column("committer_name", path="commit.committer.name"),
        Column("committer_email", path="commit.committer.email"),
        Column("committer_date", "timestamp", path="commit.committer.date"),
        # The GitHub accounts of the author and committer: null when the email maps to none.
        *account("author"),
        *account("committer"),
        Column("parents_count", "bigint", path="parents", derive=count),
        Column("html_url"),
    ],
)

ISSUE_COMMENTS = Table(
    "issue_comments",
    [
        Column("id", "bigint", nullable=False),
        REPO_FULL_NAME,
        # A PR is an issue: the number joins to pull_requests.number (and to plain issues).
        # From the issue's API URL; not strict, as a review comment's `pr_number`.
        Column(
            "issue_number",
            "bigint",
            nullable=False,
            path="issue_url",
            derive=partial(number_from_url, kind="issues"),
            strict=False,
        ),
        *account("user"),
        Column("body"),
        Column("author_association"),
        Column("created_at", "timestamp"),
        Column("updated_at", "timestamp", nullable=False),
        Column("html_url"),
    ],
)

DEPLOYMENTS = Table(
    "deployments",
    [
        Column("id", "bigint", nullable=False),
        REPO_FULL_NAME,
        Column("sha", required_for=DEPLOYMENT_MARTS),
        Column("ref"),
        Column("task"),
        Column("environment", required_for=DEPLOYMENT_MARTS),
        Column("original_environment"),
        Column("production_environment", "bool"),
        Column("transient_environment", "bool"),
        Column("description"),
        *account("creator"),
        # Free-form JSON the deployer sent (the simulated one carries `previous_sha`).
        Column("payload", "json"),
        Column("created_at", "timestamp", nullable=False),
        Column("updated_at", "timestamp", nullable=False, path=RECORD, derive=updated_or_created),
    ],
)

DEPLOYMENT_STATUSES = Table(
    "deployment_statuses",
    [
        Column("id", "bigint", nullable=False),
        Column("deployment_id", "bigint", nullable=False, context=True),
        REPO_FULL_NAME,
        Column("state", required_for=DEPLOYMENT_MARTS),
        Column("environment"),
        Column("description"),
        *account("creator"),
        Column("created_at", "timestamp", nullable=False),
        Column("updated_at", "timestamp"),
    ],
)

# One row per (deployment, previous deployment) pair compared: what GitHub's compare of the
# two shas answered (pipelines.sources.github.ranges). The pair is the loader's; the rest is
# the comparison's first page.
DEPLOYMENT_RANGES = Table(
    "deployment_ranges",
    [
        Column("deployment_id", "bigint", nullable=False, context=True),
        Column("base_deployment_id", "bigint", nullable=False, context=True),
        REPO_FULL_NAME,
        Column("environment", context=True),
        Column("base_sha", context=True),
        Column("head_sha", context=True),
        # ahead | behind | identical | diverged as GitHub says; not_found (404); unavailable
        Column("status", strict=True),
        Column("ahead_by", "bigint"),
        Column("behind_by", "bigint"),
        Column("total_commits", "bigint"),
        # rows written to deployment_range_commits for the pair: fewer than total_commits means
        # the list is incomplete
        Column("commits_loaded", "bigint", context=True),
        Column("compared_at", "timestamp", nullable=False, context=True),
    ],
)

DEPLOYMENT_RANGE_COMMITS = Table(
    "deployment_range_commits",
    [
        Column("deployment_id", "bigint", nullable=False, context=True),
        Column("base_deployment_id", "bigint", nullable=False, context=True),
        REPO_FULL_NAME,
        Column("sha", nullable=False),
        # in the compare answer, from 0: set once the commit conformed
        Column("position", "bigint", context=True),
        Column("author_date", "timestamp", path="commit.author.date"),
        Column("committer_date", "timestamp", path="commit.committer.date"),
        Column("parents_count", "bigint", path="parents", derive=count),
    ],
)

WORKFLOW_RUNS = Table(
    "workflow_runs",
    [
        Column("id", "bigint", nullable=False),
        REPO_FULL_NAME,
        Column("workflow_id", "bigint"),
        # The check suite the run reports through; GitHub may leave it out.
        Column("check_suite_id", "bigint"),
        Column("name"),
        Column("display_title"),
        Column("path"),
        Column("event"),
        Column("head_branch"),
        Column("head_sha"),
        # Numbers of the PRs the run belongs to, as a JSON array.
        Column("pull_request_numbers", "json", path="pull_requests", derive=pull_request_numbers),
        *account("actor"),
        Column("triggering_actor_login", path="triggering_actor.login"),
        Column("run_number", "bigint"),
        Column("run_attempt", "bigint"),
        Column("status"),
        Column("conclusion"),
        Column("created_at", "timestamp", nullable=False),
        Column("run_started_at", "timestamp"),
        Column("updated_at", "timestamp", nullable=False, path=RECORD, derive=updated_or_created),
        Column("html_url"),
    ],
)

WORKFLOW_JOBS = Table(
    "workflow_jobs",
    [
        Column("id", "bigint", nullable=False),
        Column("run_id", "bigint", nullable=False),
        REPO_FULL_NAME,
        Column("run_attempt", "bigint"),
        Column("workflow_name"),
        Column("name"),
        Column("head_sha"),
        Column("head_branch"),
        Column("status"),
        Column("conclusion"),
        Column("created_at", "timestamp"),
        Column("started_at", "timestamp"),
        Column("completed_at", "timestamp"),
        Column("runner_name"),
        Column("runner_group_name"),
        Column("labels", "json", derive=listed_or_empty),
        Column("html_url"),
    ],
)
