"""Generate a simulated organisation into a store (a DuckDB file), team by team.

Deterministic: a seed and a size give the same rows, and so the same API responses. Memory is
bounded by one team, so the scale presets stream to disk.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path

import duckdb
import pandas as pd

from org_simulator.billing import TeamBilling, claude_code_breakdown
from org_simulator.catalog import AI_SIGNATURES, MODELS, PRICES_VALID_FROM, TEAM_NAMES
from org_simulator.emit import emit_team
from org_simulator.options import Generation
from org_simulator.people import Person, make_bots, make_team_people
from org_simulator.schema import create_all
from org_simulator.sizes import AS_OF, get_size
from org_simulator.team import TeamSimulation
from org_simulator.timeline import rng_for
from org_simulator.truth import PARAMETERS, Identity, compute_truth

STORE_VERSION = "4"


class StoreWriter:
    """Appends rows (dicts) to store tables, in bulk through pandas."""

    def __init__(self, con: duckdb.DuckDBPyConnection):
        self.con = con
        self._columns: dict[str, list[str]] = {}

    def columns(self, table: str) -> list[str]:
        if table not in self._columns:
            rows = self.con.execute(
                "select column_name from information_schema.columns where table_name = ? "
                "order by ordinal_position",
                [table],
            ).fetchall()
            self._columns[table] = [r[0] for r in rows]
        return self._columns[table]

    def write(self, table: str, rows: list[dict]) -> None:
        if not rows:
            return
        cols = self.columns(table)
        frame = pd.DataFrame.from_records([[r.get(c) for c in cols] for r in rows], columns=cols)
        for c in cols:  # exact decimals travel as text and are cast by the insert
            if frame[c].map(lambda v: isinstance(v, Decimal)).any():
                frame[c] = frame[c].map(lambda v: None if v is None else str(v))
        self.con.register("_batch", frame)
        self.con.execute(f"insert into {table} select * from _batch")
        self.con.unregister("_batch")


def team_name(index: int) -> str:
    base = TEAM_NAMES[index % len(TEAM_NAMES)]
    return base if index < len(TEAM_NAMES) else f"{base}-{index // len(TEAM_NAMES) + 1}"


def jira_key(index: int) -> str:
    base = TEAM_NAMES[index % len(TEAM_NAMES)][:3].upper()
    return base if index < len(TEAM_NAMES) else f"{base}{index // len(TEAM_NAMES) + 1}"


def generate_org(
    size: str = "demo",
    seed: int = 42,
    path: Path | str = "sim.duckdb",
    generation: Generation | None = None,
) -> Path:
    """Write the organisation of this size and seed to a fresh store at `path`.

    `generation` (org_simulator.options): billing providers whose usage and cost
    reports are empty (the truth then has no spend from them), the merge styles PRs land
    with, and the production environments' names; the default is the full organisation.
    """
    generation = generation or Generation()
    spec = get_size(size)
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    for stale in (path, path.with_name(path.name + ".wal")):
        stale.unlink(missing_ok=True)
    start = (AS_OF - timedelta(days=spec.days)).date()
    con = duckdb.connect(str(path))
    try:
        create_all(con)
        out = StoreWriter(con)
        bots = make_bots()
        _write_org_level(out, spec, seed, start, bots, generation)
        per_team = _split(spec.engineers, spec.teams)
        for index in range(spec.teams):
            _write_team(out, seed, index, per_team[index], bots, start, generation)
        # PagerDuty numbers incidents across the account in creation order.
        con.execute("""
            update pd_incidents set incident_number = n.rn
            from (select id, row_number() over (order by created_at, id) as rn
                  from pd_incidents) as n
            where pd_incidents.id = n.id""")
        # Actions numbers runs per workflow in creation order.
        con.execute("""
            update gh_workflow_runs set run_number = n.rn
            from (select id, row_number() over (partition by workflow_id
                                                order by created_at, id) as rn
                  from gh_workflow_runs) as n
            where gh_workflow_runs.id = n.id""")
        # Bots act in every team: keep each identity once.
        con.execute(
            "create or replace table truth_identities as "
            "select distinct * from truth_identities order by system, external_id"
        )
        con.execute("checkpoint")
    finally:
        con.close()
    return path


def _split(total: int, parts: int) -> list[int]:
    return [total // parts + (1 if i < total % parts else 0) for i in range(parts)]


def _write_org_level(
    out: StoreWriter, spec, seed: int, start: date, bots: list[Person], generation: Generation
) -> None:
    meta = {
        "seed": seed,
        "size": spec.name,
        "as_of": AS_OF.isoformat(),
        "start": start.isoformat(),
        "org": "acme",
        "store_version": STORE_VERSION,
        **generation.meta(),
    }
    out.write("org_meta", [{"key": k, "value": str(v)} for k, v in meta.items()])
    out.write("truth_parameters", [{"name": k, "value": v} for k, v in PARAMETERS.items()])
    out.write(
        "llm_model_prices",
        [
            {
                "provider": m.provider,
                "model": m.name,
                "token_kind": kind,
                "usd_per_mtok": price,
                "valid_from": PRICES_VALID_FROM,
                "valid_to": None,
            }
            for m in MODELS
            for kind, price in m.prices.items()
        ],
    )
    out.write(
        "seed_ai_signatures", [{"kind": k, "pattern": p, "tool": t} for k, p, t in AI_SIGNATURES]
    )
    out.write("org_people", [_person_row(b) for b in bots])
    out.write("seed_people", [_seed_person(b) for b in bots if b.in_people_seed])


def _person_row(p: Person) -> dict:
    return {
        k: getattr(p, k)
        for k in (
            "person_id",
            "display_name",
            "team_id",
            "role",
            "work_email",
            "personal_email",
            "github_login",
            "github_id",
            "jira_account_id",
            "pagerduty_user_id",
            "openai_user_id",
            "is_bot",
            "is_agent",
            "in_people_seed",
            "spend_multiplier",
            "ai_propensity",
        )
    }


def _seed_person(p: Person) -> dict:
    return {
        "person_id": p.person_id,
        "display_name": p.display_name,
        "team": p.team_id,
        "role": p.role,
        "emails": p.work_email or "",
        "github_login": p.github_login,
        "jira_account_id": p.jira_account_id,
        "pagerduty_user_id": p.pagerduty_user_id,
        "is_bot": p.is_bot,
    }


def _write_team(
    out: StoreWriter,
    seed: int,
    index: int,
    headcount: int,
    bots: list[Person],
    start: date,
    generation: Generation,
) -> None:
    name, key = team_name(index), jira_key(index)
    people = make_team_people(rng_for(seed, "people", index), name, index, headcount)
    locale = "zh" if index % 5 == 2 else "en"
    sim = TeamSimulation(
        seed, index, name, name, people, bots, start, AS_OF, locale, key, generation
    ).run()
    rows = emit_team(sim)
    workspace, project = f"wrkspc_{index:04d}{name[:4]}", f"proj_{index:04d}{name[:4]}"
    billing = TeamBilling(seed, index, name, people, workspace, project, start, AS_OF)
    _add_usage(rows, billing, generation.empty_billing)
    _add_directory(rows, sim, people, billing, workspace, project)

    seed_people = [_seed_person(p) for p in people if p.in_people_seed]
    seed_people += [_seed_person(b) for b in bots if b.in_people_seed]
    seed_keys = [
        {
            "provider": k.provider,
            "api_key_id": k.id,
            "workspace_or_project": k.scope_id,
            "person_id": k.seed_person,
            "team": k.seed_team,
        }
        for k in billing.keys
        if k.seed_person or k.seed_team
    ]
    service_repos = {s.id: s.repo.full_name for s in sim.services if s.repo}
    ident = Identity.from_seed(seed_people)
    truth = compute_truth(rows, ident, seed_keys, service_repos, AS_OF)
    rows["seed_people"] = seed_people[: len(seed_people) - sum(b.in_people_seed for b in bots)]
    rows["seed_api_keys"] = seed_keys
    rows["seed_service_repos"] = [
        {"service_id": s.id, "service_name": s.name, "repo_full_name": s.repo.full_name}
        for s in sim.services
        if s.repo
    ]
    rows["seed_ai_budgets"] = _budgets(seed, name, truth["truth_spend"], start)
    rows["truth_identities"] = _identities(rows, people, bots, ident)
    for table, table_rows in {**rows, **truth}.items():
        out.write(table, table_rows)


def _add_usage(rows, billing: TeamBilling, empty_billing=()) -> None:
    by_key_day = defaultdict(list)
    for table, row in billing.usage():
        if table.split("_", 1)[0] in empty_billing:
            continue  # the provider's reports are empty (the usage is drawn all the same)
        rows[table].append(row)
        if table == "anthropic_messages_usage":
            by_key_day[(row["api_key_id"], row["bucket_date"])].append(row)
    for cc in rows["anthropic_claude_code_usage"]:
        cc["model_breakdown"] = claude_code_breakdown(by_key_day[(cc.pop("_key"), cc["date"])])


def _add_directory(rows, sim: TeamSimulation, people, billing, workspace, project) -> None:
    """Teams, people and the vendors' own directories of them."""
    rows["org_teams"].append(
        {
            "team_id": sim.team_id,
            "name": sim.name,
            "jira_project_key": sim.jira_key,
            "jira_locale": sim.locale,
            "pd_team_id": f"PT{sim.index:04d}",
            "openai_project_id": project,
            "anthropic_workspace_id": workspace,
        }
    )
    rows["org_people"] += [_person_row(p) for p in people]
    for r in sim.repos:
        rows["gh_repositories"].append(
            {
                "id": r.id,
                "owner": "acme",
                "name": r.name,
                "full_name": r.full_name,
                "team_id": sim.team_id,
                "description": f"{r.name} service ({sim.name} team)",
                "language": r.language,
                "default_branch": "main",
                "private": True,
                "created_at": r.created_at,
                "pushed_at": max(
                    (p.created_at for p in r.prs if p.created_at <= sim.as_of), default=r.created_at
                ),
            }
        )
    for s in sim.services:
        rows["pd_services"].append(
            {
                "id": s.id,
                "name": s.name,
                "team_id": f"PT{sim.index:04d}",
                "repo_full_name": s.repo.full_name if s.repo else None,
            }
        )
    for p in people:
        rows["jira_users"].append(
            {
                "account_id": p.jira_account_id,
                "display_name": p.display_name,
                "email": p.work_email if p.in_people_seed else None,
                "account_type": "atlassian",
                "active": True,
            }
        )
        rows["pd_users"].append(
            {"id": p.pagerduty_user_id, "name": p.display_name, "email": p.work_email}
        )
        if "openai" in p.providers:
            rows["openai_users"].append(
                {"id": p.openai_user_id, "email": p.work_email, "name": p.display_name}
            )
    rows["anthropic_workspaces"].append({"id": workspace, "name": sim.name, "team_id": sim.team_id})
    rows["openai_projects"].append({"id": project, "name": sim.name, "team_id": sim.team_id})
    for k in billing.keys:
        if k.provider == "anthropic":
            rows["anthropic_api_keys"].append(
                {
                    "id": k.id,
                    "name": k.name,
                    "workspace_id": k.scope_id,
                    "owner_person_id": k.owner.person_id if k.owner else None,
                    "created_at": sim.start,
                }
            )
        else:
            rows["openai_api_keys"].append(
                {
                    "id": k.id,
                    "name": k.name,
                    "project_id": k.scope_id,
                    "owner_user_id": k.owner.openai_user_id if k.owner else None,
                }
            )


def _budgets(seed: int, team: str, spend_rows: list[dict], start: date) -> list[dict]:
    """A monthly budget per team: some generous, some that run out before the month ends."""
    rng = rng_for(seed, "budget", team)
    by_month = defaultdict(Decimal)
    for r in spend_rows:
        if r["team_id"] == team:
            by_month[r["day"].replace(day=1)] += r["cost_usd"]
    monthly = max(by_month.values(), default=Decimal(100))
    budgets = []
    month = start.replace(day=1)
    while month <= AS_OF.date():
        nxt = (month + timedelta(days=32)).replace(day=1)
        factor = Decimal(str(round(rng.uniform(0.8, 1.6), 2)))
        budgets.append(
            {
                "scope": "team",
                "team": team,
                "period_start": month,
                "period_end": nxt - timedelta(days=1),
                "usd": (monthly * factor).quantize(Decimal("1")),
            }
        )
        month = nxt
    return budgets


def _identities(rows, people: list[Person], bots: list[Person], ident: Identity) -> list[dict]:
    """Every external identity the team's data shows, with whom the rules resolve it to."""
    by_login = {p.github_login: p for p in [*people, *bots]}
    by_jira = {p.jira_account_id: p for p in people}
    by_pd = {p.pagerduty_user_id: p for p in people}
    by_email = {e.lower(): p for p in people for e in (p.work_email, p.personal_email) if e}
    seen = set()
    out = []

    def add(system, ext, true_person, resolved, how):
        if ext and (system, ext) not in seen:
            seen.add((system, ext))
            out.append(
                {
                    "system": system,
                    "external_id": ext,
                    "true_person_id": true_person.person_id if true_person else None,
                    "resolved_person_id": resolved,
                    "resolved_by": how if resolved else None,
                }
            )

    logins = {r["author_login"] for r in rows["gh_pull_requests"]}
    logins |= {
        r["user_login"]
        for t in ("gh_reviews", "gh_review_comments", "gh_issue_comments")
        for r in rows[t]
    }
    for login in sorted(logins):
        add("github", login, by_login.get(login), ident.github(login), "github_login")
    for email in sorted({c["author_email"] for c in rows["gh_commits"]}):
        pid, how = ident.email(email)
        add(
            "git_email",
            email,
            by_email.get(email.lower()) or _noreply_owner(email, by_login),
            pid,
            how,
        )
    for acc in sorted(
        filter(
            None,
            {r["assignee_account_id"] for r in rows["jira_issues"]}
            | {r["reporter_account_id"] for r in rows["jira_issues"]},
        )
    ):
        add("jira", acc, by_jira.get(acc), ident.by_jira.get(acc), "jira_account_id")
    for uid in sorted(filter(None, {r["assignee_id"] for r in rows["pd_incidents"]})):
        add("pagerduty", uid, by_pd.get(uid), ident.by_pd.get(uid), "pagerduty_user_id")
    for email in sorted(
        filter(None, {r["email_address"] for r in rows["anthropic_claude_code_usage"]})
    ):
        pid, how = ident.email(email)
        add("claude_code", email, by_email.get(email.lower()), pid, how)
    return out


def _noreply_owner(email: str, by_login: dict[str, Person]) -> Person | None:
    if email.endswith("@users.noreply.github.com"):
        return by_login.get(email.split("@")[0].split("+", 1)[-1])
    return None
