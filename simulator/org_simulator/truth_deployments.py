"""Ground truth for deployments: production, commit ranges, shipping and change failures.

A second, plain-Python implementation of the rules the warehouse's SQL follows, over the
records the GitHub API serves (gh_deployments, gh_deployment_statuses, gh_git_commits):

- Production: GitHub's `production_environment` flag is true, or the environment matches one
  of PRODUCTION_PATTERNS ignoring case (`*` stands for any run of characters, everything
  else is literal).
- Range: a successful production deployment's previous one is the previous successful
  production deployment of the same repository and environment (environments compared
  ignoring case; ordered by created_at, then id). Its range is what GitHub's compare of the
  two shas answers: usable when `ahead`, `identical` or `behind` (the last two ship nothing
  new); unknown without a previous deployment or when GitHub has no such commit (404).
- Shipping: a merged PR is shipped by the earliest (created_at, id) successful production
  deployment whose usable range holds its merge_commit_sha (`commit_range`); else by the
  first successful production deployment of its repository created at or after its merge
  whose range is unknown (`time`); else it is not shipped.
- Change failure: an incident fails every production deployment the rule that attributed it
  points at (truth.py `_defects` calls `link`): the deployments that shipped the PRs it names,
  the deployment it names, or the latest successful production deployment before it.
"""

from __future__ import annotations

import bisect
import json
import re
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime

PRODUCTION_PATTERNS = ("production", "prod", "prod-*", "production-*", "live")
USABLE = ("ahead", "identical", "behind")


def is_production(environment: str | None, flag: bool | None, patterns=PRODUCTION_PATTERNS) -> bool:
    if flag:
        return True
    name = (environment or "").lower()
    return any(
        re.fullmatch(".*".join(map(re.escape, p.lower().split("*"))), name, re.DOTALL)
        for p in patterns
    )


@dataclass(frozen=True)
class Range:
    """What GitHub's compare of a base and a head answers."""

    status: str  # ahead | behind | identical | not_found
    ahead_by: int | None = None
    behind_by: int | None = None
    shas: frozenset[str] = frozenset()  # the commits listed: reachable from head, not base

    @property
    def usable(self) -> bool:
        return self.status in USABLE


class MainHistory:
    """Each repository's commits reachable from main. Main-line commit h reaches the commits
    whose main_seq is at most h's seq (simulator/org_simulator/git_history.py)."""

    def __init__(self, commits: list[dict]):
        self._seq: dict[str, dict[str, tuple[int, int]]] = defaultdict(dict)
        self._landed: dict[str, dict[int, list[str]]] = defaultdict(lambda: defaultdict(list))
        for c in commits:
            self._seq[c["repo_full_name"]][c["sha"]] = (c["seq"], c["main_seq"])
            self._landed[c["repo_full_name"]][c["main_seq"]].append(c["sha"])

    def compare(self, repo: str, base: str | None, head: str | None) -> Range:
        known = self._seq[repo]
        if base not in known or head not in known:
            return Range("not_found")
        (base_seq, base_main), (head_seq, head_main) = known[base], known[head]
        if base_seq != base_main or head_seq != head_main:
            raise ValueError(f"{repo}: deployments of commits off main are not simulated")
        if base == head:
            return Range("identical", 0, 0)
        low, high = sorted((base_seq, head_seq))
        between = [sha for seq in range(low + 1, high + 1) for sha in self._landed[repo][seq]]
        if head_seq > base_seq:
            return Range("ahead", len(between), 0, frozenset(between))
        return Range("behind", 0, len(between))


@dataclass
class Deployment:
    id: int
    repo: str
    environment: str | None
    sha: str | None
    created_at: datetime
    is_production: bool
    finished_at: datetime | None  # the first success status; None: never succeeded
    base: Deployment | None = None
    range: Range | None = None  # None: no previous deployment to compare with
    shipped: list[int] = field(default_factory=list)  # PR numbers
    incidents: set[str] = field(default_factory=set)

    @property
    def order(self) -> tuple[datetime, int]:
        return self.created_at, self.id

    @property
    def range_usable(self) -> bool:
        return self.range is not None and self.range.usable


class Deployments:
    """Every deployment, with its range; ships PRs and takes incidents (module docstring)."""

    def __init__(self, rows: dict[str, list[dict]], patterns=PRODUCTION_PATTERNS):
        finished: dict[int, datetime] = {}
        for s in rows["gh_deployment_statuses"]:
            if s["state"] == "success":
                at = finished.get(s["deployment_id"])
                finished[s["deployment_id"]] = min(at, s["created_at"]) if at else s["created_at"]
        self.all = {
            d["id"]: Deployment(
                d["id"],
                d["repo_full_name"],
                d["environment"],
                d["sha"],
                d["created_at"],
                is_production(d["environment"], d["production_environment"], patterns),
                finished.get(d["id"]),
            )
            for d in rows["gh_deployments"]
        }
        released = sorted(
            (d for d in self.all.values() if d.is_production and d.finished_at),
            key=lambda d: d.order,
        )
        self.released: dict[str, list[Deployment]] = defaultdict(list)  # per repository
        previous: dict[tuple[str, str], Deployment] = {}
        history = MainHistory(rows["gh_git_commits"])
        for d in released:
            self.released[d.repo].append(d)
            lineage = (d.repo, (d.environment or "").lower())
            d.base = previous.get(lineage)
            previous[lineage] = d
            if d.base is not None:
                d.range = history.compare(d.repo, d.base.sha, d.sha)
        # The earliest deployment whose usable range holds a commit; for the time rule, the
        # deployments whose range is unknown, in creation order.
        self._first_holding: dict[tuple[str, str], Deployment] = {}
        self._unknown: dict[str, list[Deployment]] = defaultdict(list)
        for d in released:
            if d.range_usable:
                for sha in d.range.shas:
                    self._first_holding.setdefault((d.repo, sha), d)
            else:
                self._unknown[d.repo].append(d)
        self._unknown_times = {
            repo: [d.created_at for d in deps] for repo, deps in self._unknown.items()
        }

    def ship(
        self, repo: str, number: int, merged_at: datetime | None, merge_sha: str | None
    ) -> tuple[Deployment, str] | None:
        """The deployment that shipped a PR, and the rule that found it."""
        if merged_at is None:
            return None
        holding = self._first_holding.get((repo, merge_sha)) if merge_sha else None
        if holding is not None:
            holding.shipped.append(number)
            return holding, "commit_range"
        unknown = self._unknown.get(repo, [])
        i = bisect.bisect_left(self._unknown_times.get(repo, []), merged_at)
        if i == len(unknown):
            return None
        unknown[i].shipped.append(number)
        return unknown[i], "time"

    def latest_before(self, repo: str | None, at: datetime) -> Deployment | None:
        """The latest successful production deployment of `repo` finished before `at`."""
        done = [d for d in self.released.get(repo, []) if d.finished_at < at]
        return max(done, key=lambda d: (d.finished_at, d.id), default=None)

    def link(self, incident_id: str, deployment_ids, rule: str, out) -> None:
        """The incident fails each of these deployments that is a production deployment."""
        for deployment_id in sorted(set(deployment_ids)):
            d = self.all.get(deployment_id)
            if d is not None and d.is_production:
                d.incidents.add(incident_id)
                out["truth_deployment_incidents"].append(
                    {"deployment_id": deployment_id, "incident_id": incident_id, "rule": rule}
                )

    def rows(self, rolled_back: set[str]) -> list[dict]:
        out = []
        for d in sorted(self.all.values(), key=lambda d: d.order):
            r = d.range
            out.append(
                {
                    "deployment_id": d.id,
                    "repo_full_name": d.repo,
                    "environment": d.environment,
                    "is_production": d.is_production,
                    "is_successful": d.finished_at is not None,
                    "created_at": d.created_at,
                    "finished_at": d.finished_at,
                    "base_deployment_id": d.base.id if d.base else None,
                    "range_status": r.status if r else None,
                    "range_usable": d.range_usable,
                    "ahead_by": r.ahead_by if r else None,
                    "behind_by": r.behind_by if r else None,
                    "total_commits": len(r.shas) if r and r.usable else None,
                    "shipped_prs": len(d.shipped),
                    "shipped_pr_numbers": json.dumps(sorted(d.shipped)),
                    "incidents": len(d.incidents),
                    "rolled_back_incidents": len(d.incidents & rolled_back),
                    "is_change_failure": d.finished_at is not None and bool(d.incidents),
                }
            )
        return out
