"""Turn one simulated team into store rows: numbers, ids and the texts that reference them.

Numbers are given in creation order (as GitHub and Jira do) only once the whole team is
simulated, so texts that cite a PR, a work item or a deployment are written here.
"""

from __future__ import annotations

import json
from collections import defaultdict
from datetime import datetime, timedelta

from org_simulator.catalog import CAUSED_BY_LINK, EMAIL_DOMAIN, ORG, RELATES_LINK
from org_simulator.people import Person
from org_simulator.team import PR, Deployment, Repo, TeamSimulation, WorkItem
from org_simulator.timeline import hex_id, rng_for

Rows = dict[str, list[dict]]

PR_URL = "https://github.com/{repo}/pull/{number}"
DEPLOYMENT_URL = "https://api.github.com/repos/{repo}/deployments/{id}"


def emit_team(sim: TeamSimulation) -> Rows:
    rows: Rows = defaultdict(list)
    as_of = sim.as_of
    _number_items(sim)
    _number_prs(sim)
    _number_deployments(sim)
    for repo in sim.repos:
        for pr in repo.prs:
            if pr.created_at <= as_of:
                _emit_pr(sim, pr, rows)
        for dep in repo.deployments:
            _emit_deployment(sim, dep, rows)
        _emit_history(sim, repo, rows)
    for item in sim.items:
        if item.created <= as_of:
            _emit_item(sim, item, rows)
    for inc in sim.incidents:
        _emit_incident(sim, inc, rows)
    return rows


# --- numbering -----------------------------------------------------------------------------


def _number_items(sim: TeamSimulation) -> None:
    for n, item in enumerate(sorted(sim.items, key=lambda i: (i.created, i.id)), start=1):
        item.key = f"{sim.jira_key}-{n}"


def _number_prs(sim: TeamSimulation) -> None:
    for repo in sim.repos:
        repo.prs.sort(key=lambda p: (p.created_at, p.uid))
        for n, pr in enumerate(repo.prs, start=1):
            pr.number = n


def _number_deployments(sim: TeamSimulation) -> None:
    for r, repo in enumerate(sim.repos):
        repo.deployments.sort(key=lambda d: (d.created_at, d.environment))
        for n, dep in enumerate(repo.deployments, start=1):
            dep.id = 700_000_000 + sim.index * 100_000 + r * 20_000 + n


def _render(text: str, pr: PR) -> str:
    return text.replace("{KEY}", pr.item.key) if pr.item else text.replace("{KEY}", "")


def pr_ref(pr: PR) -> str:
    return PR_URL.format(repo=pr.repo.full_name, number=pr.number)


def title_of(pr: PR) -> str:
    if pr.reverts is not None:
        return f'Revert "{title_of(pr.reverts)}"'
    return _render(pr.title, pr)


# --- GitHub --------------------------------------------------------------------------------


def _emit_pr(sim: TeamSimulation, pr: PR, rows: Rows) -> None:
    as_of, repo = sim.as_of, pr.repo.full_name
    title = title_of(pr)
    body = _render(pr.body, pr)
    if pr.reverts is not None:
        target = pr.reverts
        body = {
            "number": f"Reverts {repo}#{target.number}",
            "sha": f"This reverts commit {target.merge_sha}.",
            "title": "Rolling back: it broke checkout for some users.",
        }[pr.revert_style]
    commits = [c for c in pr.commits if c.at <= as_of]
    head_sha = commits[-1].sha if commits else hex_id(rng_for(sim.seed, "head", pr.uid))
    rows["gh_pull_requests"].append(
        {
            "id": pr.uid * 10 + 1,
            "repo_full_name": repo,
            "number": pr.number,
            "title": title,
            "body": body,
            "author_login": pr.author.github_login,
            "head_ref": _render(pr.head_ref, pr),
            "head_sha": head_sha,
            "base_ref": "main",
            "labels": json.dumps(pr.labels),
            "draft": pr.draft and (pr.ready_at is None or pr.ready_at > as_of),
            "ready_for_review_at": pr.ready_at if pr.ready_at and pr.ready_at <= as_of else None,
            "created_at": pr.created_at,
            "closed_at": pr.closed_at,
            "merged_at": pr.merged_at,
            "merge_commit_sha": pr.merge_sha,
            "merged_by_login": pr.merged_by.github_login if pr.merged_by else None,
            "additions": pr.additions,
            "deletions": pr.deletions,
            "changed_files": max(1, pr.additions // 40),
        }
    )
    activity = {pr.created_at} | {c.at for c in commits}
    for i, c in enumerate(commits):
        message = c.message
        if pr.reverts is not None:
            message = (
                f'Revert "{title_of(pr.reverts)}"\n\nThis reverts commit {pr.reverts.merge_sha}.'
            )
        author_login = c.author.github_login if c.email != c.author.personal_email else None
        rows["gh_commits"].append(
            {
                "repo_full_name": repo,
                "pr_number": pr.number,
                "sha": c.sha,
                "position": i,
                "message": message,
                "author_name": c.author.display_name,
                "author_email": c.email,
                "author_login": author_login,
                "author_date": c.at,
                "committer_name": "GitHub"
                if i == len(commits) - 1 and pr.merged_at
                else c.author.display_name,
                "committer_email": "noreply@github.com"
                if i == len(commits) - 1 and pr.merged_at
                else c.email,
                "committer_date": c.at + timedelta(seconds=30),
            }
        )
    review_ids: dict[int, int] = {}
    events = sorted((e for e in pr.events if e.at <= as_of), key=lambda e: (e.at, e.kind, e.login))
    for e in events:
        if e.kind == "review":
            review_ids[id(e)] = sim.uid() * 10 + 2
    for e in events:
        activity.add(e.at)
        if e.kind == "review":
            rows["gh_reviews"].append(
                {
                    "id": review_ids[id(e)],
                    "repo_full_name": repo,
                    "pr_number": pr.number,
                    "user_login": e.login,
                    "state": e.state,
                    "body": e.body,
                    "commit_id": head_sha,
                    "submitted_at": e.at,
                }
            )
        elif e.kind == "review_comment":
            rows["gh_review_comments"].append(
                {
                    "id": sim.uid() * 10 + 3,
                    "repo_full_name": repo,
                    "pr_number": pr.number,
                    "review_id": review_ids.get(id(e.review)),
                    "user_login": e.login,
                    "body": e.body,
                    "path": "src/app/handlers.py",
                    "line": 10 + (pr.uid % 200),
                    "commit_id": head_sha,
                    "created_at": e.at,
                    "updated_at": e.at,
                }
            )
        else:
            rows["gh_issue_comments"].append(
                {
                    "id": sim.uid() * 10 + 4,
                    "repo_full_name": repo,
                    "pr_number": pr.number,
                    "user_login": e.login,
                    "body": e.body,
                    "created_at": e.at,
                    "updated_at": e.at,
                }
            )
    for at in (pr.ready_at, pr.merged_at, pr.closed_at):
        if at and at <= as_of:
            activity.add(at)
    for at in sorted(activity):
        rows["gh_pull_request_activity"].append(
            {"repo_full_name": repo, "number": pr.number, "at": at}
        )
    _emit_ci(sim, pr, commits, rows)


def _emit_ci(sim: TeamSimulation, pr: PR, commits, rows: Rows) -> None:
    """A CI run per pushed commit (with failures and re-runs), and one on main at merge."""
    rng = rng_for(sim.seed, "ci", pr.uid)
    repo = pr.repo
    pushes = [(c.sha, c.at, "pull_request", _render(pr.head_ref, pr)) for c in commits]
    if pr.merged_at:
        pushes.append((pr.merge_sha, pr.merged_at, "push", "main"))
    for sha, at, event, branch in pushes:
        run_id = sim.uid() * 10 + 5
        created = at + timedelta(seconds=rng.randint(5, 90))
        outcome = rng.choices(["success", "failure", "cancelled"], [85, 11, 4])[0]
        attempts = 2 if outcome == "failure" and rng.random() < 0.5 else 1
        t = created
        conclusion = outcome
        jobs = []
        for attempt in range(1, attempts + 1):
            if attempt == 2:
                t += timedelta(minutes=rng.randint(3, 60))
                conclusion = "success" if rng.random() < 0.8 else "failure"
            failing = rng.choice(["build", "test", "lint"])
            for name in ("build", "test", "lint"):
                started = t + timedelta(seconds=rng.randint(5, 60))
                done = started + timedelta(seconds=rng.randint(40, 900))
                job_conclusion = "success"
                if conclusion == "failure" and name == failing:
                    job_conclusion = "failure"
                elif conclusion == "cancelled":
                    job_conclusion = "cancelled"
                jobs.append(
                    {
                        "id": sim.uid() * 10 + 6,
                        "run_id": run_id,
                        "repo_full_name": repo.full_name,
                        "run_attempt": attempt,
                        "name": name,
                        "head_sha": sha,
                        "status": "completed",
                        "conclusion": job_conclusion,
                        "created_at": t,
                        "started_at": started,
                        "completed_at": done,
                        "runner_name": f"GitHub Actions {rng.randint(1, 99)}",
                    }
                )
                last = done
            t = last
        if created > sim.as_of:
            continue
        rows["gh_workflow_jobs"].extend(j for j in jobs if j["created_at"] <= sim.as_of)
        rows["gh_workflow_runs"].append(
            {
                "id": run_id,
                "repo_full_name": repo.full_name,
                "workflow_id": repo.id * 10 + 1,
                "name": "CI",
                "path": ".github/workflows/ci.yml",
                "event": event,
                "head_branch": branch,
                "head_sha": sha,
                "pr_number": pr.number if event == "pull_request" else None,
                "actor_login": pr.author.github_login,
                "run_number": 0,
                "run_attempt": attempts,
                "status": "completed",
                "conclusion": conclusion,
                "created_at": created,
                "run_started_at": created,
                "updated_at": t,
            }
        )


DEPLOYMENT_DESCRIPTIONS = {
    "release": "Deploy {sha}",
    "redeploy": "Redeploy {sha}",
    "rollback": "Roll back to {sha}",
    "hotfix": "Hotfix {sha}",
}


def _emit_deployment(sim: TeamSimulation, dep: Deployment, rows: Rows) -> None:
    repo = dep.repo.full_name
    rows["gh_deployments"].append(
        {
            "id": dep.id,
            "repo_full_name": repo,
            "sha": dep.sha,
            "ref": dep.ref,
            "task": "deploy",
            "environment": dep.environment,
            "description": DEPLOYMENT_DESCRIPTIONS[dep.kind].format(sha=dep.sha[:7]),
            "creator_login": dep.creator,
            "payload": json.dumps({"previous_sha": dep.previous_sha}),
            "production_environment": dep.production_flag,
            "transient_environment": False,
            "created_at": dep.created_at,
            "updated_at": dep.finished_at,
        }
    )
    base = 800_000_000 + (dep.id - 700_000_000) * 4
    rows["gh_deployment_statuses"].append(
        {
            "id": base + 1,
            "deployment_id": dep.id,
            "repo_full_name": repo,
            "state": "in_progress",
            "environment": dep.environment,
            "description": "Deploying",
            "creator_login": dep.creator,
            "created_at": dep.created_at + timedelta(seconds=40),
        }
    )
    rows["gh_deployment_statuses"].append(
        {
            "id": base + 2,
            "deployment_id": dep.id,
            "repo_full_name": repo,
            "state": "success" if dep.succeeded else "failure",
            "environment": dep.environment,
            "description": "Deployed" if dep.succeeded else "Health checks failed",
            "creator_login": dep.creator,
            "created_at": dep.finished_at,
        }
    )
    if dep.workflow_run:  # one run deploys to every environment of its window
        rows["gh_workflow_runs"].append(
            {
                "id": dep.id * 10 + 7,
                "repo_full_name": repo,
                "workflow_id": dep.repo.id * 10 + 2,
                "name": "Deploy to production",
                "path": ".github/workflows/deploy.yml",
                "event": "push",
                "head_branch": "main",
                "head_sha": dep.sha,
                "pr_number": None,
                "actor_login": "github-actions[bot]",
                "run_number": 0,
                "run_attempt": 1,
                "status": "completed",
                "conclusion": "success" if dep.succeeded else "failure",
                "created_at": dep.created_at - timedelta(minutes=1),
                "run_started_at": dep.created_at - timedelta(minutes=1),
                "updated_at": dep.finished_at,
            }
        )


# --- main's history ------------------------------------------------------------------------

GITHUB = ("GitHub", "noreply@github.com", "web-flow")  # who commits what GitHub merges


def _identity(person: Person | None) -> tuple[str, str, str | None]:
    """(name, email, login) of a commit's author, as emit writes PR commits."""
    if person is None:  # the repository's first commit, before anyone here
        return "Acme Platform", f"platform@{EMAIL_DOMAIN}", None
    email = person.commit_email
    return (
        person.display_name,
        email,
        None if email == person.personal_email else person.github_login,
    )


def _emit_history(sim: TeamSimulation, repo: Repo, rows: Rows) -> None:
    """Every commit reachable from main (org_simulator.git_history): the merge, squash
    and rebase commits GitHub made, the PR commits merges brought in, direct pushes."""
    pushed = {r["sha"]: r for r in rows["gh_commits"] if r["repo_full_name"] == repo.full_name}
    for c in repo.git:
        source = pushed.get(c.source.sha) if c.source is not None else None
        name, email, login = _identity(c.author)
        author = {"author_name": name, "author_email": email, "author_login": login,
                  "author_date": c.at}  # fmt: skip
        committer = dict(zip(("committer_name", "committer_email", "committer_login"),
                             GITHUB, strict=True), committer_date=c.at)  # fmt: skip
        if c.kind in ("root", "push"):
            committer = {"committer_name": name, "committer_email": email,
                         "committer_login": login, "committer_date": c.at}  # fmt: skip
            message = "Initial commit" if c.kind == "root" else c.subject
        elif c.kind == "merge":
            branch = _render(c.pr.head_ref, c.pr)
            message = f"Merge pull request #{c.pr.number} from {ORG}/{branch}\n\n{title_of(c.pr)}"
        elif c.kind == "squash":
            subjects = [pushed[p.sha]["message"].split("\n")[0] for p in c.pr.commits]
            message = f"{title_of(c.pr)} (#{c.pr.number})"
            if len(subjects) > 1:
                message += "\n\n" + "\n\n".join(f"* {subject}" for subject in subjects)
        else:  # a PR commit a merge brought in, or its copy made by a rebase
            message = source["message"]
            author = {k: source[k] for k in author}
            if c.kind == "pr_commit":
                committer = {k: source[k] for k in committer if k != "committer_login"}
                committer["committer_login"] = source["author_login"] if (
                    source["committer_email"] == source["author_email"]) else None  # fmt: skip
        rows["gh_git_commits"].append(
            {
                "repo_full_name": repo.full_name,
                "sha": c.sha,
                "seq": c.seq,
                "main_seq": c.main_seq,
                "kind": c.kind,
                "pr_number": c.pr.number if c.pr is not None else None,
                "parents": json.dumps(c.parents),
                "message": message,
                **author,
                **committer,
            }
        )


# --- Jira ----------------------------------------------------------------------------------


def _emit_item(sim: TeamSimulation, item: WorkItem, rows: Rows) -> None:
    types = sim.locale_types()
    type_id, type_name = types[item.kind]
    description = {
        "story": "As a customer I want this so that checkout is faster.",
        "task": "Internal follow-up.",
        "bug": "Steps to reproduce: open the page, press pay. Expected: total. Actual: error.",
    }[item.kind]
    if item.description_pr is not None:
        description += f"\nStarted right after {pr_ref(item.description_pr)} went out."
    history = item.transitions
    updated = history[-1][0] if history else item.created
    rows["jira_issues"].append(
        {
            "id": item.id,
            "key": item.key,
            "project_key": sim.jira_key,
            "issuetype_id": type_id,
            "issuetype_name": type_name,
            "summary": item.summary,
            "description": description,
            "priority": "High" if item.kind == "bug" else "Medium",
            "assignee_account_id": item.assignee.jira_account_id if item.assignee else None,
            "reporter_account_id": item.reporter.jira_account_id,
            "labels": json.dumps(["regression"] if item.kind == "bug" else []),
            "caused_by_pr": (
                f"{item.caused_by_pr.repo.full_name}#{item.caused_by_pr.number}"
                if item.caused_by_pr
                else None
            ),
            "created": item.created,
            "updated": updated,
        }
    )
    for n, ((at, step), (_, prev)) in enumerate(zip(history[1:], history[:-1], strict=True)):
        rows["jira_changelog"].append(
            {
                "history_id": item.id * 100 + n,
                "issue_key": item.key,
                "author_account_id": (item.assignee or item.reporter).jira_account_id,
                "created": at,
                "field": "status",
                "from_value": _status_id(prev),
                "from_string": sim.status_name(prev),
                "to_value": _status_id(step),
                "to_string": sim.status_name(step),
                "to_status_category": sim.status_category(step),
            }
        )
    if item.caused_by_item is not None and item.caused_by_item.created <= sim.as_of:
        name, inward, outward = CAUSED_BY_LINK
        rows["jira_issue_links"].append(
            {
                "id": item.id * 10 + 1,
                "type_name": name,
                "inward_desc": inward,
                "outward_desc": outward,
                "outward_issue_key": item.caused_by_item.key,
                "inward_issue_key": item.key,
                "created": item.created,
            }
        )
    if item.relates_to is not None and item.relates_to.created <= sim.as_of:
        name, inward, outward = RELATES_LINK
        rows["jira_issue_links"].append(
            {
                "id": item.id * 10 + 2,
                "type_name": name,
                "inward_desc": inward,
                "outward_desc": outward,
                "outward_issue_key": item.key,
                "inward_issue_key": item.relates_to.key,
                "created": item.created,
            }
        )
    if item.remote_link_pr is not None:
        rows["jira_remote_links"].append(
            {
                "id": item.id * 10 + 3,
                "issue_key": item.key,
                "url": pr_ref(item.remote_link_pr),
                "title": f"{item.remote_link_pr.repo.full_name}#{item.remote_link_pr.number}",
                "relationship": "caused by",
                "created": item.created,
            }
        )


def _status_id(step: str) -> str:
    return {"todo": "10000", "doing": "3", "review": "10001", "done": "10002"}[step]


# --- PagerDuty -----------------------------------------------------------------------------


def _emit_incident(sim: TeamSimulation, inc, rows: Rows) -> None:
    inc_id = "Q" + _base36(inc.uid)
    description = "Alert fired on error rate."
    if inc.names_pr is not None:
        description += f" Suspected change: {pr_ref(inc.names_pr)}"
    rows["pd_incidents"].append(
        {
            "id": inc_id,
            "incident_number": 0,
            "title": inc.title,
            "description": description,
            "urgency": inc.urgency,
            "priority": "P1" if inc.urgency == "high" else None,
            "service_id": inc.service.id,
            "team_id": f"PT{sim.index:04d}",
            "assignee_id": inc.assignee.pagerduty_user_id if inc.assignee else None,
            "incident_key": hex_id(rng_for(sim.seed, "ikey", inc.uid), 32),
            "created_at": inc.created_at,
            "acknowledged_at": inc.acknowledged_at,
            "resolved_at": inc.resolved_at,
        }
    )
    entries: list[tuple[datetime, str, str, str | None]] = [
        (inc.created_at, "trigger_log_entry", "Triggered through the API.", None)
    ]
    if inc.acknowledged_at:
        entries.append((inc.acknowledged_at, "acknowledge_log_entry", "Acknowledged", None))
    if inc.names_deployment is not None:
        dep = inc.names_deployment
        note = (
            "Deploy "
            + DEPLOYMENT_URL.format(repo=dep.repo.full_name, id=dep.id)
            + " looks related."
        )
        at = (inc.acknowledged_at or inc.created_at) + timedelta(minutes=3)
        entries.append((at, "annotate_log_entry", "Note added", note))
    if inc.rollback_at:
        entries.append(
            (
                inc.rollback_at,
                "annotate_log_entry",
                "Note added",
                "Rolled back to the previous release; error rate recovering.",
            )
        )
    if inc.resolved_at:
        entries.append((inc.resolved_at, "resolve_log_entry", "Resolved", None))
    agent = inc.assignee.pagerduty_user_id if inc.assignee else None
    for n, (at, kind, summary, note) in enumerate(sorted(entries, key=lambda e: e[0])):
        if at > sim.as_of:
            continue
        rows["pd_log_entries"].append(
            {
                "id": f"R{_base36(inc.uid)}{n:02d}",
                "incident_id": inc_id,
                "type": kind,
                "created_at": at,
                "agent_type": "service_reference"
                if kind == "trigger_log_entry"
                else "user_reference",
                "agent_id": inc.service.id if kind == "trigger_log_entry" else agent,
                "summary": summary,
                "note": note,
            }
        )


def _base36(n: int) -> str:
    digits = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"
    out = ""
    while n:
        n, r = divmod(n, 36)
        out = digits[r] + out
    return out or "0"
