"""One team's simulated life: work items, pull requests, reviews, CI, deployments, defects.

A team is simulated on its own (its repositories, Jira project and PagerDuty services are its
own), so the organisation is generated team by team with memory bounded by a team. The story:
people open PRs (more with more AI spend, with diminishing output); AI-assisted PRs are larger,
abandoned and reverted more, and cause more defects; reviews come in sessions; merged PRs ship
with the next successful production deployment; defects come back as Jira bugs and incidents,
linked to their cause in the ways real teams link them (or not at all).
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from org_simulator.catalog import (
    JIRA_LOCALES,
    LANGUAGES,
    ORG,
    REPO_SUFFIXES,
    STATUS_CATEGORY,
    TOOL_TRAILERS,
    WORK_OBJECTS,
    WORK_VERBS,
)
from org_simulator.deploys import Deployment, Target, deploy_repo, environment_scheme
from org_simulator.git_history import GitCommit, build_history, direct_pushes
from org_simulator.options import Generation
from org_simulator.people import Person
from org_simulator.timeline import (
    after,
    days_between,
    hex_id,
    is_weekend,
    poisson,
    rng_for,
    slug,
    work_time,
)

PR_RATE = 0.32  # PRs a typical engineer starts on a working day, before the AI effect


@dataclass
class Commit:
    sha: str
    message: str
    author: Person
    email: str
    at: datetime
    ai: bool = False


@dataclass
class Event:
    kind: str  # review | review_comment | issue_comment
    login: str
    at: datetime
    state: str | None = None  # review state
    body: str = ""
    review: Event | None = None  # the review a review comment belongs to


@dataclass
class WorkItem:
    id: int
    key: str
    kind: str  # story | task | bug
    summary: str
    created: datetime
    reporter: Person
    assignee: Person | None
    description: str = ""
    transitions: list[tuple[datetime, str]] = field(default_factory=list)  # (at, status step)
    prs: list[PR] = field(default_factory=list)
    caused_by_pr: PR | None = None  # the custom field "Caused by PR"
    description_pr: PR | None = None  # a PR URL written in the description
    remote_link_pr: PR | None = None
    caused_by_item: WorkItem | None = None  # an issue link "is caused by"
    relates_to: WorkItem | None = None


@dataclass
class PR:
    uid: int
    repo: Repo
    author: Person
    kind: str  # feature | revert | fix | dependency | agent
    title: str
    head_ref: str
    created_at: datetime
    first_commit_at: datetime
    commits: list[Commit] = field(default_factory=list)
    events: list[Event] = field(default_factory=list)
    labels: list[str] = field(default_factory=list)
    body: str = ""
    draft: bool = False
    ready_at: datetime | None = None
    merged_at: datetime | None = None
    closed_at: datetime | None = None
    merged_by: Person | None = None
    merge_sha: str | None = None
    additions: int = 0
    deletions: int = 0
    ai: bool = False
    item: WorkItem | None = None
    reverts: PR | None = None
    revert_style: str = ""
    number: int = 0
    shipped_by: Deployment | None = None


@dataclass
class Incident:
    uid: int
    service: Service
    title: str
    created_at: datetime
    acknowledged_at: datetime | None
    resolved_at: datetime | None
    urgency: str
    assignee: Person | None
    names_pr: PR | None = None
    names_deployment: Deployment | None = None
    rollback_at: datetime | None = None
    notes: list[tuple[datetime, str]] = field(default_factory=list)


@dataclass
class Repo:
    id: int
    name: str
    full_name: str
    language: str
    targets: tuple[Target, ...]  # its production environments, as its team names them
    merge_style: str  # the style its team merges PRs with, most of the time
    merge_styles: tuple[str, ...]  # the styles it allows (the others now and then)
    created_at: datetime
    prs: list[PR] = field(default_factory=list)
    deployments: list[Deployment] = field(default_factory=list)
    # main's history (org_simulator.git_history), rebuilt with the deployments
    git: list[GitCommit] = field(default_factory=list)
    pushes: list[GitCommit] = field(default_factory=list)  # direct pushes to main


@dataclass
class Service:
    id: str
    name: str
    repo: Repo | None  # None: a service the service_repos seed does not map


class TeamSimulation:
    def __init__(
        self,
        seed: int,
        team_index: int,
        team_id: str,
        team_name: str,
        people: list[Person],
        bots: list[Person],
        start: date,
        as_of: datetime,
        locale: str,
        jira_key: str,
        generation: Generation | None = None,
    ):
        self.seed, self.index, self.team_id, self.name = seed, team_index, team_id, team_name
        self.people, self.bots = people, {b.github_login: b for b in bots}
        self.humans = [p for p in people if p.role != "manager"] or people
        self.start, self.as_of, self.end = start, as_of, as_of.date()
        self.locale, self.jira_key = locale, jira_key
        self.generation = generation or Generation()
        self.rng = rng_for(seed, "team", team_index)
        self._uid = 0
        self.items: list[WorkItem] = []
        self.prs: list[PR] = []
        self.incidents: list[Incident] = []
        self.repos = self._make_repos()
        self.services = [
            Service(f"PS{team_index:03d}{i}", f"{r.name}", r) for i, r in enumerate(self.repos)
        ]
        # One service nobody mapped to a repository: its incidents stay unattributed.
        self.services.append(Service(f"PS{team_index:03d}X", f"{team_name}-legacy-cron", None))

    # --- ids -------------------------------------------------------------------------

    def uid(self) -> int:
        self._uid += 1
        return self.index * 10_000_000 + self._uid

    def _make_repos(self) -> list[Repo]:
        count = 2 if self.rng.random() < 0.6 else 3
        styles = self.generation.merge_styles
        repos = []
        for i, suffix in enumerate(REPO_SUFFIXES[:count]):
            name = f"{self.name}-{suffix}"
            repos.append(
                Repo(
                    id=500_000_000 + self.index * 10 + i,
                    name=name,
                    full_name=f"{ORG}/{name}",
                    language=LANGUAGES[(self.index + i) % len(LANGUAGES)],
                    targets=self.generation.targets() or environment_scheme(self.index, i),
                    merge_style=styles[(self.index + i) % len(styles)],
                    merge_styles=styles,
                    created_at=datetime(2021, 1, 4) + timedelta(days=self.index * 3 + i),
                )
            )
        return repos

    # --- the simulation ----------------------------------------------------------------

    def run(self) -> TeamSimulation:
        for day in days_between(self.start, self.end):
            self._start_work(day)
        self._deploy_all()
        for pr in list(self.prs):
            if pr.kind in ("feature", "agent") and pr.shipped_by:
                self._maybe_revert(pr)
                self._maybe_defect(pr)
        self._background_defects()
        # Again, now with reverts, fixes and the rollbacks incidents asked for: every draw
        # is the event's own, so the releases of the first pass are released again.
        self._deploy_all()
        final = {
            (d.repo.full_name, d.environment, d.created_at): d
            for r in self.repos
            for d in r.deployments
        }
        for inc in self.incidents:
            if inc.names_deployment is not None:
                d = inc.names_deployment
                inc.names_deployment = final[(d.repo.full_name, d.environment, d.created_at)]
        self._errors_after_rollbacks()
        self._settle_work_items()
        return self

    def _start_work(self, day: date) -> None:
        weekend = is_weekend(day)
        for person in self.people:
            rate = PR_RATE * (0.25 if person.role == "manager" else 1.0)
            # Diminishing output: hundreds of times the spend buys about twice the PRs.
            rate *= 1 + 0.18 * max(0.0, person.spend_multiplier) ** 0.3
            rate *= 0.06 if weekend else 1.0
            for _ in range(poisson(self.rng, rate)):
                self._feature_pr(person, day)
        if not weekend and self.rng.random() < 0.06:
            agent = self.bots[
                self.rng.choice(["copilot-swe-agent[bot]", "devin-ai-integration[bot]"])
            ]
            self._feature_pr(agent, day)
        if day.weekday() == 0 and self.rng.random() < 0.5:
            self._dependency_pr(day)

    def _work_item(
        self, kind: str, created: datetime, reporter: Person, summary: str, assignee: Person | None
    ) -> WorkItem:
        item = WorkItem(
            id=self.uid(),
            key="",
            kind=kind,
            summary=summary,
            created=created,
            reporter=reporter,
            assignee=assignee,
        )
        item.transitions.append((created, "todo"))
        self.items.append(item)
        return item

    def _pick_item(self, author: Person, at: datetime, summary: str) -> WorkItem | None:
        r = self.rng.random()
        if r < 0.22:
            return None  # a PR that names no work item
        open_items = [
            i
            for i in self.items[-30:]
            if i.kind != "bug"
            and i.prs
            and i.assignee is author
            and not any(p.merged_at for p in i.prs)
        ]
        if open_items and r < 0.40:
            return open_items[-1]  # a second PR for the same story
        kind = "story" if self.rng.random() < 0.6 else "task"
        created = at - timedelta(days=self.rng.uniform(0.2, 10))
        return self._work_item(kind, created, self.rng.choice(self.people), summary, author)

    def _feature_pr(
        self, author: Person, day: date, kind: str | None = None, for_item: WorkItem | None = None
    ) -> PR:
        rng = self.rng
        repo = rng.choice(self.repos)
        first = work_time(rng, day)
        summary = f"{rng.choice(WORK_VERBS)} {rng.choice(WORK_OBJECTS)}"
        if rng.random() < 0.03:
            summary += " " + "and tidy the surrounding code " * rng.randint(8, 20)  # very long
        is_agent = author.is_agent
        ai = is_agent or rng.random() < author.ai_propensity
        item = for_item or (None if is_agent else self._pick_item(author, first, summary))
        pr = PR(
            uid=self.uid(),
            repo=repo,
            author=author,
            kind=kind or ("agent" if is_agent else "feature"),
            title=summary,
            head_ref="",
            created_at=first,
            first_commit_at=first,
            ai=ai,
            item=item,
        )
        tool = rng.choice(author.tools) if ai and author.tools else None
        branch = f"feature/{slug(summary, 30)}"
        in_title = item is not None and rng.random() < 0.7
        if item is not None and not in_title:
            branch = f"feature/{{KEY}}-{slug(summary, 30)}"
        signals = set()
        if ai and not is_agent:
            if rng.random() < 0.75:
                signals.add("trailer")
            if tool in ("claude", "codex", "copilot", "cursor") and rng.random() < 0.3:
                signals.add("branch")
            if rng.random() < 0.12:
                signals.add("label")
            if not signals:
                signals.add("trailer")
            if "branch" in signals:
                branch = f"{tool}/{branch.split('/', 1)[1]}"
            if "trailer" in signals and tool is None:
                tool = "claude"
        if is_agent:
            branch = (
                f"{'copilot' if 'copilot' in author.github_login else 'devin'}/{slug(summary, 30)}"
            )
        pr.head_ref = branch
        pr.title = ("{KEY}: " + summary) if in_title else summary
        if "label" in signals:
            pr.labels.append("ai-assisted")
        if rng.random() < 0.3:
            pr.labels.append(rng.choice(["backend", "frontend", "tech-debt", "security"]))
        # Commits before opening, then the PR; AI work is bigger.
        n = rng.randint(1, 4) + (2 if ai else 0)
        at = first
        ai_commits = set(range(n)) if is_agent else set()
        if "trailer" in signals:
            ai_commits = set(rng.sample(range(n), rng.randint(max(1, n // 3), n)))
        for i in range(n):
            self._commit(pr, at, i in ai_commits, tool, f"{summary.split(' ')[0]} step {i + 1}")
            at = after(rng, at, 40)
        pr.created_at = after(rng, at, 30)
        if rng.random() < 0.1:
            pr.draft = True
            pr.ready_at = after(rng, pr.created_at, 180)
        size = rng.lognormvariate(4.0 + (0.8 if ai else 0), 1.0)
        pr.additions, pr.deletions = int(size), int(size * rng.uniform(0.1, 0.6))
        pr.body = (
            f"{summary}.\n\n"
            + ("Resolves {KEY}.\n" if item else "")
            + rng.choice(
                ["", "Tested locally.", "Benchmarks attached. ✓", "Follow-up to last week."]
            )
        )
        if item is not None:
            item.prs.append(pr)
        self._review_and_close(pr, ai, abandon_p=0.22 if ai else 0.08)
        repo.prs.append(pr)
        self.prs.append(pr)
        return pr

    def _commit(
        self, pr: PR, at: datetime, ai: bool, tool: str | None, subject: str, body: str = ""
    ) -> None:
        rng = self.rng
        message = subject + (f"\n\n{body}" if body else "")
        if ai and tool:
            message += "\n\n" + rng.choice(TOOL_TRAILERS.get(tool, TOOL_TRAILERS["claude"]))
        elif not ai and rng.random() < 0.02:
            message += "\n\nMentions claude-config in passing; not an AI trailer."
        author = pr.author
        email = author.commit_email
        pr.commits.append(Commit(hex_id(rng), message, author, email, at, ai and bool(tool)))

    def _dependency_pr(self, day: date) -> None:
        bot = self.bots["dependabot[bot]"]
        pr = PR(
            uid=self.uid(),
            repo=self.rng.choice(self.repos),
            author=bot,
            kind="dependency",
            title="Bump requests from 2.31.0 to 2.32.4",
            head_ref="dependabot/pip/requests-2.32.4",
            created_at=work_time(self.rng, day),
            first_commit_at=work_time(self.rng, day),
        )
        pr.first_commit_at = pr.created_at - timedelta(minutes=1)
        pr.commits.append(
            Commit(hex_id(self.rng), pr.title, bot, bot.noreply_email, pr.first_commit_at)
        )
        pr.labels.append("dependencies")
        pr.additions, pr.deletions = 2, 2
        self._review_and_close(pr, False, abandon_p=0.3)
        pr.repo.prs.append(pr)
        self.prs.append(pr)

    def _reviewers(self, author: Person, k: int) -> list[Person]:
        pool = [p for p in self.humans if p is not author]
        return self.rng.sample(pool, min(k, len(pool)))

    def _review_and_close(self, pr: PR, ai: bool, abandon_p: float, quick: bool = False) -> None:
        """Bot feedback, human review sessions and fix-up pushes, then merge or abandon."""
        rng = self.rng
        opened = pr.ready_at or pr.created_at
        bots = self.bots
        if not quick and rng.random() < 0.7:
            bot_review = Event(
                "review",
                bots["coderabbitai[bot]"].github_login,
                after(rng, opened, 4, 0.3),
                "COMMENTED",
                "Summary by CodeRabbit",
            )
            pr.events.append(bot_review)
            for _ in range(rng.randint(0, 2)):
                pr.events.append(
                    Event(
                        "review_comment",
                        bot_review.login,
                        bot_review.at,
                        body="Consider handling the error case.",
                        review=bot_review,
                    )
                )
        if rng.random() < 0.5:
            pr.events.append(
                Event(
                    "issue_comment",
                    bots["github-actions[bot]"].github_login,
                    after(rng, opened, 6, 0.3),
                    body="Coverage: 87.2% (+0.3%)",
                )
            )
        reviewers = self._reviewers(
            pr.author if pr.author.is_human else self.humans[0],
            1 if quick or rng.random() < 0.6 else 2,
        )
        t = after(rng, opened, 25 if quick else 150, 1.0)  # pickup
        rounds = 1 if quick else 1 + poisson(rng, 0.9 if ai else 0.5)
        last_approval = None
        for rnd in range(rounds):
            final = rnd == rounds - 1
            for j, reviewer in enumerate(reviewers):
                at = t + timedelta(minutes=rng.uniform(0, 50) * j)
                comments = rng.randint(0, 4 if not quick else 1)
                review = Event("review", reviewer.github_login, at, "COMMENTED")
                for _ in range(comments):
                    at += timedelta(minutes=rng.uniform(1, 24 if rng.random() < 0.85 else 70))
                    pr.events.append(
                        Event(
                            "review_comment",
                            reviewer.github_login,
                            at,
                            body=rng.choice(
                                [
                                    "nit: naming",
                                    "Why not reuse the helper?",
                                    "This needs a test.",
                                    "👍 looks good",
                                    "Could this race?",
                                ]
                            ),
                            review=review,
                        )
                    )
                at += timedelta(minutes=rng.uniform(1, 12))
                review.at = at
                if j == 0:
                    review.state = "APPROVED" if final else "CHANGES_REQUESTED"
                review.body = "" if review.state == "APPROVED" else "Some comments inline."
                pr.events.append(review)
                if review.state == "APPROVED":
                    last_approval = at
                if rng.random() < 0.25:
                    pr.events.append(
                        Event(
                            "issue_comment",
                            reviewer.github_login,
                            at + timedelta(minutes=rng.uniform(1, 10)),
                            body="Also, can we follow up on the docs?",
                        )
                    )
            if not final:
                fix_at = after(rng, t, 240, 0.9)
                tool = rng.choice(pr.author.tools) if pr.ai and pr.author.tools else None
                self._commit(
                    pr, fix_at, pr.ai and rng.random() < 0.6, tool, "Address review comments"
                )
                if pr.author.is_human and rng.random() < 0.5:
                    pr.events.append(
                        Event(
                            "issue_comment",
                            pr.author.github_login,
                            fix_at + timedelta(minutes=2),
                            body="Addressed, PTAL.",
                        )
                    )
                t = after(rng, fix_at, 90, 0.9)
        if rng.random() < abandon_p:
            pr.closed_at = after(rng, t, 60 * 24 * 3, 1.0)
        else:
            pr.merged_at = after(rng, last_approval or t, 45, 1.0)
            pr.closed_at = pr.merged_at
            pr.merged_by = (
                rng.choice([pr.author, *reviewers]) if pr.author.is_human else reviewers[0]
            )
            pr.merge_sha = hex_id(rng)
        if pr.merged_at and pr.merged_at > self.as_of:  # not merged yet as of the end
            pr.merged_at = pr.closed_at = pr.merged_by = pr.merge_sha = None
        if pr.closed_at and pr.closed_at > self.as_of:
            pr.closed_at = None

    # --- deployments -------------------------------------------------------------------

    def _deploy_all(self) -> None:
        for repo in self.repos:
            if not repo.pushes:
                repo.pushes = direct_pushes(self.seed, repo, self.humans, self.start, self.end)
            history = build_history(self.seed, repo)
            repo.git = history.commits
            repo.deployments = deploy_repo(self, repo, history)

    def _errors_after_rollbacks(self) -> None:
        """Some rollbacks do not cure it: the service pages again soon after, an incident
        that names nothing (docs/metrics.md attributes it by time to the rollback)."""
        rolled_back: dict[int, Deployment] = {}
        for repo in self.repos:
            for dep in repo.deployments:
                if dep.kind == "rollback" and dep.incident is not None:
                    rolled_back[dep.incident.uid] = dep  # the last environment rolled back
        for uid, dep in sorted(rolled_back.items()):
            rng = rng_for(self.seed, "after-rollback", uid)
            if rng.random() < 0.6:
                service = next(s for s in self.services if s.repo is dep.repo)
                at = dep.finished_at + timedelta(minutes=rng.randint(10, 40))
                if at <= self.as_of:
                    self._incident(
                        service, at, f"{service.name}: errors persist after rollback", rng
                    )

    # --- what comes back ---------------------------------------------------------------

    def _maybe_revert(self, pr: PR) -> None:
        rng = self.rng
        p = 0.03 + (0.05 if pr.ai else 0) + (0.02 if self._review_minutes(pr) < 20 else 0)
        if rng.random() >= p:
            return
        shipped = pr.shipped_by.finished_at
        opened = after(rng, shipped, 60 * 24 * (2 if rng.random() < 0.8 else 40), 1.0)
        if opened > self.as_of:
            return
        author = rng.choice(self.humans)
        title = f'Revert "{pr.title}"'
        style = rng.choice(["number", "number", "sha", "title"])
        revert = PR(
            uid=self.uid(),
            repo=pr.repo,
            author=author,
            kind="revert",
            title=title,
            head_ref=f"revert-{pr.uid}-{slug(pr.head_ref, 20)}",
            created_at=opened,
            first_commit_at=opened - timedelta(minutes=3),
            reverts=pr,
            revert_style=style,
        )
        revert.commits.append(
            Commit(
                hex_id(rng), "{REVERT_COMMIT}", author, author.commit_email, revert.first_commit_at
            )
        )
        revert.additions, revert.deletions = pr.deletions, pr.additions
        self._review_and_close(revert, False, abandon_p=0.05, quick=True)
        pr.repo.prs.append(revert)
        self.prs.append(revert)

    def _review_minutes(self, pr: PR) -> float:
        human = [
            e
            for e in pr.events
            if not e.login.endswith("[bot]") and e.login != pr.author.github_login
        ]
        return (
            0.0
            if not human
            else (max(e.at for e in human) - min(e.at for e in human)).total_seconds() / 60
        )

    def _maybe_defect(self, pr: PR) -> None:
        rng = self.rng
        p = 0.06 * (2.2 if pr.ai else 1.0) * (1.5 if self._review_minutes(pr) < 20 else 1.0)
        if rng.random() >= p:
            return
        shipped = pr.shipped_by.finished_at
        if rng.random() < 0.55:
            self._bug_from(pr, after(rng, shipped, 60 * 24 * 6, 1.1))
        else:
            self._incident_from(pr, after(rng, shipped, 60 * 20, 1.2))

    def _bug_from(self, pr: PR, created: datetime) -> None:
        if created > self.as_of:
            return
        rng = self.rng
        reporter = rng.choice(self.people)
        bug = self._work_item(
            "bug",
            created,
            reporter,
            f"Regression: {pr.title.replace('{KEY}: ', '')}"[:120],
            pr.author if pr.author.is_human else rng.choice(self.humans),
        )
        how = rng.random()
        if how < 0.30:
            bug.description_pr = pr
        elif how < 0.40:
            bug.remote_link_pr = pr
        elif how < 0.50:
            bug.caused_by_pr = pr
        elif how < 0.75 and pr.item is not None:
            bug.caused_by_item = pr.item
        elif how < 0.85 and self.items:
            bug.relates_to = rng.choice(self.items)  # a weak link that is not a cause
        self._fix_pr_for(bug)

    def _fix_pr_for(self, bug: WorkItem) -> None:
        rng = self.rng
        if rng.random() > 0.6 or bug.assignee is None:
            return
        day = after(rng, bug.created, 60 * 24, 0.8).date()
        if day >= self.end:
            return
        self._feature_pr(bug.assignee, day, kind="fix", for_item=bug)

    def _incident_from(self, pr: PR, created: datetime, cause: Deployment | None = None) -> None:
        if created > self.as_of:
            return
        rng = self.rng
        service = next(s for s in self.services if s.repo is pr.repo)
        inc = self._incident(service, created, f"{service.name}: elevated 5xx after release")
        how = rng.random()
        if how < 0.25:
            inc.names_pr = pr
        elif how < 0.55:
            inc.names_deployment = pr.shipped_by
        if rng.random() < 0.4:
            inc.rollback_at = after(rng, inc.acknowledged_at or created, 25, 0.5)
            if inc.resolved_at and inc.rollback_at > inc.resolved_at:
                inc.rollback_at = inc.resolved_at - timedelta(minutes=1)

    def _incident(
        self, service: Service, created: datetime, title: str, rng: random.Random | None = None
    ) -> Incident:
        rng = rng or self.rng
        ack = after(rng, created, 6, 0.6)
        resolved = after(rng, ack, 120, 1.0)
        inc = Incident(
            uid=self.uid(),
            service=service,
            title=title,
            created_at=created,
            acknowledged_at=ack if ack <= self.as_of else None,
            resolved_at=resolved if resolved <= self.as_of else None,
            urgency=rng.choice(["high", "high", "low"]),
            assignee=rng.choice(self.humans),
        )
        self.incidents.append(inc)
        return inc

    def _background_defects(self) -> None:
        """Bugs and incidents that no change caused, or that nobody traced to one."""
        rng = self.rng
        for day in days_between(self.start, self.end):
            if rng.random() < 0.07:
                reporter = rng.choice(self.people)
                bug = self._work_item(
                    "bug",
                    work_time(rng, day),
                    reporter,
                    "Customer reports wrong total on invoice",
                    rng.choice(self.humans),
                )
                if self.items and rng.random() < 0.3:
                    bug.relates_to = rng.choice(self.items[:-1] or self.items)
            for service in self.services:
                if rng.random() < 0.02:
                    self._incident(
                        service, work_time(rng, day), f"{service.name}: database CPU high"
                    )

    # --- work items --------------------------------------------------------------------

    def _settle_work_items(self) -> None:
        """Status history of every work item, driven by its PRs (or by nothing)."""
        rng = self.rng
        for item in self.items:
            prs = [p for p in item.prs]
            if prs:
                start = min(p.first_commit_at for p in prs)
                item.transitions.append((max(start, item.created + timedelta(minutes=1)), "doing"))
                opened = min(p.created_at for p in prs)
                item.transitions.append(
                    (max(opened, item.transitions[-1][0] + timedelta(minutes=1)), "review")
                )
                merged = [p.merged_at for p in prs if p.merged_at]
                unfinished = [p for p in prs if not p.merged_at and not p.closed_at]
                if merged and not unfinished:
                    done = max(max(merged), item.transitions[-1][0]) + timedelta(
                        minutes=rng.randint(5, 300)
                    )
                    item.transitions.append((done, "done"))
            elif item.kind != "bug" and rng.random() < 0.5:
                doing = after(rng, item.created, 60 * 24, 1.0)
                item.transitions.append((doing, "doing"))
                item.transitions.append((after(rng, doing, 60 * 24 * 2, 1.0), "done"))
            if item.transitions[-1][1] == "done" and rng.random() < 0.06:
                reopened = item.transitions[-1][0] + timedelta(days=rng.uniform(1, 45))
                item.transitions.append((reopened, "doing"))
                item.transitions.append((after(rng, reopened, 60 * 24 * 2, 1.0), "done"))
            item.transitions = [t for t in item.transitions if t[0] <= self.as_of]

    # --- names -------------------------------------------------------------------------

    def locale_types(self) -> dict[str, tuple[str, str]]:
        return JIRA_LOCALES[self.locale]["types"]

    def status_name(self, step: str) -> str:
        return JIRA_LOCALES[self.locale]["status"][step]

    @staticmethod
    def status_category(step: str) -> str:
        return STATUS_CATEGORY[step]
