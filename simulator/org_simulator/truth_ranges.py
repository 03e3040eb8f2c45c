"""The commit ranges the GitHub loader should read, worked out from the simulator's store.

As of a clock (and from a start date, as the loader is configured): the successful
production deployments (flag, or an environment matching a pattern, ignoring case), each
with the previous one of its repository and environment, and what GitHub's compare of the
two answers: the commits of the store's history reachable from the head and not from the
base, found by walking parents, in history order.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

import duckdb

DEFAULT_PATTERNS = ("production", "prod", "prod-*", "production-*", "live")


@dataclass
class ServedRange:
    deployment_id: int
    base_deployment_id: int
    repo: str
    environment: str
    base_sha: str
    head_sha: str
    status: str
    ahead_by: int | None
    behind_by: int | None
    commits: list[tuple] = field(
        default_factory=list
    )  # (sha, author_date, committer_date, parents)

    def pages(self, per_page: int = 100) -> int:
        """Requests a walk of the comparison takes (a 404 is one)."""
        return max(1, math.ceil(len(self.commits) / per_page))


def _production(environment: str, flag: bool, patterns) -> bool:
    name = environment.lower()
    regexes = [".*".join(map(re.escape, p.lower().split("*"))) for p in patterns]
    return bool(flag) or any(re.fullmatch(r, name) for r in regexes)


def served_ranges(
    store: Path,
    repos: list[str],
    now: datetime,
    start: datetime | None = None,
    patterns=DEFAULT_PATTERNS,
) -> dict[tuple[int, int], ServedRange]:
    with duckdb.connect(str(store), read_only=True) as con:
        deployments = con.execute(
            """select d.id, d.repo_full_name, d.environment, d.production_environment, d.sha,
                   d.created_at from gh_deployments d
               where d.created_at <= $1 and d.created_at >= $2
                 and list_contains($3, d.repo_full_name)
                 and exists (select 1 from gh_deployment_statuses s where s.deployment_id = d.id
                             and s.state = 'success' and s.created_at <= $1)
               order by d.created_at, d.id""",
            [now, start or datetime.min, repos],
        ).fetchall()
        commits = con.execute(
            """select repo_full_name, sha, seq, parents, date_trunc('second', author_date),
                   date_trunc('second', committer_date) from gh_git_commits
               where committer_date <= $1 and list_contains($2, repo_full_name)""",
            [now, repos],
        ).fetchall()
    graph: dict[str, dict[str, tuple]] = {}
    for repo, sha, seq, parents, authored, committed in commits:
        graph.setdefault(repo, {})[sha] = (seq, json.loads(parents), authored, committed)
    previous: dict[tuple[str, str], tuple[int, str]] = {}
    out = {}
    for i, repo, env, flag, sha, _ in deployments:
        if not _production(env, flag, patterns):
            continue
        lineage = (repo, env.lower())
        if lineage in previous:
            base_id, base_sha = previous[lineage]
            out[(i, base_id)] = _compare(graph.get(repo, {}), i, base_id, repo, env, base_sha, sha)
        previous[lineage] = (i, sha)
    return out


def reachable(parents: Mapping[str, Sequence[str]], start: str) -> set[str]:
    """The commits reachable from `start` (itself included), walking parents."""
    seen, todo = set(), [start]
    while todo:
        sha = todo.pop()
        if sha not in seen:
            seen.add(sha)
            todo.extend(parents[sha])
    return seen


def _compare(graph, head_id, base_id, repo, env, base_sha, head_sha) -> ServedRange:
    served = ServedRange(head_id, base_id, repo, env, base_sha, head_sha, "not_found", None, None)
    if base_sha not in graph or head_sha not in graph:
        return served
    parents = {sha: commit[1] for sha, commit in graph.items()}
    from_head, from_base = reachable(parents, head_sha), reachable(parents, base_sha)
    ahead = sorted(from_head - from_base, key=lambda sha: graph[sha][0])
    served.ahead_by, served.behind_by = len(ahead), len(from_base - from_head)
    served.status = (
        "identical"
        if base_sha == head_sha
        else "ahead"
        if not served.behind_by
        else "behind"
        if not ahead
        else "diverged"
    )
    served.commits = [(sha, graph[sha][2], graph[sha][3], len(graph[sha][1])) for sha in ahead]
    return served


def range_rows(ranges: dict[tuple[int, int], ServedRange]) -> list[tuple]:
    """deployment_ranges as the loader should write them (compared_at aside)."""
    return sorted(
        (
            r.deployment_id,
            r.base_deployment_id,
            r.repo,
            r.environment,
            r.base_sha,
            r.head_sha,
            r.status,
            r.ahead_by,
            r.behind_by,
            None if r.status == "not_found" else len(r.commits),
            len(r.commits),
        )  # fmt: skip
        for r in ranges.values()
    )


def range_commit_rows(ranges: dict[tuple[int, int], ServedRange]) -> list[tuple]:
    """deployment_range_commits as the loader should write them."""
    return sorted(
        (r.deployment_id, r.base_deployment_id, r.repo, sha, n, authored, committed, parents)
        for r in ranges.values()
        for n, (sha, authored, committed, parents) in enumerate(r.commits)
    )
