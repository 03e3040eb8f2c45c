"""Main's history of a simulated repository: how merged PRs land on the default branch.

GitHub merges a PR in one of three styles, and a repository's history shows which:
- merge commit: a new commit with two parents (main's head, the PR's head); the PR's own
  commits become reachable from main; `merge_commit_sha` is the merge commit;
- squash: one new commit on top of main; `merge_commit_sha` is that commit;
- rebase: a new copy of each PR commit on top of main; `merge_commit_sha` is the last copy.
Teams also push to main directly now and then (a version bump, a typo), without a PR.

Every commit gets `seq`, its place in a topological order of the history (parents first),
and `main_seq`, the seq of the main-line (first-parent) commit that made it reachable from
main: its own for a main-line commit, its merge commit's for a PR commit. So the commits
reachable from main-line commit h are exactly those with `main_seq <= h.seq`: that is how the
compare endpoint and the ground truth find the commits between two deployments.
"""

from __future__ import annotations

from bisect import bisect_right
from dataclasses import dataclass, field, replace
from datetime import date, datetime
from typing import TYPE_CHECKING

from org_simulator.timeline import days_between, hex_id, is_weekend, rng_for, work_time

if TYPE_CHECKING:
    from org_simulator.people import Person
    from org_simulator.team import PR, Commit, Repo

MERGE_STYLES = ("merge", "squash", "rebase")
PUSH_SUBJECTS = (
    "Bump version",
    "Fix typo in README",
    "Update CHANGELOG",
    "Tune the alert thresholds",
    "Pin the base image",
)


@dataclass
class GitCommit:
    sha: str
    kind: str  # root | push | merge | squash | rebase | pr_commit
    at: datetime  # committer date
    author: Person | None = None  # root, push, merge (the merger), squash (the PR's author)
    parents: list[str] = field(default_factory=list)
    pr: PR | None = None
    source: Commit | None = None  # the PR commit it is (pr_commit) or copies (rebase)
    subject: str = ""  # a direct push's message
    seq: int = 0
    main_seq: int = 0

    @property
    def on_main(self) -> bool:
        return self.seq == self.main_seq


@dataclass
class History:
    """A repository's commits reachable from main, and main's line of first parents."""

    commits: list[GitCommit]
    main: list[GitCommit]

    def __post_init__(self) -> None:
        self._times = [c.at for c in self.main]
        self.by_sha = {c.sha: c for c in self.commits}

    def head_at(self, at: datetime) -> GitCommit:
        """Main's head as of `at` (the root commit before anything landed)."""
        return self.main[max(bisect_right(self._times, at) - 1, 0)]


def merge_style(seed: int, repo: Repo, pr: PR) -> str:
    """How the PR was merged: mostly the repository's habit, sometimes another style."""
    rng = rng_for(seed, "merge-style", repo.full_name, pr.uid)
    return repo.merge_style if rng.random() < 0.7 else rng.choice(repo.merge_styles)


def direct_pushes(
    seed: int, repo: Repo, people: list[Person], start: date, end: date
) -> list[GitCommit]:
    """Commits pushed straight to main, without a PR (parents are set when main is built)."""
    rng = rng_for(seed, "push", repo.full_name)
    pushes = []
    for day in days_between(start, end):
        if not is_weekend(day) and rng.random() < 0.03:
            pushes.append(
                GitCommit(
                    sha=hex_id(rng),
                    kind="push",
                    at=work_time(rng, day),
                    author=rng.choice(people),
                    subject=rng.choice(PUSH_SUBJECTS),
                )
            )
    return pushes


def build_history(seed: int, repo: Repo) -> History:
    """Main from the repository's first commit: each merged PR lands, in merge order, by its
    merge style; direct pushes land in between."""
    root = GitCommit(hex_id(rng_for(seed, "root", repo.full_name)), "root", repo.created_at)
    commits, main = [root], [root]
    landings = sorted(
        [(pr.merged_at, 0, pr.uid, pr) for pr in repo.prs if pr.merged_at]
        + [(push.at, 1, n, push) for n, push in enumerate(repo.pushes)],
        key=lambda landing: landing[:3],
    )
    for _, _, _, item in landings:
        if isinstance(item, GitCommit):
            landed = [replace(item, parents=[main[-1].sha])]  # pushes are reused per build
        else:
            landed = _land(seed, repo, item, commits, main)
        for commit in landed:
            commit.seq = len(commits)
            commits.append(commit)
        # PR commits a merge brings in become reachable with it (the last commit landed).
        for commit in landed:
            commit.main_seq = landed[-1].seq if commit.kind == "pr_commit" else commit.seq
            if commit.kind != "pr_commit":
                main.append(commit)
    return History(commits, main)


def _land(
    seed: int, repo: Repo, pr: PR, commits: list[GitCommit], main: list[GitCommit]
) -> list[GitCommit]:
    style = merge_style(seed, repo, pr)
    head, at = main[-1].sha, pr.merged_at
    if style == "squash":
        return [GitCommit(pr.merge_sha, "squash", at, pr.author, [head], pr)]
    if style == "rebase":
        rng = rng_for(seed, "rebase", pr.uid)
        copies = []
        for n, commit in enumerate(pr.commits):
            sha = pr.merge_sha if n == len(pr.commits) - 1 else hex_id(rng)
            copies.append(GitCommit(sha, "rebase", at, commit.author, [head], pr, commit))
            head = sha
        return copies
    # A merge commit: the PR's branch forked from main as it was at its first commit.
    times = [c.at for c in main]
    parent = main[max(bisect_right(times, pr.first_commit_at) - 1, 0)].sha
    branch = []
    for commit in pr.commits:
        branch.append(GitCommit(commit.sha, "pr_commit", commit.at, commit.author, [parent], pr))
        branch[-1].source = commit
        parent = commit.sha
    merge = GitCommit(pr.merge_sha, "merge", at, pr.merged_by, [head, parent], pr)
    return [*branch, merge]
