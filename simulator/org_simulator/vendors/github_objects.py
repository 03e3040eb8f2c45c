"""GitHub REST object shapes, rendered from store rows as of the simulated clock.

API URLs inside bodies point at the server's own base URL (where `api.github.com` would be);
`html_url`s point at `https://github.com`. Ids GitHub derives (node ids, label ids, the
base-branch sha) are derived deterministically from the store's own keys.
"""

from __future__ import annotations

import base64
import hashlib
import json
from collections.abc import Iterable
from functools import lru_cache
from typing import Any
from urllib.parse import quote

from org_simulator.http import Request

WEB = "https://github.com"

# The account GitHub names as committer of commits made on the web (merges, squashes).
WEB_FLOW = {"login": "web-flow", "id": 19864447, "is_bot": False}
WEB_FLOW_EMAILS = ("noreply@github.com",)


def node_id(kind: str, key: object) -> str:
    """A legacy-format GraphQL node id, e.g. MDQ6VXNlcjE= for User 1."""
    raw = f"0{len(kind)}:{kind}{key}"
    return base64.b64encode(raw.encode()).decode()


def derived_id(*parts: object, lo: int = 10_000_000, span: int = 90_000_000) -> int:
    """A stable integer id for something the store does not number."""
    digest = hashlib.sha256("\x1f".join(map(str, parts)).encode()).digest()
    return lo + int.from_bytes(digest[:8], "big") % span


def derived_sha(*parts: object) -> str:
    return hashlib.sha1("\x1f".join(map(str, parts)).encode()).hexdigest()


# --- users ------------------------------------------------------------------------------------


class Users:
    """GitHub accounts by login, from org_people (read once per server: Request.memo)."""

    def __init__(self, req: Request):
        self.req = req
        self._known: dict[str, dict[str, Any]] = {}
        self._members: set[str] = set()

    def load(self, logins: Iterable[str | None]) -> None:
        wanted = sorted({x for x in logins if x and x not in self._known})
        if not wanted:
            return
        people = self.req.memo(("github", "people"), self._people)
        for login in wanted:
            row = people.get(login)
            if row is not None:
                self._known[login] = row
                self._members.add(login)
            else:
                self._known[login] = {
                    "login": login,
                    "id": derived_id("user", login),
                    "is_bot": False,
                }

    def _people(self) -> dict[str, dict[str, Any]]:
        """Every account of the organisation by login (the first person who has it)."""
        rows = self.req.rows(
            """select github_login as login, github_id as id, is_bot
                from org_people where github_login is not null
                order by github_login, person_id"""
        )
        people: dict[str, dict[str, Any]] = {}
        for row in rows:
            people.setdefault(row["login"], row)
        return people

    def user(self, login: str | None) -> dict[str, Any] | None:
        if not login:
            return None
        if login == WEB_FLOW["login"]:
            row = WEB_FLOW
        else:
            self.load([login])
            row = self._known[login]
        return simple_user(self.req, row["login"], int(row["id"] or derived_id("user", login)))

    def association(self, login: str | None) -> str:
        """author_association: organisation members are MEMBER; apps and others NONE."""
        if not login or login.endswith("[bot]"):
            return "NONE"
        self.load([login])
        return "MEMBER" if login in self._members else "NONE"


def simple_user(req: Request, login: str, uid: int, kind: str | None = None) -> dict[str, Any]:
    """An account as embedded in other objects: shared between answers, never changed."""
    return _simple_user(req.base_url, login, uid, kind)


@lru_cache(maxsize=4096)
def _simple_user(base_url: str, login: str, uid: int, kind: str | None) -> dict[str, Any]:
    base = f"{base_url}/users/{quote(login)}"  # dependabot%5Bbot%5D, as GitHub writes it
    kind = kind or ("Bot" if login.endswith("[bot]") else "User")
    return {
        "login": login,
        "id": uid,
        "node_id": node_id("Bot" if kind == "Bot" else kind, uid),
        "avatar_url": f"https://avatars.githubusercontent.com/u/{uid}?v=4",
        "gravatar_id": "",
        "url": base,
        "html_url": f"{WEB}/{login.removesuffix('[bot]')}"
        if kind != "Bot"
        else f"{WEB}/apps/{login.removesuffix('[bot]')}",
        "followers_url": f"{base}/followers",
        "following_url": f"{base}/following{{/other_user}}",
        "gists_url": f"{base}/gists{{/gist_id}}",
        "starred_url": f"{base}/starred{{/owner}}{{/repo}}",
        "subscriptions_url": f"{base}/subscriptions",
        "organizations_url": f"{base}/orgs",
        "repos_url": f"{base}/repos",
        "events_url": f"{base}/events{{/privacy}}",
        "received_events_url": f"{base}/received_events",
        "type": kind,
        "user_view_type": "public",
        "site_admin": False,
    }


def org_owner(req: Request, login: str) -> dict[str, Any]:
    return simple_user(req, login, derived_id("org", login), kind="Organization")


# --- repositories -----------------------------------------------------------------------------


def repository(req: Request, row: dict[str, Any]) -> dict[str, Any]:
    """The full repository object (as /repos/{o}/{r} and /orgs/{org}/repos give it)."""
    full = row["full_name"]
    api = f"{req.base_url}/repos/{full}"
    private = bool(row["private"])
    return {
        "id": row["id"],
        "node_id": node_id("Repository", row["id"]),
        "name": row["name"],
        "full_name": full,
        "private": private,
        "owner": org_owner(req, row["owner"]),
        "html_url": f"{WEB}/{full}",
        "description": row["description"],
        "fork": False,
        "url": api,
        "forks_url": f"{api}/forks",
        "keys_url": f"{api}/keys{{/key_id}}",
        "collaborators_url": f"{api}/collaborators{{/collaborator}}",
        "teams_url": f"{api}/teams",
        "hooks_url": f"{api}/hooks",
        "issue_events_url": f"{api}/issues/events{{/number}}",
        "events_url": f"{api}/events",
        "assignees_url": f"{api}/assignees{{/user}}",
        "branches_url": f"{api}/branches{{/branch}}",
        "tags_url": f"{api}/tags",
        "blobs_url": f"{api}/git/blobs{{/sha}}",
        "git_tags_url": f"{api}/git/tags{{/sha}}",
        "git_refs_url": f"{api}/git/refs{{/sha}}",
        "trees_url": f"{api}/git/trees{{/sha}}",
        "statuses_url": f"{api}/statuses/{{sha}}",
        "languages_url": f"{api}/languages",
        "stargazers_url": f"{api}/stargazers",
        "contributors_url": f"{api}/contributors",
        "subscribers_url": f"{api}/subscribers",
        "subscription_url": f"{api}/subscription",
        "commits_url": f"{api}/commits{{/sha}}",
        "git_commits_url": f"{api}/git/commits{{/sha}}",
        "comments_url": f"{api}/comments{{/number}}",
        "issue_comment_url": f"{api}/issues/comments{{/number}}",
        "contents_url": f"{api}/contents/{{+path}}",
        "compare_url": f"{api}/compare/{{base}}...{{head}}",
        "merges_url": f"{api}/merges",
        "archive_url": f"{api}/{{archive_format}}{{/ref}}",
        "downloads_url": f"{api}/downloads",
        "issues_url": f"{api}/issues{{/number}}",
        "pulls_url": f"{api}/pulls{{/number}}",
        "milestones_url": f"{api}/milestones{{/number}}",
        "notifications_url": f"{api}/notifications{{?since,all,participating}}",
        "labels_url": f"{api}/labels{{/name}}",
        "releases_url": f"{api}/releases{{/id}}",
        "deployments_url": f"{api}/deployments",
        "created_at": row["created_at"],
        "updated_at": row["pushed_at_now"],
        "pushed_at": row["pushed_at_now"],
        "git_url": f"git://github.com/{full}.git",
        "ssh_url": f"git@github.com:{full}.git",
        "clone_url": f"{WEB}/{full}.git",
        "svn_url": f"{WEB}/{full}",
        "homepage": None,
        "size": 0,
        "stargazers_count": 0,
        "watchers_count": 0,
        "language": row["language"],
        "has_issues": True,
        "has_projects": True,
        "has_downloads": True,
        "has_wiki": False,
        "has_pages": False,
        "has_discussions": False,
        "forks_count": 0,
        "mirror_url": None,
        "archived": False,
        "disabled": False,
        "open_issues_count": int(row.get("open_issues_count") or 0),
        "license": None,
        "allow_forking": False,
        "is_template": False,
        "web_commit_signoff_required": False,
        "topics": [],
        "visibility": "private" if private else "internal",
        "forks": 0,
        "open_issues": int(row.get("open_issues_count") or 0),
        "watchers": 0,
        "default_branch": row["default_branch"],
        "permissions": {
            "admin": False,
            "maintain": False,
            "push": False,
            "triage": False,
            "pull": True,
        },
    }


def minimal_repository(req: Request, row: dict[str, Any]) -> dict[str, Any]:
    """The short repository form embedded in workflow runs."""
    full = row["full_name"]
    api = f"{req.base_url}/repos/{full}"
    return {
        "id": row["id"],
        "node_id": node_id("Repository", row["id"]),
        "name": row["name"],
        "full_name": full,
        "private": bool(row["private"]),
        "owner": org_owner(req, row["owner"]),
        "html_url": f"{WEB}/{full}",
        "description": row["description"],
        "fork": False,
        "url": api,
    }


# --- pull requests ----------------------------------------------------------------------------


def labels(req: Request, repo: str, raw: str | None) -> list[dict[str, Any]]:
    """Labels kept as JSON text: a list of names, or of objects with at least a name."""
    if not raw:
        return []
    try:
        parsed = json.loads(raw)
    except ValueError:
        parsed = [x.strip() for x in raw.split(",") if x.strip()]
    out = []
    for item in parsed if isinstance(parsed, list) else []:
        entry = dict(item) if isinstance(item, dict) else {"name": str(item)}
        name = str(entry.get("name", ""))
        lid = int(entry.get("id") or derived_id("label", repo, name))
        out.append(
            {
                "id": lid,
                "node_id": entry.get("node_id") or node_id("Label", lid),
                "url": f"{req.base_url}/repos/{repo}/labels/{name}",
                "name": name,
                "color": entry.get("color") or derived_sha("color", name)[:6],
                "default": bool(entry.get("default", False)),
                "description": entry.get("description"),
            }
        )
    return out


def pull_request(
    req: Request, row: dict[str, Any], repo: dict[str, Any], users: Users, full: bool = False
) -> dict[str, Any]:
    """A PR as of the clock; `row` carries the *_now columns computed in SQL."""
    name = repo["full_name"]
    n = row["number"]
    api = f"{req.base_url}/repos/{name}"
    repo_obj = repository(req, repo)
    head_sha = row["head_sha_now"]
    base_sha = derived_sha("base", name, row["base_ref"], n)
    owner = repo["owner"]
    author = row["author_login"]
    out: dict[str, Any] = {
        "url": f"{api}/pulls/{n}",
        "id": row["id"],
        "node_id": node_id("PullRequest", row["id"]),
        "html_url": f"{WEB}/{name}/pull/{n}",
        "diff_url": f"{WEB}/{name}/pull/{n}.diff",
        "patch_url": f"{WEB}/{name}/pull/{n}.patch",
        "issue_url": f"{api}/issues/{n}",
        "number": n,
        "state": row["state_now"],
        "locked": False,
        "title": row["title"],
        "user": users.user(author),
        "body": row["body"],
        "created_at": row["created_at"],
        "updated_at": row["updated_now"],
        "closed_at": row["closed_now"],
        "merged_at": row["merged_now"],
        "merge_commit_sha": row["merge_commit_sha"] if row["merged_now"] else None,
        "assignee": None,
        "assignees": [],
        "requested_reviewers": [],
        "requested_teams": [],
        "labels": labels(req, name, row["labels"]),
        "milestone": None,
        "draft": bool(row["draft_now"]),
        "commits_url": f"{api}/pulls/{n}/commits",
        "review_comments_url": f"{api}/pulls/{n}/comments",
        "review_comment_url": f"{api}/pulls/comments{{/number}}",
        "comments_url": f"{api}/issues/{n}/comments",
        "statuses_url": f"{api}/statuses/{head_sha}",
        "head": {
            "label": f"{owner}:{row['head_ref']}",
            "ref": row["head_ref"],
            "sha": head_sha,
            "user": org_owner(req, owner),
            "repo": repo_obj,
        },
        "base": {
            "label": f"{owner}:{row['base_ref']}",
            "ref": row["base_ref"],
            "sha": base_sha,
            "user": org_owner(req, owner),
            "repo": repo_obj,
        },
        "_links": {
            "self": {"href": f"{api}/pulls/{n}"},
            "html": {"href": f"{WEB}/{name}/pull/{n}"},
            "issue": {"href": f"{api}/issues/{n}"},
            "comments": {"href": f"{api}/issues/{n}/comments"},
            "review_comments": {"href": f"{api}/pulls/{n}/comments"},
            "review_comment": {"href": f"{api}/pulls/comments{{/number}}"},
            "commits": {"href": f"{api}/pulls/{n}/commits"},
            "statuses": {"href": f"{api}/statuses/{head_sha}"},
        },
        "author_association": users.association(author),
        "auto_merge": None,
        "active_lock_reason": None,
    }
    if full:
        merged = row["merged_now"] is not None
        out.update(
            {
                "merged": merged,
                "mergeable": None if row["state_now"] == "closed" else True,
                "rebaseable": None if row["state_now"] == "closed" else True,
                "mergeable_state": "unknown" if row["state_now"] == "closed" else "clean",
                "merged_by": users.user(row["merged_by_login"]) if merged else None,
                "comments": int(row["comments_now"]),
                "review_comments": int(row["review_comments_now"]),
                "maintainer_can_modify": False,
                "commits": int(row["commits_now"]),
                "additions": int(row["additions"] or 0),
                "deletions": int(row["deletions"] or 0),
                "changed_files": int(row["changed_files"] or 0),
            }
        )
    return out


def review(req: Request, row: dict[str, Any], users: Users) -> dict[str, Any]:
    name, n = row["repo_full_name"], row["pr_number"]
    html = f"{WEB}/{name}/pull/{n}#pullrequestreview-{row['id']}"
    pr_api = f"{req.base_url}/repos/{name}/pulls/{n}"
    return {
        "id": row["id"],
        "node_id": node_id("PullRequestReview", row["id"]),
        "user": users.user(row["user_login"]),
        "body": row["body"] or "",
        "state": row["state"],
        "html_url": html,
        "pull_request_url": pr_api,
        "author_association": users.association(row["user_login"]),
        "_links": {"html": {"href": html}, "pull_request": {"href": pr_api}},
        "submitted_at": row["submitted_at"],
        "commit_id": row["commit_id"],
    }


def review_comment(req: Request, row: dict[str, Any], users: Users) -> dict[str, Any]:
    name, n, cid = row["repo_full_name"], row["pr_number"], row["id"]
    api = f"{req.base_url}/repos/{name}/pulls/comments/{cid}"
    pr_api = f"{req.base_url}/repos/{name}/pulls/{n}"
    html = f"{WEB}/{name}/pull/{n}#discussion_r{cid}"
    line = row["line"]
    return {
        "url": api,
        "pull_request_review_id": row["review_id"],
        "id": cid,
        "node_id": node_id("PullRequestReviewComment", cid),
        "diff_hunk": f"@@ -{line or 1},1 +{line or 1},1 @@",
        "path": row["path"],
        "position": line,
        "original_position": line,
        "commit_id": row["commit_id"],
        "original_commit_id": row["commit_id"],
        "user": users.user(row["user_login"]),
        "body": row["body"],
        "created_at": row["created_at"],
        "updated_at": row["updated_now"],
        "html_url": html,
        "pull_request_url": pr_api,
        "author_association": users.association(row["user_login"]),
        "_links": {
            "self": {"href": api},
            "html": {"href": html},
            "pull_request": {"href": pr_api},
        },
        "reactions": reactions(api),
        "start_line": None,
        "original_start_line": None,
        "start_side": None,
        "line": line,
        "original_line": line,
        "side": "RIGHT",
        "subject_type": "line",
    }


def issue_comment(req: Request, row: dict[str, Any], users: Users) -> dict[str, Any]:
    name, n, cid = row["repo_full_name"], row["pr_number"], row["id"]
    api = f"{req.base_url}/repos/{name}/issues/comments/{cid}"
    return {
        "url": api,
        "html_url": f"{WEB}/{name}/pull/{n}#issuecomment-{cid}",
        "issue_url": f"{req.base_url}/repos/{name}/issues/{n}",
        "id": cid,
        "node_id": node_id("IssueComment", cid),
        "user": users.user(row["user_login"]),
        "created_at": row["created_at"],
        "updated_at": row["updated_now"],
        "author_association": users.association(row["user_login"]),
        "body": row["body"],
        "reactions": reactions(api),
        "performed_via_github_app": None,
    }


def reactions(api: str) -> dict[str, Any]:
    counts = {k: 0 for k in ("+1", "-1", "laugh", "hooray", "confused", "heart", "rocket")}
    return {"url": f"{api}/reactions", "total_count": 0, **counts, "eyes": 0}


def _commit_user(users: Users, login: str | None, email: str | None) -> dict[str, Any] | None:
    if email in WEB_FLOW_EMAILS:
        return users.user(WEB_FLOW["login"])
    return users.user(login)


def commit(req: Request, row: dict[str, Any], parents: list[str], users: Users) -> dict[str, Any]:
    name, sha = row["repo_full_name"], row["sha"]
    api = f"{req.base_url}/repos/{name}"
    tree = derived_sha("tree", name, sha)
    committer_login = row.get("committer_login")  # git history rows say; PR commits do not
    if "committer_login" not in row and row["committer_email"] == row["author_email"]:
        committer_login = row["author_login"]
    return {
        "sha": sha,
        "node_id": node_id("Commit", f"{row['repo_id']}:{sha}"),
        "commit": {
            "author": {
                "name": row["author_name"],
                "email": row["author_email"],
                "date": row["author_date"],
            },
            "committer": {
                "name": row["committer_name"],
                "email": row["committer_email"],
                "date": row["committer_date"],
            },
            "message": row["message"],
            "tree": {"sha": tree, "url": f"{api}/git/trees/{tree}"},
            "url": f"{api}/git/commits/{sha}",
            "comment_count": 0,
            "verification": {
                "verified": False,
                "reason": "unsigned",
                "signature": None,
                "payload": None,
                "verified_at": None,
            },
        },
        "url": f"{api}/commits/{sha}",
        "html_url": f"{WEB}/{name}/commit/{sha}",
        "comments_url": f"{api}/commits/{sha}/comments",
        "author": users.user(row["author_login"]),
        "committer": _commit_user(users, committer_login, row["committer_email"]),
        "parents": [
            {
                "sha": parent,
                "url": f"{api}/commits/{parent}",
                "html_url": f"{WEB}/{name}/commit/{parent}",
            }
            for parent in parents
        ],
    }


# --- deployments ------------------------------------------------------------------------------


def deployment(req: Request, row: dict[str, Any], users: Users) -> dict[str, Any]:
    name, did = row["repo_full_name"], row["id"]
    api = f"{req.base_url}/repos/{name}"
    try:
        payload = json.loads(row["payload"]) if row["payload"] else {}
    except ValueError:
        payload = row["payload"]
    return {
        "url": f"{api}/deployments/{did}",
        "id": did,
        "node_id": node_id("Deployment", did),
        "task": row["task"] or "deploy",
        "original_environment": row["environment"],
        "environment": row["environment"],
        "description": row["description"],
        "created_at": row["created_at"],
        "updated_at": row["updated_now"],
        "statuses_url": f"{api}/deployments/{did}/statuses",
        "repository_url": api,
        "creator": users.user(row["creator_login"]),
        "sha": row["sha"],
        "ref": row["ref"],
        "payload": payload,
        "transient_environment": False,
        "production_environment": bool(row["production_environment"]),
        "performed_via_github_app": None,
    }


def deployment_status(req: Request, row: dict[str, Any], users: Users) -> dict[str, Any]:
    name, did, sid = row["repo_full_name"], row["deployment_id"], row["id"]
    api = f"{req.base_url}/repos/{name}"
    return {
        "url": f"{api}/deployments/{did}/statuses/{sid}",
        "id": sid,
        "node_id": node_id("DeploymentStatus", sid),
        "state": row["state"],
        "creator": users.user(row["creator_login"]),
        "description": row["description"] or "",
        "environment": row["environment"],
        "target_url": "",
        "created_at": row["created_at"],
        "updated_at": row["created_at"],
        "deployment_url": f"{api}/deployments/{did}",
        "repository_url": api,
        "environment_url": "",
        "log_url": "",
        "performed_via_github_app": None,
    }


# --- actions ----------------------------------------------------------------------------------


def workflow_run(
    req: Request,
    row: dict[str, Any],
    repo: dict[str, Any],
    users: Users,
    head_commit: dict[str, Any] | None,
    pr: dict[str, Any] | None,
) -> dict[str, Any]:
    name, rid = repo["full_name"], row["id"]
    api = f"{req.base_url}/repos/{name}"
    run_api = f"{api}/actions/runs/{rid}"
    attempt = int(row["attempt_now"])
    suite = derived_id("check_suite", rid, lo=1_000_000_000, span=900_000_000)
    pulls = []
    if pr is not None:
        repo_ref = {"id": repo["id"], "url": api, "name": repo["name"]}
        pulls.append(
            {
                "url": f"{api}/pulls/{pr['number']}",
                "id": pr["id"],
                "number": pr["number"],
                "head": {"ref": pr["head_ref"], "sha": row["head_sha"], "repo": repo_ref},
                "base": {
                    "ref": pr["base_ref"],
                    "sha": derived_sha("base", name, pr["base_ref"], pr["number"]),
                    "repo": repo_ref,
                },
            }
        )
    actor = users.user(row["actor_login"])
    return {
        "id": rid,
        "name": row["name"],
        "node_id": node_id("WorkflowRun", rid),
        "head_branch": row["head_branch"],
        "head_sha": row["head_sha"],
        "path": row["path"],
        "display_title": _display_title(row, head_commit, pr),
        "run_number": row["run_number"],
        "event": row["event"],
        "status": row["status_now"],
        "conclusion": row["conclusion_now"],
        "workflow_id": row["workflow_id"],
        "check_suite_id": suite,
        "check_suite_node_id": node_id("CheckSuite", suite),
        "url": run_api,
        "html_url": f"{WEB}/{name}/actions/runs/{rid}",
        "pull_requests": pulls,
        "created_at": row["created_at"],
        "updated_at": row["updated_now"],
        "actor": actor,
        "run_attempt": attempt,
        "referenced_workflows": [],
        "run_started_at": row["started_now"],
        "triggering_actor": actor,
        "jobs_url": f"{run_api}/jobs",
        "logs_url": f"{run_api}/logs",
        "check_suite_url": f"{api}/check-suites/{suite}",
        "artifacts_url": f"{run_api}/artifacts",
        "cancel_url": f"{run_api}/cancel",
        "rerun_url": f"{run_api}/rerun",
        "previous_attempt_url": f"{run_api}/attempts/{attempt - 1}" if attempt > 1 else None,
        "workflow_url": f"{api}/actions/workflows/{row['workflow_id']}",
        "head_commit": head_commit,
        "repository": minimal_repository(req, repo),
        "head_repository": minimal_repository(req, repo),
    }


def _display_title(
    row: dict[str, Any], commit: dict[str, Any] | None, pr: dict[str, Any] | None
) -> str:
    """A PR's title for its runs, else the head commit's subject, else the workflow name."""
    if pr is not None and pr.get("title"):
        return pr["title"]
    if commit is not None and commit.get("message"):
        return commit["message"].split("\n")[0]
    return row["name"] or ""


def head_commit(row: dict[str, Any] | None, tree_key: str) -> dict[str, Any] | None:
    if row is None:
        return None
    return {
        "id": row["sha"],
        "tree_id": derived_sha("tree", tree_key, row["sha"]),
        "message": row["message"],
        "timestamp": row["committer_date"],
        "author": {"name": row["author_name"], "email": row["author_email"]},
        "committer": {"name": row["committer_name"], "email": row["committer_email"]},
    }


@lru_cache(maxsize=1024)  # a few runners run every job
def _runner_id(runner: str) -> int:
    return derived_id("runner", runner, lo=1, span=100_000)


def workflow_job(req: Request, row: dict[str, Any], run: dict[str, Any]) -> dict[str, Any]:
    name, jid = row["repo_full_name"], row["id"]
    api = f"{req.base_url}/repos/{name}"
    runner = row["runner_name"] if row["status_now"] != "queued" else None
    return {
        "id": jid,
        "run_id": row["run_id"],
        "workflow_name": run["name"],
        "head_branch": run["head_branch"],
        "run_url": f"{api}/actions/runs/{row['run_id']}",
        "run_attempt": row["run_attempt"],
        "node_id": node_id("CheckRun", jid),
        "head_sha": row["head_sha"],
        "url": f"{api}/actions/jobs/{jid}",
        "html_url": f"{WEB}/{name}/actions/runs/{row['run_id']}/job/{jid}",
        "status": row["status_now"],
        "conclusion": row["conclusion_now"],
        "created_at": row["created_at"],
        "started_at": row["started_now"],
        "completed_at": row["completed_now"],
        "name": row["name"],
        "steps": [],
        "check_run_url": f"{api}/check-runs/{jid}",
        "labels": ["ubuntu-latest"],
        "runner_id": _runner_id(runner) if runner else None,
        "runner_name": runner,
        "runner_group_id": 1 if runner else None,
        "runner_group_name": "GitHub Actions" if runner else None,
    }
