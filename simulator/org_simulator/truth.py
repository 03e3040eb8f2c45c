"""Ground truth: the facts docs/metrics.md defines, computed from a team's rows by its rules.

This is a second, plain-Python implementation of the metric rules over exactly the records the
vendor APIs serve, so the warehouse's SQL can be checked against it. Where docs/metrics.md leaves a
choice open, the choice is written in PARAMETERS and in docs/simulator.md.
"""

from __future__ import annotations

import json
import re
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal

from org_simulator.billing import token_cost
from org_simulator.catalog import AI_SIGNATURES, BUG_ISSUE_TYPES, CAUSED_BY_LINK
from org_simulator.truth_deployments import PRODUCTION_PATTERNS, Deployments

PARAMETERS = {
    "survival_horizon_days": "30",
    "review_session_gap_minutes": "30",
    "review_session_floor_minutes": "15",
    "review_session_cap_minutes": "240",
    "bug_issue_types": json.dumps(BUG_ISSUE_TYPES, ensure_ascii=False),
    "production_environments": json.dumps(list(PRODUCTION_PATTERNS)),
    "caused_by_link_types": json.dumps([CAUSED_BY_LINK[0]]),
    "attribute_incidents_by_time": "true",
    # Choices where docs/metrics.md is silent:
    "work_item_causes": "merged PRs whose title or head branch names the key",
    "revert_title_rule": "latest PR of the same repository merged before the revert opened",
    "in_flight_open_pr_until": "the last simulated day (as_of - 1 day)",
    "named_deployment_failures": "a named deployment fails when it is a production one, "
    "whatever its outcome; change failure rate counts the successful ones",
}
H = timedelta(days=30)
GAP, FLOOR, CAP = 30.0, 15.0, 240.0

PR_URL_RE = re.compile(r"https://github\.com/([\w.-]+/[\w.-]+)/pull/(\d+)")
PR_SHORT_RE = re.compile(r"(?<![\w/])([\w.-]+/[\w.-]+)#(\d+)\b")
DEPLOY_RE = re.compile(r"/repos/([\w.-]+/[\w.-]+)/deployments/(\d+)")
ROLLBACK_RE = re.compile(r"rollback|roll back|rolled back", re.IGNORECASE)
REVERTS_RE = re.compile(r"Reverts ([\w.-]+/[\w.-]+)#(\d+)")
REVERT_SHA_RE = re.compile(r"This reverts commit ([0-9a-f]{7,40})")
KEY_RE = re.compile(r"\b([A-Z][A-Z0-9]+-\d+)\b")


@dataclass
class Identity:
    """The identity seed, resolved in the order of docs/metrics.md: mapped id, email, unresolved."""

    by_login: dict[str, str] = field(default_factory=dict)
    by_jira: dict[str, str] = field(default_factory=dict)
    by_pd: dict[str, str] = field(default_factory=dict)
    by_email: dict[str, str] = field(default_factory=dict)
    bots: set[str] = field(default_factory=set)
    team_of: dict[str, str] = field(default_factory=dict)

    @classmethod
    def from_seed(cls, seed_rows: list[dict]) -> Identity:
        ident = cls()
        for r in seed_rows:
            pid = r["person_id"]
            if r["github_login"]:
                ident.by_login[r["github_login"].lower()] = pid
            if r["jira_account_id"]:
                ident.by_jira[r["jira_account_id"]] = pid
            if r["pagerduty_user_id"]:
                ident.by_pd[r["pagerduty_user_id"]] = pid
            for email in filter(None, (r["emails"] or "").split(";")):
                ident.by_email[email.lower()] = pid
            if r["is_bot"]:
                ident.bots.add(pid)
            ident.team_of[pid] = r["team"]
        return ident

    def email(self, email: str | None) -> tuple[str | None, str | None]:
        if not email:
            return None, None
        email = email.lower()
        if email in self.by_email:
            return self.by_email[email], "email"
        m = re.fullmatch(r"\d+\+([^@]+)@users\.noreply\.github\.com", email)
        if m and m.group(1) in self.by_login:
            return self.by_login[m.group(1)], "noreply_email"
        return None, None

    def github(self, login: str | None) -> str | None:
        return self.by_login.get(login.lower()) if login else None

    def is_bot_login(self, login: str) -> bool:
        return login.endswith("[bot]") or self.github(login) in self.bots


def compute_truth(
    rows: dict[str, list[dict]],
    ident: Identity,
    seed_keys: list[dict],
    service_repos: dict[str, str],
    as_of: datetime,
) -> dict[str, list[dict]]:
    out: dict[str, list[dict]] = defaultdict(list)
    deployments = Deployments(rows)
    prs = _pull_requests(rows, ident, deployments, out)
    _defects(rows, prs, deployments, service_repos, out)
    rolled_back = _rollbacks_and_survival(rows, prs, out, as_of)
    out["truth_pull_requests"] = list(prs.values())
    out["truth_deployments"] = deployments.rows(rolled_back)
    _spend(rows, ident, seed_keys, prs, as_of, out)
    return out


# --- pull requests -----------------------------------------------------------------------------


def _pull_requests(rows, ident: Identity, deployments, out) -> dict[tuple[str, int], dict]:
    commits, events = defaultdict(list), defaultdict(list)
    for c in rows["gh_commits"]:
        commits[(c["repo_full_name"], c["pr_number"])].append(c)
    for table, at in (
        ("gh_reviews", "submitted_at"),
        ("gh_review_comments", "created_at"),
        ("gh_issue_comments", "created_at"),
    ):
        for e in rows[table]:
            events[(e["repo_full_name"], e["pr_number"])].append((e[at], e["user_login"], e))
    trailers = [p.lower() for k, p, _ in AI_SIGNATURES if k == "trailer"]
    prefixes = [p for k, p, _ in AI_SIGNATURES if k == "branch_prefix"]
    labels = {p for k, p, _ in AI_SIGNATURES if k == "label"}
    agents = {p for k, p, _ in AI_SIGNATURES if k == "author"}
    keys = {r["key"] for r in rows["jira_issues"]}
    prs = {}
    for pr in rows["gh_pull_requests"]:
        k = (pr["repo_full_name"], pr["number"])
        author = pr["author_login"]
        pcs = commits[k]
        ai_commits = sum(1 for c in pcs if any(t in c["message"].lower() for t in trailers))
        reasons = []
        if ai_commits:
            reasons.append("commit_signature")
        if author in agents:
            reasons.append("agent_author")
        if any(pr["head_ref"].startswith(p) for p in prefixes):
            reasons.append("branch_prefix")
        if labels & set(json.loads(pr["labels"])):
            reasons.append("label")
        human = sorted(
            (at, login)
            for at, login, _ in events[k]
            if login != author and not ident.is_bot_login(login)
        )
        sessions = _sessions(k, events[k], author, ident, out)
        ship = deployments.ship(k[0], k[1], pr["merged_at"], pr["merge_commit_sha"])
        outcome = "merged" if pr["merged_at"] else ("abandoned" if pr["closed_at"] else "open")
        work_items = sorted(
            {m for m in KEY_RE.findall(pr["title"] + " " + pr["head_ref"]) if m in keys}
        )
        prs[k] = {
            "repo_full_name": k[0],
            "number": k[1],
            "pr_id": pr["id"],
            "author_login": author,
            "author_person_id": ident.github(author),
            "team_id": None,
            "is_bot_author": ident.is_bot_login(author),
            "is_ai_assisted": bool(reasons),
            "ai_reasons": ",".join(reasons),
            "commit_count": len(pcs),
            "ai_commit_count": ai_commits,
            "ai_commit_share": ai_commits / len(pcs) if pcs else None,
            "first_commit_at": min((c["author_date"] for c in pcs), default=None),
            "opened_at": pr["created_at"],
            "first_human_event_at": human[0][0] if human else None,
            "merged_at": pr["merged_at"],
            "closed_at": pr["closed_at"],
            "outcome": outcome,
            "shipped_at": ship[0].finished_at if ship else None,
            "shipping_deployment_id": ship[0].id if ship else None,
            "ship_rule": ship[1] if ship else None,
            "reverted_at": None,
            "reverted_by_number": None,
            "rolled_back_at": None,
            "censored": None,
            "survived": None,
            "review_hours": sum(s["minutes"] for s in sessions) / 60.0,
            "human_reviewers": len({s["reviewer_login"] for s in sessions}),
            "changes_requested": sum(
                1
                for _, login, e in events[k]
                if e.get("state") == "CHANGES_REQUESTED"
                and login != author
                and not ident.is_bot_login(login)
            ),
            "implements_work_item": ",".join(work_items) or None,
            "_title": pr["title"],
            "_body": pr["body"] or "",
            "_merge_sha": pr["merge_commit_sha"],
        }
    _reverts(prs)
    for p in prs.values():
        p["team_id"] = ident.team_of.get(p["author_person_id"])
    return prs


def _sessions(k, events, author: str, ident: Identity, out) -> list[dict]:
    by_reviewer = defaultdict(list)
    for at, login, _ in events:
        if login != author and not ident.is_bot_login(login):
            by_reviewer[login].append(at)
    sessions = []
    for login in sorted(by_reviewer):
        times = sorted(by_reviewer[login])
        groups = [[times[0]]]
        for t in times[1:]:
            if (t - groups[-1][-1]).total_seconds() / 60 > GAP:
                groups.append([t])
            else:
                groups[-1].append(t)
        for i, g in enumerate(groups):
            minutes = min(CAP, (g[-1] - g[0]).total_seconds() / 60 + FLOOR)
            row = {
                "repo_full_name": k[0],
                "number": k[1],
                "reviewer_login": login,
                "session_index": i + 1,
                "started_at": g[0],
                "ended_at": g[-1],
                "events": len(g),
                "minutes": minutes,
            }
            sessions.append(row)
            out["truth_review_sessions"].append(row)
    return sessions


def _reverts(prs: dict) -> None:
    by_sha = {p["_merge_sha"]: p for p in prs.values() if p["_merge_sha"]}
    by_title = defaultdict(list)
    for p in prs.values():
        if p["merged_at"]:
            by_title[(p["repo_full_name"], p["_title"])].append(p)
    for r in sorted(prs.values(), key=lambda p: (p["merged_at"] or datetime.max, p["pr_id"])):
        if not r["merged_at"]:
            continue
        targets = []
        for repo, n in REVERTS_RE.findall(r["_body"]):
            if (repo, int(n)) in prs:
                targets.append(prs[(repo, int(n))])
        for sha in REVERT_SHA_RE.findall(r["_body"]):
            targets += [p for s, p in by_sha.items() if s.startswith(sha)]
        m = re.fullmatch(r'Revert "(.*)"', r["_title"], re.DOTALL)
        if m:
            earlier = [
                p
                for p in by_title[(r["repo_full_name"], m.group(1))]
                if p["merged_at"] < r["opened_at"]
            ]
            if earlier:
                targets.append(max(earlier, key=lambda p: (p["merged_at"], p["number"])))
        for p in targets:
            if p is not r and (p["reverted_at"] is None or r["merged_at"] < p["reverted_at"]):
                p["reverted_at"], p["reverted_by_number"] = r["merged_at"], r["number"]


# --- defects -----------------------------------------------------------------------------------


def _pr_refs(text: str, prs) -> set[tuple[str, int]]:
    refs = {(repo, int(n)) for repo, n in PR_URL_RE.findall(text or "")}
    refs |= {(repo, int(n)) for repo, n in PR_SHORT_RE.findall(text or "")}
    return {r for r in refs if r in prs}


def _defects(rows, prs, deployments: Deployments, service_repos: dict[str, str], out) -> None:
    bug_types = set(BUG_ISSUE_TYPES)
    remote = defaultdict(list)
    for link in rows["jira_remote_links"]:
        remote[link["issue_key"]].append(link["url"])
    caused_by = defaultdict(list)
    for link in rows["jira_issue_links"]:
        if link["type_name"] == CAUSED_BY_LINK[0]:
            caused_by[link["inward_issue_key"]].append(link["outward_issue_key"])
    implementers = defaultdict(set)
    for k, p in prs.items():
        if p["implements_work_item"] and p["merged_at"]:
            for key in p["implements_work_item"].split(","):
                implementers[key].add(k)
    shipped_by = defaultdict(set)
    for k, p in prs.items():
        if p["shipping_deployment_id"]:
            shipped_by[p["shipping_deployment_id"]].add(k)

    def record(defect_id, kind, created, rule, causes):
        if not causes:
            out["truth_defect_attribution"].append(
                {
                    "defect_id": defect_id,
                    "defect_kind": kind,
                    "created_at": created,
                    "rule": "unattributed",
                    "repo_full_name": None,
                    "number": None,
                    "weight": 1.0,
                }
            )
            return
        for repo, n in sorted(causes):
            out["truth_defect_attribution"].append(
                {
                    "defect_id": defect_id,
                    "defect_kind": kind,
                    "created_at": created,
                    "rule": rule,
                    "repo_full_name": repo,
                    "number": n,
                    "weight": 1.0 / len(causes),
                }
            )

    for issue in rows["jira_issues"]:
        if issue["issuetype_name"] not in bug_types:
            continue
        text = " ".join(
            [issue["description"] or "", issue["caused_by_pr"] or "", *remote[issue["key"]]]
        )
        explicit = _pr_refs(text, prs)
        if explicit:
            record(issue["key"], "work_item", issue["created"], "explicit", explicit)
            continue
        via_items = (
            set().union(*(implementers[k] for k in caused_by[issue["key"]]))
            if caused_by[issue["key"]]
            else set()
        )
        record(issue["key"], "work_item", issue["created"], "work_item", via_items)

    notes = defaultdict(list)
    for e in rows["pd_log_entries"]:
        notes[e["incident_id"]].append(" ".join(filter(None, [e["summary"], e["note"]])))
    # An incident is also a failure of the production deployments its rule points at.
    for inc in rows["pd_incidents"]:
        text = " ".join([inc["title"], inc["description"] or "", *notes[inc["id"]]])
        explicit = _pr_refs(text, prs)
        if explicit:
            record(inc["id"], "incident", inc["created_at"], "explicit", explicit)
            shipping = [prs[k]["shipping_deployment_id"] for k in explicit]
            deployments.link(inc["id"], filter(None, shipping), "explicit", out)
            continue
        named = {int(i) for _, i in DEPLOY_RE.findall(text)}
        if named:
            record(
                inc["id"],
                "incident",
                inc["created_at"],
                "deployment",
                set().union(*(shipped_by[i] for i in named)),
            )
            deployments.link(inc["id"], named, "deployment", out)
            continue
        repo = service_repos.get(inc["service_id"])
        latest = deployments.latest_before(repo, inc["created_at"]) if repo else None
        causes = shipped_by[latest.id] if latest else set()
        record(inc["id"], "incident", inc["created_at"], "time", causes)
        if latest is not None:
            deployments.link(inc["id"], [latest.id], "time", out)


def _rollbacks_and_survival(rows, prs, out, as_of: datetime) -> set[str]:
    """Rolled back and survived per PR; returns the incidents that were rolled back."""
    rollback_at = {}
    for e in sorted(rows["pd_log_entries"], key=lambda e: e["created_at"]):
        text = " ".join(filter(None, [e["summary"], e["note"]]))
        if ROLLBACK_RE.search(text) and e["incident_id"] not in rollback_at:
            rollback_at[e["incident_id"]] = e["created_at"]
    for a in out["truth_defect_attribution"]:
        if a["defect_kind"] == "incident" and a["number"] and a["defect_id"] in rollback_at:
            p = prs[(a["repo_full_name"], a["number"])]
            at = rollback_at[a["defect_id"]]
            if p["rolled_back_at"] is None or at < p["rolled_back_at"]:
                p["rolled_back_at"] = at
    for p in prs.values():
        if p["shipped_at"] is None:
            continue
        p["censored"] = p["shipped_at"] > as_of - H
        if not p["censored"]:
            limit = p["shipped_at"] + H
            failed = any(
                t is not None and t <= limit for t in (p["reverted_at"], p["rolled_back_at"])
            )
            p["survived"] = not failed
    for p in prs.values():
        for key in ("_title", "_body", "_merge_sha"):
            p.pop(key)
    return set(rollback_at)


# --- spend -------------------------------------------------------------------------------------


def _spend(rows, ident: Identity, seed_keys: list[dict], prs, as_of: datetime, out) -> None:
    key_person = {k["api_key_id"]: k["person_id"] for k in seed_keys if k["api_key_id"]}
    key_team = {k["api_key_id"]: k["team"] for k in seed_keys if k["api_key_id"]}
    user_email = {u["id"]: u["email"] for u in rows["openai_users"]}
    spend = defaultdict(Decimal)
    for u in rows["anthropic_messages_usage"]:
        tokens = {
            "uncached_input": u["uncached_input_tokens"],
            "cache_write_5m": u["cache_creation_5m_input_tokens"],
            "cache_write_1h": u["cache_creation_1h_input_tokens"],
            "cache_read": u["cache_read_input_tokens"],
            "output": u["output_tokens"],
        }
        person = key_person.get(u["api_key_id"])
        by = (
            "api_key"
            if person
            else ("api_key_team" if key_team.get(u["api_key_id"]) else "unattributed")
        )
        team = ident.team_of.get(person) if person else key_team.get(u["api_key_id"])
        spend[(u["bucket_date"], "anthropic", u["model"], person, team, by)] += token_cost(
            u["model"], tokens
        )
    for u in rows["openai_completions_usage"]:
        tokens = {
            "input": u["input_tokens"],
            "cached_input": u["input_cached_tokens"],
            "output": u["output_tokens"],
        }
        person, by = ident.email(user_email.get(u["user_id"]))
        if person:
            by = "user_email"
        else:
            person = key_person.get(u["api_key_id"])
            by = (
                "api_key"
                if person
                else ("api_key_team" if key_team.get(u["api_key_id"]) else "unattributed")
            )
        team = ident.team_of.get(person) if person else key_team.get(u["api_key_id"])
        spend[(u["bucket_date"], "openai", u["model"], person, team, by)] += token_cost(
            u["model"], tokens
        )
    person_day = defaultdict(Decimal)
    for (day, provider, model, person, team, by), usd in sorted(
        spend.items(), key=lambda kv: str(kv[0])
    ):
        out["truth_spend"].append(
            {
                "day": day,
                "provider": provider,
                "model": model,
                "person_id": person,
                "team_id": team,
                "attributed_by": by,
                "cost_usd": usd.quantize(Decimal("0.000001")),
            }
        )
        if person:
            person_day[(person, day)] += usd
    in_flight = defaultdict(list)
    last_day = (as_of - timedelta(days=1)).date()
    for (repo, n), p in prs.items():
        if not p["author_person_id"]:
            continue
        start = min(filter(None, [p["first_commit_at"], p["opened_at"]])).date()
        end_at = p["merged_at"] or p["closed_at"]
        end = end_at.date() if end_at else last_day
        in_flight[p["author_person_id"]].append((start, end, repo, n))
    for (person, day), usd in sorted(person_day.items()):
        live = sorted((repo, n) for s, e, repo, n in in_flight[person] if s <= day <= e)
        usd = usd.quantize(Decimal("0.000001"))
        if not live:
            out["truth_spend_allocation"].append(
                {
                    "day": day,
                    "person_id": person,
                    "repo_full_name": None,
                    "number": None,
                    "cost_usd": usd,
                }
            )
            continue
        share = (usd / len(live)).quantize(Decimal("0.000001"), rounding="ROUND_DOWN")
        for i, (repo, n) in enumerate(live):
            amount = share + (usd - share * len(live) if i == 0 else 0)
            out["truth_spend_allocation"].append(
                {
                    "day": day,
                    "person_id": person,
                    "repo_full_name": repo,
                    "number": n,
                    "cost_usd": amount,
                }
            )
