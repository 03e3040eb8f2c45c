"""The typed columns of the GitHub tables: what each resource's rows are checked against
(pipelines.sources.contract), and the dlt column hints of its table. `required_for` marks the
fields the models need and the marts they feed, `set_when` the invariants between fields
(pipelines.sources.field_rules): a record breaking either is quarantined, not loaded
half-empty."""

from __future__ import annotations

from typing import Any

from dlt.common.schema.typing import TTableSchemaColumns

from pipelines.sources.field_rules import required_for, set_when

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


def user_columns(prefix: str) -> TTableSchemaColumns:
    """An account's login, id and type (User, Bot, Organization)."""
    return {
        f"{prefix}_login": {"data_type": "text"},
        f"{prefix}_id": {"data_type": "bigint"},
        f"{prefix}_type": {"data_type": "text"},
    }


REPOSITORY_COLUMNS: TTableSchemaColumns = {
    "id": {"data_type": "bigint", "nullable": False},
    "full_name": {"data_type": "text", "nullable": False},
    "name": {"data_type": "text"},
    "owner_login": {"data_type": "text"},
    "description": {"data_type": "text"},
    "private": {"data_type": "bool"},
    "visibility": {"data_type": "text"},
    "fork": {"data_type": "bool"},
    "archived": {"data_type": "bool"},
    "default_branch": {"data_type": "text"},
    "language": {"data_type": "text"},
    "topics": {"data_type": "json"},
    "created_at": {"data_type": "timestamp"},
    "updated_at": {"data_type": "timestamp"},
    "pushed_at": {"data_type": "timestamp"},
    "html_url": {"data_type": "text"},
}

PULL_REQUEST_COLUMNS: TTableSchemaColumns = {
    "id": {"data_type": "bigint", "nullable": False},
    "number": {"data_type": "bigint", "nullable": False},
    "repo_full_name": {"data_type": "text", "nullable": False},
    "title": {"data_type": "text"},
    "body": {"data_type": "text"},
    "state": {"data_type": "text", **required_for(*SHIPPING_MARTS)},
    "draft": {"data_type": "bool"},
    **user_columns("user"),
    "user_login": {"data_type": "text", **required_for(*AUTHOR_MARTS, field="user.login")},
    "author_association": {"data_type": "text"},
    "head_ref": {"data_type": "text"},
    "head_sha": {"data_type": "text"},
    "base_ref": {"data_type": "text"},
    # Label names as one JSON array: marts filter on them, a child table buys nothing.
    "labels": {"data_type": "json"},
    "created_at": {"data_type": "timestamp", **required_for(*SHIPPING_MARTS)},
    "updated_at": {"data_type": "timestamp", "nullable": False},
    "closed_at": {
        "data_type": "timestamp",
        **required_for(*SHIPPING_MARTS),
        **set_when(state="closed"),
    },
    # Both endpoints serve it (null until merged); only the single one serves `merged`.
    "merged_at": {
        "data_type": "timestamp",
        **required_for(*SHIPPING_MARTS),
        **set_when(merged=True),
    },
    "merge_commit_sha": {"data_type": "text"},
    # From here on only the single-PR endpoint serves the values; a row that could only be
    # read from the list (its single read was quarantined) leaves them null.
    "merged": {"data_type": "bool"},
    "merged_by_login": {"data_type": "text"},
    "merged_by_id": {"data_type": "bigint"},
    "additions": {"data_type": "bigint"},
    "deletions": {"data_type": "bigint"},
    "changed_files": {"data_type": "bigint"},
    # Counts as GitHub reports them: `commits` beyond 250 exceed what the commits list shows.
    "commits": {"data_type": "bigint"},
    "comments": {"data_type": "bigint"},
    "review_comments": {"data_type": "bigint"},
    "html_url": {"data_type": "text"},
}

REVIEW_COLUMNS: TTableSchemaColumns = {
    "id": {"data_type": "bigint", "nullable": False},
    "repo_full_name": {"data_type": "text", "nullable": False},
    "pr_number": {"data_type": "bigint", "nullable": False},
    **user_columns("user"),
    "user_login": {"data_type": "text", **required_for(*REVIEW_MARTS, field="user.login")},
    "state": {"data_type": "text", **required_for(*REVIEW_MARTS)},
    "body": {"data_type": "text"},
    # Absent from a pending review (only its author sees one): not required.
    "submitted_at": {"data_type": "timestamp"},
    "commit_id": {"data_type": "text"},
    "author_association": {"data_type": "text"},
    "html_url": {"data_type": "text"},
}

REVIEW_COMMENT_COLUMNS: TTableSchemaColumns = {
    "id": {"data_type": "bigint", "nullable": False},
    "repo_full_name": {"data_type": "text", "nullable": False},
    "pr_number": {"data_type": "bigint", "nullable": False},
    "pull_request_review_id": {"data_type": "bigint"},
    "in_reply_to_id": {"data_type": "bigint"},
    **user_columns("user"),
    "body": {"data_type": "text"},
    "path": {"data_type": "text"},
    "line": {"data_type": "bigint"},
    "original_line": {"data_type": "bigint"},
    "side": {"data_type": "text"},
    "commit_id": {"data_type": "text"},
    "original_commit_id": {"data_type": "text"},
    "author_association": {"data_type": "text"},
    "created_at": {"data_type": "timestamp"},
    "updated_at": {"data_type": "timestamp", "nullable": False},
    "html_url": {"data_type": "text"},
}

COMMIT_COLUMNS: TTableSchemaColumns = {
    "repo_full_name": {"data_type": "text", "nullable": False},
    "pr_number": {"data_type": "bigint", "nullable": False},
    "sha": {"data_type": "text", "nullable": False},
    # The whole message: AI co-author trailers live in its last lines.
    "message": {"data_type": "text", **required_for(*AI_MARTS, field="commit.message")},
    "author_name": {"data_type": "text"},
    "author_email": {"data_type": "text"},
    "author_date": {"data_type": "timestamp"},
    "committer_name": {"data_type": "text"},
    "committer_email": {"data_type": "text"},
    "committer_date": {"data_type": "timestamp"},
    # The GitHub accounts of the author and committer: null when the email maps to none.
    **user_columns("author"),
    **user_columns("committer"),
    "parents_count": {"data_type": "bigint"},
    "html_url": {"data_type": "text"},
}

ISSUE_COMMENT_COLUMNS: TTableSchemaColumns = {
    "id": {"data_type": "bigint", "nullable": False},
    "repo_full_name": {"data_type": "text", "nullable": False},
    # A PR is an issue: the number joins to pull_requests.number (and to plain issues).
    "issue_number": {"data_type": "bigint", "nullable": False},
    **user_columns("user"),
    "body": {"data_type": "text"},
    "author_association": {"data_type": "text"},
    "created_at": {"data_type": "timestamp"},
    "updated_at": {"data_type": "timestamp", "nullable": False},
    "html_url": {"data_type": "text"},
}

DEPLOYMENT_COLUMNS: TTableSchemaColumns = {
    "id": {"data_type": "bigint", "nullable": False},
    "repo_full_name": {"data_type": "text", "nullable": False},
    "sha": {"data_type": "text", **required_for(*DEPLOYMENT_MARTS)},
    "ref": {"data_type": "text"},
    "task": {"data_type": "text"},
    "environment": {"data_type": "text", **required_for(*DEPLOYMENT_MARTS)},
    "original_environment": {"data_type": "text"},
    "production_environment": {"data_type": "bool"},
    "transient_environment": {"data_type": "bool"},
    "description": {"data_type": "text"},
    **user_columns("creator"),
    # Free-form JSON the deployer sent (the simulated one carries `previous_sha`).
    "payload": {"data_type": "json"},
    "created_at": {"data_type": "timestamp", "nullable": False},
    "updated_at": {"data_type": "timestamp", "nullable": False},
}

DEPLOYMENT_STATUS_COLUMNS: TTableSchemaColumns = {
    "id": {"data_type": "bigint", "nullable": False},
    "deployment_id": {"data_type": "bigint", "nullable": False},
    "repo_full_name": {"data_type": "text", "nullable": False},
    "state": {"data_type": "text", **required_for(*DEPLOYMENT_MARTS)},
    "environment": {"data_type": "text"},
    "description": {"data_type": "text"},
    **user_columns("creator"),
    "created_at": {"data_type": "timestamp", "nullable": False},
    "updated_at": {"data_type": "timestamp"},
}

# One row per (deployment, previous deployment) pair compared: what GitHub's compare of the
# two shas answered (pipelines.sources.github.ranges).
DEPLOYMENT_RANGE_COLUMNS: TTableSchemaColumns = {
    "deployment_id": {"data_type": "bigint", "nullable": False},
    "base_deployment_id": {"data_type": "bigint", "nullable": False},
    "repo_full_name": {"data_type": "text", "nullable": False},
    "environment": {"data_type": "text"},
    "base_sha": {"data_type": "text"},
    "head_sha": {"data_type": "text"},
    # ahead | behind | identical | diverged as GitHub says; not_found (404); unavailable
    "status": {"data_type": "text"},
    "ahead_by": {"data_type": "bigint"},
    "behind_by": {"data_type": "bigint"},
    "total_commits": {"data_type": "bigint"},
    # rows written to deployment_range_commits for the pair: fewer than total_commits means
    # the list is incomplete
    "commits_loaded": {"data_type": "bigint"},
    "compared_at": {"data_type": "timestamp", "nullable": False},
}

DEPLOYMENT_RANGE_COMMIT_COLUMNS: TTableSchemaColumns = {
    "deployment_id": {"data_type": "bigint", "nullable": False},
    "base_deployment_id": {"data_type": "bigint", "nullable": False},
    "repo_full_name": {"data_type": "text", "nullable": False},
    "sha": {"data_type": "text", "nullable": False},
    "position": {"data_type": "bigint"},  # in the compare answer, from 0
    "author_date": {"data_type": "timestamp"},
    "committer_date": {"data_type": "timestamp"},
    "parents_count": {"data_type": "bigint"},
}

WORKFLOW_RUN_COLUMNS: TTableSchemaColumns = {
    "id": {"data_type": "bigint", "nullable": False},
    "repo_full_name": {"data_type": "text", "nullable": False},
    "workflow_id": {"data_type": "bigint"},
    # The check suite the run reports through; GitHub may leave it out.
    "check_suite_id": {"data_type": "bigint"},
    "name": {"data_type": "text"},
    "display_title": {"data_type": "text"},
    "path": {"data_type": "text"},
    "event": {"data_type": "text"},
    "head_branch": {"data_type": "text"},
    "head_sha": {"data_type": "text"},
    # Numbers of the PRs the run belongs to, as a JSON array.
    "pull_request_numbers": {"data_type": "json"},
    **user_columns("actor"),
    "triggering_actor_login": {"data_type": "text"},
    "run_number": {"data_type": "bigint"},
    "run_attempt": {"data_type": "bigint"},
    "status": {"data_type": "text"},
    "conclusion": {"data_type": "text"},
    "created_at": {"data_type": "timestamp", "nullable": False},
    "run_started_at": {"data_type": "timestamp"},
    "updated_at": {"data_type": "timestamp", "nullable": False},
    "html_url": {"data_type": "text"},
}

WORKFLOW_JOB_COLUMNS: TTableSchemaColumns = {
    "id": {"data_type": "bigint", "nullable": False},
    "run_id": {"data_type": "bigint", "nullable": False},
    "repo_full_name": {"data_type": "text", "nullable": False},
    "run_attempt": {"data_type": "bigint"},
    "workflow_name": {"data_type": "text"},
    "name": {"data_type": "text"},
    "head_sha": {"data_type": "text"},
    "head_branch": {"data_type": "text"},
    "status": {"data_type": "text"},
    "conclusion": {"data_type": "text"},
    "created_at": {"data_type": "timestamp"},
    "started_at": {"data_type": "timestamp"},
    "completed_at": {"data_type": "timestamp"},
    "runner_name": {"data_type": "text"},
    "runner_group_name": {"data_type": "text"},
    "labels": {"data_type": "json"},
    "html_url": {"data_type": "text"},
}


def user(account: dict[str, Any] | None, prefix: str) -> dict[str, Any]:
    """A GitHub account as the three `user_columns`; all null for a deleted or unlinked one."""
    account = account or {}
    return {
        f"{prefix}_login": account.get("login"),
        f"{prefix}_id": account.get("id"),
        f"{prefix}_type": account.get("type"),
    }
