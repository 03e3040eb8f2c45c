"""A simulated repository's deployments: where it deploys, what, and when.

Each repository deploys to its production environments, named the way its team writes them
(`ENVIRONMENT_SCHEMES`: `production`, `prod`, `PRODUCTION`, `prod-eu` and `prod-us`, `live`,
a region name flagged `production_environment: true`, a rename halfway through), with a
staging deployment before each release. Deploy windows at 10:00, 14:00 and 17:00 UTC on
working days release main's head as it was when the build started (the cut, 5 to 45 minutes
before the deployment is created): PRs merged after the cut go out with the next release.
Besides releases there are redeploys of what already runs, rollbacks to the previous
release after an incident (a human runs them, writing `Production` where the workflow
writes `production`), and one hotfix per repository built from a branch deleted since, whose
commit GitHub no longer has. So the commit ranges GitHub's compare endpoint gives and the
time rule of docs/metrics.md disagree often enough to matter.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import TYPE_CHECKING

from org_simulator.timeline import days_between, hex_id, is_weekend, rng_for, slug

if TYPE_CHECKING:
    from org_simulator.git_history import History
    from org_simulator.team import Incident, Repo, TeamSimulation

DEPLOY_HOURS = (10, 14, 17)
BOT = "github-actions[bot]"


@dataclass(frozen=True)
class Target:
    """A production environment of a repository, named as its deploy workflow names it."""

    name: str
    # production_environment as the workflow sets it; None: not set (GitHub's default)
    flag: bool | None = None
    until: float | None = None  # renamed: used until this share of the history ...
    since: float | None = None  # ... and under its new name from there

    @property
    def key(self) -> str:
        return self.name.lower()

    def active(self, at: datetime, start: date, end: date) -> bool:
        def share(part: float) -> datetime:
            return datetime.combine(start, datetime.min.time()) + (end - start) * part

        return (self.since is None or at >= share(self.since)) and (
            self.until is None or at < share(self.until)
        )


# The repositories of the first two teams (team index x 3 + repository index) show every
# kind, so that the tiny organisation (two teams of two repositories: 0, 1, 3, 4) has them
# all; later ones deploy to one production environment, as most repositories do.
ENVIRONMENT_SCHEMES: tuple[tuple[Target, ...], ...] = (
    (Target("production"),),
    (Target("prod-eu"), Target("prod-us")),
    (Target("production"),),
    (Target("prod", until=0.5), Target("PRODUCTION", since=0.5)),
    (Target("live"), Target("eu-central-1", flag=True)),
    (Target("prod"),),
)
LATER_SCHEMES: tuple[tuple[Target, ...], ...] = (
    (Target("production"),),
    (Target("prod"),),
    (Target("PRODUCTION"),),
    (Target("live"),),
    (Target("eu-central-1", flag=True),),
)


def environment_scheme(team_index: int, repo_index: int) -> tuple[Target, ...]:
    index = team_index * 3 + repo_index
    if index < len(ENVIRONMENT_SCHEMES):
        return ENVIRONMENT_SCHEMES[index]
    return LATER_SCHEMES[index % len(LATER_SCHEMES)]


def typed_by_hand(name: str) -> str:
    """The environment as a person types it: `Production` for the workflow's `production`
    (GitHub's production_environment default is then false)."""
    return name.capitalize() if name == "production" else name


@dataclass
class Deployment:
    repo: Repo
    environment: str
    created_at: datetime
    succeeded: bool
    finished_at: datetime
    sha: str
    previous_sha: str | None  # the payload's previous_sha: what the environment ran before
    creator: str
    ref: str = "main"
    # production_environment as the creator set it; None: not set (GitHub's default).
    flag: bool | None = None
    production: bool = True  # to one of the repository's production targets
    kind: str = "release"  # release | redeploy | rollback | hotfix
    incident: Incident | None = None  # the incident a rollback answers
    workflow_run: bool = False  # the first deployment of a run of the deploy workflow
    id: int = 0

    @property
    def production_flag(self) -> bool:
        """production_environment as GitHub serves it: true by default only for an
        environment named exactly `production`."""
        return self.flag if self.flag is not None else self.environment == "production"


class Deployer:
    """Deploys one repository over the simulated period (see the module docstring).

    Every random draw comes from a stream of its own event (window, target, incident), so
    deploying again after reverts and fixes were added leaves earlier outcomes as they were.
    It also marks each merged PR's intended shipping deployment (`pr.shipped_by`): the first
    successful production deployment whose build contained it. The ground truth does not use
    this; it derives shipping from the records by docs/metrics.md's rules.
    """

    def __init__(self, sim: TeamSimulation, repo: Repo, history: History):
        self.sim, self.repo, self.history = sim, repo, history
        root = history.main[0].sha
        self.live = {t.key: root for t in repo.targets}  # what each environment runs
        self.released: dict[str, list[Deployment]] = {t.key: [] for t in repo.targets}
        merged = [p for p in repo.prs if p.merged_at]
        self.landed = sorted(merged, key=lambda p: history.by_sha[p.merge_sha].seq)
        self.shipped = 0  # PRs of `landed` shipped so far

    def run(self) -> list[Deployment]:
        sim, repo = self.sim, self.repo
        for pr in repo.prs:
            pr.shipped_by = None
        events: list[tuple[datetime, int, object]] = []
        for day in days_between(sim.start, sim.end + timedelta(days=1)):
            if not is_weekend(day):
                for hour in DEPLOY_HOURS:
                    wrng = rng_for(sim.seed, repo.full_name, day, hour)
                    at = datetime(day.year, day.month, day.day, hour)
                    events.append((at + timedelta(minutes=wrng.randint(0, 40)), 0, wrng))
        for inc in sim.incidents:
            if inc.rollback_at and inc.service.repo is repo:
                events.append((inc.rollback_at, 1, inc))
        events.append((self._hotfix_time(), 2, None))
        deployments: list[Deployment] = []
        for at, kind, item in sorted(events, key=lambda e: (e[0], e[1])):
            if at > sim.as_of:
                continue
            if kind == 0:
                deployments += self._window(at, item)
            elif kind == 1:
                deployments += self._rollback(at, item)
            else:
                deployments += self._hotfix(at)
        return deployments

    # --- the events ---------------------------------------------------------------------

    def _targets(self, at: datetime):
        return [t for t in self.repo.targets if t.active(at, self.sim.start, self.sim.end)]

    def _window(self, at: datetime, wrng) -> list[Deployment]:
        """A release of main's head at the cut, staging first, to every environment not
        running it yet; now and then a redeploy of what runs, to all of them. One run of the
        deploy workflow deploys to every environment of the window."""
        head = self.history.head_at(at - timedelta(minutes=wrng.randint(5, 45)))
        redeploy = wrng.random() < 0.01
        targets = self._targets(at)
        new = [t for t in targets if self.live[t.key] != head.sha]
        going = targets if redeploy else new
        if not going:
            return []
        staged = at - timedelta(minutes=15)
        out: list[Deployment] = []
        if new:
            out.append(
                Deployment(
                    self.repo,
                    "staging",
                    staged,
                    True,
                    staged + timedelta(minutes=wrng.randint(2, 6)),
                    head.sha,
                    None,
                    BOT,
                    flag=False,
                    production=False,
                )
            )
        for n, target in enumerate(targets):
            if target not in going:
                continue
            trng = rng_for(self.sim.seed, self.repo.full_name, at, target.name)
            created = at + timedelta(minutes=7 * n)  # one environment after the other
            finished = created + timedelta(minutes=trng.randint(3, 20), seconds=trng.randint(0, 59))
            kind = "release" if target in new else "redeploy"
            dep = Deployment(
                self.repo,
                target.name,
                created,
                trng.random() > 0.06,
                finished,
                head.sha,
                self.live[target.key],
                BOT,
                flag=target.flag,
                kind=kind,
                workflow_run=not any(d.production for d in out),
            )
            out += self._record(dep, target, head.seq)
        return out

    def _rollback(self, at: datetime, inc: Incident) -> list[Deployment]:
        """Back to each environment's previous release, run by the incident's responder."""
        out = []
        for n, target in enumerate(self._targets(at)):
            released = self.released[target.key]
            if len(released) < 2 or released[-2].sha == self.live[target.key]:
                continue
            rng = rng_for(self.sim.seed, "rollback", inc.uid, target.name)
            sha = released[-2].sha
            responder = (inc.assignee or self.sim.humans[0]).github_login
            dep = self._by_hand(target, at + timedelta(minutes=7 * n), sha, responder, rng, 2, 6)
            dep.ref, dep.kind, dep.incident = sha, "rollback", inc
            out += self._record(dep, target, None)
        return out

    def _hotfix_time(self) -> datetime:
        """Half an hour or so after a PR merged somewhere in the middle of the history (so
        its fix goes out between releases). Only PRs of the first pass count: reverts and
        fixes added later must not move it."""
        sim = self.sim
        rng = rng_for(sim.seed, self.repo.full_name, "hotfix")
        day = sim.start + timedelta(days=int((sim.end - sim.start).days * rng.uniform(0.3, 0.7)))
        after = datetime(day.year, day.month, day.day, 10)
        merged = sorted(
            p.merged_at
            for p in self.repo.prs
            if p.merged_at and p.merged_at >= after and p.kind in ("feature", "agent")
        )
        at = merged[0] if merged else after
        return (at + timedelta(minutes=rng.randint(20, 50))).replace(microsecond=0)

    def _hotfix(self, at: datetime) -> list[Deployment]:
        """A patch on main's head, built from a branch deleted since and deployed to every
        production environment: GitHub no longer has its commit, so no compare can use it."""
        rng = rng_for(self.sim.seed, self.repo.full_name, "hotfix", "build")
        head = self.history.head_at(at - timedelta(minutes=10))
        author = rng.choice(self.sim.humans)
        sha = hex_id(rng)
        out = []
        for n, target in enumerate(self._targets(at)):
            created = at + timedelta(minutes=7 * n)
            dep = self._by_hand(target, created, sha, author.github_login, rng, 4, 9)
            dep.ref, dep.kind = f"hotfix/{slug(author.display_name, 20)}-{at:%m%d}", "hotfix"
            out += self._record(dep, target, head.seq)
        return out

    # --- bookkeeping --------------------------------------------------------------------

    def _by_hand(
        self, target: Target, created: datetime, sha: str, creator: str, rng, *minutes: int
    ) -> Deployment:
        """A deployment a person runs (a rollback, a hotfix): the environment typed by hand,
        finished a few `minutes` (low, high) later, successfully."""
        low, high = minutes
        return Deployment(
            self.repo,
            typed_by_hand(target.name),
            created,
            True,
            created + timedelta(minutes=rng.randint(low, high), seconds=rng.randint(0, 59)),
            sha,
            self.live[target.key],
            creator,
            flag=target.flag,
        )

    def _record(self, dep: Deployment, target: Target, content_seq: int | None) -> list[Deployment]:
        """Note a deployment (none if it has not finished by the end of the history); a
        successful one now runs in its environment and ships the PRs that landed on main up
        to `content_seq` (its build's main head) and were not shipped yet."""
        if dep.finished_at > self.sim.as_of:
            return []
        if not dep.succeeded:
            return [dep]
        self.live[target.key] = dep.sha
        self.released[target.key].append(dep)
        by_sha = self.history.by_sha
        while (
            content_seq is not None
            and self.shipped < len(self.landed)
            and by_sha[self.landed[self.shipped].merge_sha].seq <= content_seq
        ):
            self.landed[self.shipped].shipped_by = dep
            self.shipped += 1
        return [dep]


def deploy_repo(sim: TeamSimulation, repo: Repo, history: History) -> list[Deployment]:
    return Deployer(sim, repo, history).run()
