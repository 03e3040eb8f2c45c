"""GitHub's compare endpoint over a repository's history (gh_git_commits), as of the clock.

`GET /repos/{owner}/{repo}/compare/{base}...{head}` answers what `git log base..head` lists:
the commits reachable from head and not from base, oldest first, with `status` (`ahead`,
`behind`, `identical` or `diverged`), `ahead_by`, `behind_by`, `total_commits`,
`base_commit`, `merge_base_commit` and the changed `files`. Paginated as GitHub documents it:
with `per_page` or `page` the commits come in pages (Link header) and the files only with the
first page; with neither, one answer holding the 250 most recent commits. base and head are
shas (full, or an unambiguous prefix of 7 or more) or the default branch's name; a commit
GitHub does not have, or not yet by the clock, is a 404.

The store holds what is reachable from main (merge, squash and rebase commits, the PR commits
merges brought in, direct pushes); a PR's squashed or rebased-away commits are not simulated.
Main-line commits compare by position (simulator/org_simulator/git_history.py); any other pair by
walking parents.
"""

from __future__ import annotations

import json
import re
from typing import Any

from org_simulator.http import ApiError, Request, Response
from org_simulator.vendors import github_objects as obj
from org_simulator.vendors.github_transport import Page, page_args, paged

BASEHEAD = re.compile(r"(?P<base>.+?)\.\.\.(?P<head>.+)")
UNPAGED_COMMITS = 250  # without per_page or page, the most recent 250 commits
FILES_CAP = 300  # changed files listed for a whole comparison
MODULES = ("handlers", "models", "billing", "api", "settings", "tasks", "views", "utils")


def compare(req: Request, repo: dict[str, Any]) -> Response:
    match = BASEHEAD.fullmatch(req.params["basehead"])
    if not match:
        raise ApiError(404, "Not Found")
    base = _resolve(req, repo, match["base"])
    head = _resolve(req, repo, match["head"])
    ahead, behind, merge_base = _between(req, repo, base, head)
    if base["sha"] == head["sha"]:
        status = "identical"
    elif not behind:
        status = "ahead"
    elif not ahead:
        status = "behind"
    else:
        status = "diverged"
    users = obj.Users(req)
    users.load(c["author_login"] for c in (*ahead, base, merge_base))
    paging = req.arg("per_page") is not None or req.arg("page") is not None
    if paging:
        page_no, per_page = page_args(req)
        offset = (page_no - 1) * per_page
        listed = ahead[offset : offset + per_page]
        page = Page(page_no, per_page, offset, len(ahead), len(ahead))
    else:
        listed, page = ahead[-UNPAGED_COMMITS:], None
    full, basehead = repo["full_name"], req.params["basehead"]
    html = f"{obj.WEB}/{full}/compare/{basehead}"
    body = {
        "url": f"{req.base_url}/repos/{full}/compare/{basehead}",
        "html_url": html,
        "permalink_url": f"{obj.WEB}/{full}/compare/"
        f"{repo['owner']}:{base['sha']}...{repo['owner']}:{head['sha']}",
        "diff_url": f"{html}.diff",
        "patch_url": f"{html}.patch",
        "base_commit": _commit(req, repo, base, users),
        "merge_base_commit": _commit(req, repo, merge_base, users),
        "status": status,
        "ahead_by": len(ahead),
        "behind_by": len(behind),
        "total_commits": len(ahead),
        "commits": [_commit(req, repo, c, users) for c in listed],
        "files": _files(req, full, ahead) if page is None or page.page == 1 else [],
    }
    return Response(200, body) if page is None else paged(req, page, body)


def _history(req: Request, repo: dict[str, Any]) -> list[dict[str, Any]]:
    """Every commit of the repository's history, in seq order (read once per server)."""
    full = repo["full_name"]
    return req.memo(
        ("github", "git_commits", full),
        lambda: req.rows(
            "select * from gh_git_commits where repo_full_name = $1 order by seq", [full]
        ),
    )


def _visible(req: Request, repo: dict[str, Any]) -> tuple[list[dict], dict[str, dict]]:
    """The commits made by the clock, in seq order and by sha."""

    def compute() -> tuple[list[dict], dict[str, dict]]:
        rows = [
            r
            for r in _history(req, repo)
            if r["committer_date"] is not None and r["committer_date"] <= req.now
        ]
        return rows, {r["sha"]: r for r in rows}

    return req.memo(("github", "git_commits", repo["full_name"], req.now), compute)


def _resolve(req: Request, repo: dict[str, Any], ref: str) -> dict[str, Any]:
    """The commit a ref names as of the clock: the default branch's head, or a sha."""
    visible, by_sha = _visible(req, repo)
    if ref == repo["default_branch"]:
        rows = [r for r in reversed(visible) if r["seq"] is not None and r["seq"] == r["main_seq"]]
        rows = rows[:1]
    elif re.fullmatch(r"[0-9a-fA-F]{40}", ref):
        rows = [by_sha[ref.lower()]] if ref.lower() in by_sha else []
    elif re.fullmatch(r"[0-9a-fA-F]{7,39}", ref):
        prefix = ref.lower()
        rows = [r for r in visible if r["sha"] is not None and r["sha"].startswith(prefix)][:2]
    else:
        rows = []
    if len(rows) != 1:  # unknown, not yet, or an ambiguous prefix
        raise ApiError(404, "Not Found")
    return rows[0]


def _between(
    req: Request, repo: dict[str, Any], base: dict[str, Any], head: dict[str, Any]
) -> tuple[list[dict], list[dict], dict[str, Any]]:
    """(reachable from head not from base, the reverse, the merge base), in history order."""
    if base["seq"] == base["main_seq"] and head["seq"] == head["main_seq"]:
        low, high = sorted((base["seq"], head["seq"]))
        between = [
            r
            for r in _history(req, repo)
            if r["main_seq"] is not None and low < r["main_seq"] <= high
        ]
        if head["seq"] >= base["seq"]:
            return between, [], base
        return [], between, head
    everything = _visible(req, repo)[1]
    from_head, from_base = _ancestry(everything, head), _ancestry(everything, base)
    common = [everything[s] for s in from_head & from_base]
    merge_base = max(common, key=lambda r: r["seq"]) if common else base
    ahead = sorted((everything[s] for s in from_head - from_base), key=lambda r: r["seq"])
    behind = sorted((everything[s] for s in from_base - from_head), key=lambda r: r["seq"])
    return ahead, behind, merge_base


def _ancestry(commits: dict[str, dict], start: dict[str, Any]) -> set[str]:
    seen, todo = set(), [start["sha"]]
    while todo:
        sha = todo.pop()
        if sha in seen or sha not in commits:
            continue
        seen.add(sha)
        todo.extend(json.loads(commits[sha]["parents"]))
    return seen


def _commit(
    req: Request, repo: dict[str, Any], row: dict[str, Any], users: obj.Users
) -> dict[str, Any]:
    return obj.commit(req, {**row, "repo_id": repo["id"]}, json.loads(row["parents"]), users)


def _files(req: Request, full: str, commits: list[dict]) -> list[dict[str, Any]]:
    """The files the comparison changes: one module per commit that is not a merge, derived
    from its sha (the store keeps no trees)."""
    changed: dict[str, list[int]] = {}
    for c in commits:
        if len(json.loads(c["parents"])) > 1:
            continue
        digest = int(c["sha"][:8], 16)
        counts = changed.setdefault(f"src/{MODULES[digest % len(MODULES)]}.py", [0, 0])
        counts[0] += 1 + digest % 40
        counts[1] += digest % 7
    files = []
    for filename, (additions, deletions) in sorted(changed.items())[:FILES_CAP]:
        blob = obj.derived_sha("blob", full, filename, additions, deletions)
        files.append(
            {
                "sha": blob,
                "filename": filename,
                "status": "modified",
                "additions": additions,
                "deletions": deletions,
                "changes": additions + deletions,
                "blob_url": f"{obj.WEB}/{full}/blob/{blob}/{filename}",
                "raw_url": f"{obj.WEB}/{full}/raw/{blob}/{filename}",
                "contents_url": f"{req.base_url}/repos/{full}/contents/{filename}?ref={blob}",
                "patch": f"@@ -1,{deletions} +1,{additions} @@",
            }
        )
    return files
