"""The GitHub source against the simulated `tiny` organisation.

One module-scoped history (two repositories) loads at T1, then at the store's as_of, then
again with nothing changed; the tests read what each load did. Fault tests use a smaller
configuration (one repository, a recent start date) and compare with a fault-free load.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import duckdb
import pytest

from org_simulator.credentials import SIM_CREDENTIALS
from org_simulator.faults import Fault
from org_simulator.server import SimulatorServer
from org_simulator.sources_env import simulator_sources_env
from org_simulator.truth_ranges import range_commit_rows, range_rows, served_ranges
from org_simulator.vendors import github as sim_github
from pipelines.ingest.loads import load_checkpoints, run_load
from pipelines.sources import SOURCES
from pipelines.sources.contract import Conformer, Quarantine
from pipelines.sources.failures import LoadFailed
from pipelines.sources.github import github
from pipelines.sources.github.actions import _created_filter
from pipelines.sources.github.extraction import Window
from pipelines.sources.github.tables import (
    DEPLOYMENTS,
    PULL_REQUESTS,
    WORKFLOW_RUNS,
    number_from_url,
)
from pipelines.sources.http_session import RetryPolicy
from tests.sources.conftest import Loader

T1 = datetime(2026, 10, 15)
AS_OF = datetime(2026, 11, 1)
HISTORY_REPOS = ["acme/checkout-web", "acme/payments-api"]
SMALL_REPO = "acme/checkout-api"
SMALL_START = "2026-10-25"
TABLES = [
    "repositories",
    "pull_requests",
    "pull_request_reviews",
    "pull_request_commits",
    "pull_request_review_comments",
    "issue_comments",
    "deployments",
    "deployment_statuses",
    "deployment_ranges",
    "deployment_range_commits",
    "workflow_runs",
    "workflow_jobs",
]
PRIMARY_KEYS = {t: "id" for t in TABLES} | {
    "pull_request_commits": "repo_full_name, pr_number, sha",
    "deployment_ranges": "deployment_id, base_deployment_id",
    "deployment_range_commits": "deployment_id, base_deployment_id, sha",
}
LISTS = ["repo", "pulls", "review_comments", "issue_comments", "deployments", "runs"]
FAST = RetryPolicy(backoff_base=0.01, backoff_cap=0.05, max_wait=30.0)


# --- helpers ----------------------------------------------------------------------------------


def query(path: Path, sql: str, params: list | None = None) -> list[tuple]:
    with duckdb.connect(str(path), read_only=True) as con:
        return con.execute(sql, params or []).fetchall()


def normal(value: Any) -> Any:
    """Warehouse and store values in one form: naive UTC times, parsed JSON."""
    if isinstance(value, datetime) and value.tzinfo is not None:
        return value.astimezone(UTC).replace(tzinfo=None)
    if isinstance(value, str) and value[:1] in "[{":
        try:
            return json.loads(value)
        except ValueError:
            return value
    return value


def normal_rows(rows: list[tuple]) -> list[tuple]:
    return sorted((tuple(normal(v) for v in row) for row in rows), key=repr)


def table_counts(warehouse: Path) -> dict[str, int]:
    present = {r[0] for r in query(warehouse, "select table_name from duckdb_tables()")}
    return {
        t: query(warehouse, f"select count(*) from raw_github.{t}")[0][0] if t in present else 0
        for t in TABLES
    }


def pages(n: int) -> int:
    """Pages of 100 a list of n items takes (an empty list still answers once)."""
    return max(1, math.ceil(n / 100))


def in_list(names: list[str]) -> str:
    return "(" + ", ".join(f"'{n}'" for n in names) + ")"


@dataclass
class Load:
    now: datetime
    counts: dict[str, int]
    by_route: dict[str, int]
    tables: dict[str, int]
    pr_states: dict[int, str]


@dataclass
class History:
    warehouse: Path
    store: Path
    loads: list[Load]

    def store_rows(self, sql: str, params: list | None = None) -> list[tuple]:
        return query(self.store, sql, params)

    def rows(self, sql: str) -> list[tuple]:
        return query(self.warehouse, sql)


def configure(mp: pytest.MonkeyPatch, sim: SimulatorServer, repos: list[str], start=None):
    for key, value in simulator_sources_env(sim).items():
        mp.setenv(key, value)
    mp.setenv("SOURCES__GITHUB__REPOSITORIES", json.dumps(repos))
    if start:
        mp.setenv("SOURCES__GITHUB__START_DATE", start)
    else:
        mp.delenv("SOURCES__GITHUB__START_DATE", raising=False)


@pytest.fixture(scope="module")
def history(tiny_store: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[History]:
    """Two repositories loaded as of T1, then as of as_of, then again with no change."""
    warehouse = tmp_path_factory.mktemp("github_history") / "warehouse.duckdb"
    loads = []
    with pytest.MonkeyPatch.context() as mp, SimulatorServer(tiny_store) as sim:
        mp.setattr("pipelines.sources.http_session.DEFAULT_POLICY", FAST)
        configure(mp, sim, HISTORY_REPOS)
        for now in (T1, AS_OF, AS_OF):
            sim.set_now(now)
            sim.reset_stats()
            counts = run_load("github", warehouse)
            states = dict(query(warehouse, "select id, state from raw_github.pull_requests"))
            by_route = {k.removeprefix("github."): v for k, v in sim.stats()["by_route"].items()}
            loads.append(Load(now, counts, by_route, table_counts(warehouse), states))
    yield History(warehouse, tiny_store, loads)


# --- what the store serves as of a clock (the simulator's visibility rules) ---------------------


def served_counts(h: History, now: datetime) -> dict[str, int]:
    repos = in_list(HISTORY_REPOS)
    visible_comment = """c.created_at <= $1 and (c.review_id is null or exists (
        select 1 from gh_reviews r where r.id = c.review_id and r.submitted_at <= $1))"""
    sql = {
        "repositories": "select count(*) from gh_repositories where full_name in {r}",
        "pull_requests": "select count(*) from gh_pull_requests where created_at <= $1 and {f}",
        "pull_request_reviews": "select count(*) from gh_reviews where submitted_at <= $1 and {f}",
        "pull_request_commits": "select count(*) from gh_commits "
        "where committer_date <= $1 and {f}",
        "pull_request_review_comments": "select count(*) from gh_review_comments c "
        f"where {visible_comment} and c.{{f}}",
        "issue_comments": "select count(*) from gh_issue_comments where created_at <= $1 and {f}",
        "deployments": "select count(*) from gh_deployments where created_at <= $1 and {f}",
        "deployment_statuses": "select count(*) from gh_deployment_statuses "
        "where created_at <= $1 and {f}",
        "workflow_runs": "select count(*) from gh_workflow_runs where created_at <= $1 and {f}",
        "workflow_jobs": "select count(*) from gh_workflow_jobs where created_at <= $1 and {f}",
    }
    out = {}
    for table, text in sql.items():
        text = text.format(r=repos, f=f"repo_full_name in {repos}")
        out[table] = h.store_rows(text, [] if "$1" not in text else [now])[0][0]
    ranges = served_ranges(h.store, HISTORY_REPOS, now)
    out["deployment_ranges"] = len(ranges)
    out["deployment_range_commits"] = sum(len(r.commits) for r in ranges.values())
    return out


def backfill_minimum(h: History, now: datetime) -> dict[str, int]:
    """The fewest requests that read everything served as of `now`, per route."""
    repos = in_list(HISTORY_REPOS)
    per_repo = {
        "pulls": "select count(*) from gh_pull_requests where created_at <= $1 and "
        "repo_full_name = $2",
        "review_comments": """select count(*) from gh_review_comments c where c.created_at <= $1
            and c.repo_full_name = $2 and (c.review_id is null or exists (select 1 from
            gh_reviews r where r.id = c.review_id and r.submitted_at <= $1))""",
        "issue_comments": "select count(*) from gh_issue_comments where created_at <= $1 "
        "and repo_full_name = $2",
        "deployments": "select count(*) from gh_deployments where created_at <= $1 "
        "and repo_full_name = $2",
        "runs": "select count(*) from gh_workflow_runs where created_at <= $1 "
        "and repo_full_name = $2",
    }
    minimum = {"repo": len(HISTORY_REPOS)}
    for route, sql in per_repo.items():
        minimum[route] = sum(pages(h.store_rows(sql, [now, r])[0][0]) for r in HISTORY_REPOS)
    per_parent = {
        "pull": "select 0 from gh_pull_requests p where p.created_at <= $1",
        "reviews": """select (select count(*) from gh_reviews r where r.repo_full_name =
            p.repo_full_name and r.pr_number = p.number and r.submitted_at <= $1)
            from gh_pull_requests p where p.created_at <= $1""",
        "pull_commits": """select least(250, (select count(*) from gh_commits c where
            c.repo_full_name = p.repo_full_name and c.pr_number = p.number
            and c.committer_date <= $1)) from gh_pull_requests p where p.created_at <= $1""",
        "deployment_statuses": """select (select count(*) from gh_deployment_statuses s where
            s.deployment_id = d.id and s.created_at <= $1) from gh_deployments d
            where d.created_at <= $1""",
        "jobs": """select (select count(*) from gh_workflow_jobs j where j.run_id = w.id
            and j.created_at <= $1) from gh_workflow_runs w where w.created_at <= $1""",
    }
    for route, sql in per_parent.items():
        sql += f" and repo_full_name in {repos}"
        minimum[route] = sum(pages(n) for (n,) in h.store_rows(sql, [now]))
    # one comparison per successful production deployment after its environment's first
    minimum["compare"] = sum(r.pages() for r in served_ranges(h.store, HISTORY_REPOS, now).values())
    return minimum


def incremental_minimum(h: History, t1: datetime, t2: datetime) -> dict[str, int]:
    """The fewest requests that read what changed between a load at t1 and one at t2."""
    repos = in_list(HISTORY_REPOS)
    minimum = {"repo": len(HISTORY_REPOS)}
    changed_prs = f"""select distinct repo_full_name, number from gh_pull_request_activity
        where "at" > $1 and "at" <= $2 and repo_full_name in {repos}"""
    prs = h.store_rows(changed_prs, [t1, t2])
    minimum["pulls"] = sum(pages(sum(1 for r, _ in prs if r == repo)) for repo in HISTORY_REPOS)
    minimum["pull"] = len(prs)
    for route, sql in {
        "reviews": "select count(*) from gh_reviews c where submitted_at <= $2",
        "pull_commits": "select least(250, count(*)) from gh_commits c where committer_date <= $2",
    }.items():
        sql += " and c.repo_full_name = p.repo_full_name and c.pr_number = p.number"
        counts = h.store_rows(f"select ({sql}) from ({changed_prs}) p", [t1, t2])
        minimum[route] = sum(pages(n) for (n,) in counts)
    # Comments a review published after t1 may be older than anything a `since` can reach.
    minimum["pull_review_comments"] = h.store_rows(
        f"""select count(*) from ({changed_prs}) p where exists (select 1 from gh_reviews r
            where r.repo_full_name = p.repo_full_name and r.pr_number = p.number
              and r.submitted_at > $1 and r.submitted_at <= $2)
          and exists (select 1 from gh_review_comments c join gh_reviews r on r.id = c.review_id
            where c.repo_full_name = p.repo_full_name and c.pr_number = p.number
              and r.submitted_at <= $2)""",
        [t1, t2],
    )[0][0]
    for route, table in (("review_comments", "gh_review_comments"), ("issue_comments",
                         "gh_issue_comments")):  # fmt: skip
        sql = f"select count(*) from {table} where repo_full_name = $1 and created_at > $2 "
        sql += "and created_at <= $3"
        minimum[route] = sum(pages(h.store_rows(sql, [r, t1, t2])[0][0]) for r in HISTORY_REPOS)
    # Newest-first lists are read down to their oldest changed record.
    for route, parents, children, child_key, changed in (
        (
            "deployments",
            "gh_deployments",
            "gh_deployment_statuses",
            "deployment_id",
            "created_at > $1 or (updated_at > $1 and updated_at <= $2)",
        ),
        (
            "runs",
            "gh_workflow_runs",
            "gh_workflow_jobs",
            "run_id",
            "created_at > $1 or (coalesce(updated_at, created_at) > $1)",
        ),
    ):
        child_route = {"deployments": "deployment_statuses", "runs": "jobs"}[route]
        rows = h.store_rows(
            f"""select p.repo_full_name, p.created_at, (select count(*) from {children} c
                 where c.{child_key} = p.id and c.created_at <= $2)
               from {parents} p where p.created_at <= $2 and p.repo_full_name in {repos}
                 and ({changed})""",
            [t1, t2],
        )
        minimum[child_route] = sum(pages(n) for _, _, n in rows)
        minimum[route] = 0
        for repo in HISTORY_REPOS:
            oldest = min((at for r, at, _ in rows if r == repo), default=t2)
            reach = h.store_rows(
                f"select count(*) from {parents} where repo_full_name = $1 and "
                "created_at >= $2 and created_at <= $3",
                [repo, oldest, t2],
            )[0][0]
            minimum[route] += pages(reach)
    # the pairs that are new since t1 (a pair compared once is never asked again)
    before = served_ranges(h.store, HISTORY_REPOS, t1)
    minimum["compare"] = sum(
        r.pages() for k, r in served_ranges(h.store, HISTORY_REPOS, t2).items() if k not in before
    )
    return minimum


# --- the history: backfill, changes, no change -------------------------------------------------


def test_backfill_loads_everything_served_as_of_t1(history: History):
    first = history.loads[0]
    assert first.tables == served_counts(history, T1)
    assert all(first.tables[t] > 0 for t in TABLES)
    # what the run reports equals what it wrote: one row per record, nothing twice
    assert {t: n for t, n in first.counts.items() if t != "quarantine"} == first.tables


def test_backfill_reads_minimum_pages(history: History):
    used = history.loads[0].by_route
    minimum = backfill_minimum(history, T1)
    print("backfill pages", sum(used.values()), "minimum", sum(minimum.values()), used)
    assert sum(used.values()) <= 1.05 * sum(minimum.values())
    assert used == minimum  # each route exactly: nothing read twice, nothing wasted


def test_changes_between_runs_arrive(history: History):
    before, after = history.loads[0], history.loads[1]
    assert after.tables == served_counts(history, AS_OF)
    # real changes happened: PRs open at T1 were closed by as_of, and rows were added
    closed_since = [i for i, s in before.pr_states.items() if s == "open"]
    assert any(after.pr_states[i] == "closed" for i in closed_since)
    assert all(after.tables[t] > before.tables[t] for t in TABLES if t != "repositories")


@pytest.mark.parametrize("table", TABLES)
def test_no_duplicates(history: History, table: str):
    key = PRIMARY_KEYS[table]
    total, distinct = history.rows(
        f"select count(*), count(distinct ({key})) from raw_github.{table}"
    )[0]
    assert total == distinct > 0


# Every row of every table, compared field by field with what the store serves as of as_of.
# The API speaks whole seconds, so store times are truncated.
def _t(column: str) -> str:
    return f"date_trunc('second', {column})"


EQUAL = {
    "repositories": (
        "select id, full_name, default_branch, language, private, created_at from {t}",
        "select id, full_name, default_branch, language, private, {c} from gh_repositories"
        " where full_name in {r}".replace("{c}", _t("created_at")),
    ),
    "pull_requests": (
        """select id, number, repo_full_name, title, body, state, draft, user_login, head_ref,
            base_ref, labels, created_at, closed_at, merged_at, merged, merged_by_login,
            additions, deletions, changed_files, commits from {t}""",
        f"""select p.id, p.number, p.repo_full_name, p.title, p.body,
            case when coalesce(p.closed_at, p.merged_at) <= $1 then 'closed' else 'open' end,
            case when p.ready_for_review_at is not null then p.ready_for_review_at > $1
                 else coalesce(p.draft, false) end,
            p.author_login, p.head_ref, p.base_ref, p.labels, {_t("p.created_at")},
            {_t("coalesce(p.closed_at, p.merged_at)")}, {_t("p.merged_at")},
            p.merged_at is not null, p.merged_by_login, p.additions, p.deletions,
            p.changed_files, (select count(*) from gh_commits c where c.repo_full_name =
                p.repo_full_name and c.pr_number = p.number and c.committer_date <= $1)
           from gh_pull_requests p where p.repo_full_name in {{r}}""",
    ),
    "pull_request_reviews": (
        "select id, repo_full_name, pr_number, user_login, state, body, commit_id, "
        "submitted_at from {t}",
        "select id, repo_full_name, pr_number, user_login, state, coalesce(body, ''), "
        f"commit_id, {_t('submitted_at')} from gh_reviews where repo_full_name in {{r}}",
    ),
    "pull_request_commits": (
        """select repo_full_name, pr_number, sha, message, author_name, author_email,
            author_login, author_date, committer_email, committer_date, parents_count from {t}""",
        f"""select repo_full_name, pr_number, sha, message, author_name, author_email,
            author_login, {_t("author_date")}, committer_email, {_t("committer_date")}, 1
           from gh_commits where repo_full_name in {{r}}""",
    ),
    "pull_request_review_comments": (
        """select id, repo_full_name, pr_number, pull_request_review_id, user_login, body,
            path, line, commit_id, created_at, updated_at from {t}""",
        f"""select id, repo_full_name, pr_number, review_id, user_login, body, path, line,
            commit_id, {_t("created_at")}, {_t("updated_at")} from gh_review_comments
           where repo_full_name in {{r}}""",
    ),
    "issue_comments": (
        "select id, repo_full_name, issue_number, user_login, body, created_at, updated_at "
        "from {t}",
        "select id, repo_full_name, pr_number, user_login, body, "
        f"{_t('created_at')}, {_t('updated_at')} from gh_issue_comments "
        "where repo_full_name in {r}",
    ),
    "deployments": (
        """select id, repo_full_name, sha, ref, task, environment, production_environment,
            description, creator_login, json_extract_string(payload, '$.previous_sha'),
            created_at, updated_at from {t}""",
        f"""select id, repo_full_name, sha, ref, task, environment, production_environment,
            description, creator_login, json_extract_string(payload, '$.previous_sha'),
            {_t("created_at")}, {_t("greatest(created_at, updated_at)")} from gh_deployments
           where repo_full_name in {{r}}""",
    ),
    "deployment_statuses": (
        "select id, deployment_id, repo_full_name, state, environment, description, "
        "creator_login, created_at from {t}",
        "select id, deployment_id, repo_full_name, state, environment, description, "
        f"creator_login, {_t('created_at')} from gh_deployment_statuses "
        "where repo_full_name in {r}",
    ),
    "workflow_runs": (
        """select id, repo_full_name, workflow_id, name, path, event, head_branch, head_sha,
            pull_request_numbers, actor_login, run_attempt, status, conclusion, created_at,
            run_started_at, updated_at from {t}""",
        f"""select id, repo_full_name, workflow_id, name, path, event, head_branch, head_sha,
            case when pr_number is null then '[]' else '[' || pr_number || ']' end,
            actor_login, run_attempt, status, conclusion, {_t("created_at")},
            {_t("run_started_at")}, {_t("updated_at")} from gh_workflow_runs
           where repo_full_name in {{r}}""",
    ),
    "workflow_jobs": (
        """select id, run_id, repo_full_name, run_attempt, name, head_sha, status, conclusion,
            created_at, started_at, completed_at, runner_name from {t}""",
        f"""select id, run_id, repo_full_name, run_attempt, name, head_sha, status, conclusion,
            {_t("created_at")}, {_t("started_at")}, {_t("completed_at")}, runner_name
           from gh_workflow_jobs where repo_full_name in {{r}}""",
    ),
}


@pytest.mark.parametrize("table", list(EQUAL))
def test_warehouse_equals_store_as_of(history: History, table: str):
    loaded_sql, store_sql = EQUAL[table]
    loaded = normal_rows(history.rows(loaded_sql.format(t=f"raw_github.{table}")))
    store_sql = store_sql.replace("{r}", in_list(HISTORY_REPOS))
    expected = normal_rows(history.store_rows(store_sql, [AS_OF] if "$1" in store_sql else []))
    assert len(loaded) == len(expected) > 0
    assert loaded == expected


def test_ranges_are_what_github_compares_for_each_pair_asked(history: History):
    """Every pair compared in either load (a pair's base can change once a late success
    arrives: both are kept, the models use the current one), with GitHub's answer and every
    commit of it, in the answer's order."""
    ranges = served_ranges(history.store, HISTORY_REPOS, T1)
    ranges.update(served_ranges(history.store, HISTORY_REPOS, AS_OF))
    loaded = history.rows(
        """select deployment_id, base_deployment_id, repo_full_name, environment, base_sha,
               head_sha, status, ahead_by, behind_by, total_commits, commits_loaded
           from raw_github.deployment_ranges order by all"""
    )
    assert loaded == range_rows(ranges)
    commits = history.rows(
        """select deployment_id, base_deployment_id, repo_full_name, sha, position,
               author_date, committer_date, parents_count
           from raw_github.deployment_range_commits order by all"""
    )
    assert normal_rows(commits) == normal_rows(range_commit_rows(ranges))
    statuses = {r[6] for r in loaded}
    assert {"ahead", "identical", "not_found"} <= statuses
    # a comparison GitHub could not answer: kept, with nothing in it
    assert all(r[7:] == (None, None, None, 0) for r in loaded if r[6] == "not_found")


def test_messy_records_load(history: History):
    # commits from an email linked to no account: no author account, the row still loads
    assert (
        history.rows(
            "select count(*) from raw_github.pull_request_commits where author_login is null"
        )[0][0]
        == history.store_rows(
            f"select count(*) from gh_commits where author_login is null "
            f"and repo_full_name in {in_list(HISTORY_REPOS)}"
        )[0][0]
    )
    # AI co-author trailers survive in full messages
    assert history.rows(
        "select count(*) from raw_github.pull_request_commits "
        "where message like '%Co-authored-by: %'"
    )[0][0]
    # runs without jobs (deploy workflows) and PRs without reviews load
    assert history.rows(
        "select count(*) from raw_github.workflow_runs r where not exists "
        "(select 1 from raw_github.workflow_jobs j where j.run_id = r.id)"
    )[0][0]
    # PRs without review comments carry a zero count, as GitHub reports it
    no_comments = history.store_rows(
        "select count(*) from gh_pull_requests p where repo_full_name in "
        f"{in_list(HISTORY_REPOS)} and not exists (select 1 from gh_review_comments c "
        "where c.repo_full_name = p.repo_full_name and c.pr_number = p.number)"
    )[0][0]
    assert no_comments > 0
    assert (
        history.rows("select count(*) from raw_github.pull_requests where review_comments = 0")[0][
            0
        ]
        == no_comments
    )
    # bots keep their type; deployment payloads stay JSON
    assert history.rows(
        "select count(*) from raw_github.pull_request_reviews where user_type = 'Bot'"
    )[0][0]
    assert history.rows(
        "select count(*) from raw_github.deployments where payload->>'previous_sha' is not null"
    )[0][0]


def test_incremental_run_reads_what_changed(history: History):
    used = history.loads[1].by_route
    minimum = incremental_minimum(history, T1, AS_OF)
    print("incremental pages", sum(used.values()), "minimum", sum(minimum.values()), used)
    assert sum(used.values()) <= 1.05 * sum(minimum.values())
    # children only for what changed: one single-PR read per changed PR, one jobs list per
    # new or changed run
    assert used["pull"] == minimum["pull"]
    assert used["jobs"] == minimum["jobs"]


def test_second_run_without_changes_reads_one_page_per_list_and_writes_nothing(
    history: History,
):
    last, before = history.loads[2], history.loads[1]
    assert last.counts == {}
    assert last.by_route == {route: len(HISTORY_REPOS) for route in LISTS}
    assert last.tables == before.tables


# --- faults, on a smaller configuration --------------------------------------------------------


@dataclass
class Reference:
    tables: dict[str, list[tuple]]
    columns: dict[str, list[str]]
    requests: int


def table_rows(warehouse: Path, table: str, columns: list[str]) -> list[tuple]:
    cols = ", ".join(columns)
    return normal_rows(query(warehouse, f"select {cols} from raw_github.{table}"))


def data_columns(warehouse: Path, table: str) -> list[str]:
    rows = query(
        warehouse,
        "select column_name from information_schema.columns where table_schema = 'raw_github'"
        " and table_name = ? and column_name not like '\\_dlt%' escape '\\'"
        " and column_name <> 'compared_at' order by 1",  # the loader's wall clock
        [table],
    )
    return [r[0] for r in rows]


@pytest.fixture(scope="module")
def reference(tiny_store: Path, tmp_path_factory: pytest.TempPathFactory) -> Reference:
    """A fault-free load of the small configuration, to compare faulty loads with."""
    warehouse = tmp_path_factory.mktemp("github_reference") / "warehouse.duckdb"
    with pytest.MonkeyPatch.context() as mp, SimulatorServer(tiny_store) as sim:
        mp.setattr("pipelines.sources.http_session.DEFAULT_POLICY", FAST)
        configure(mp, sim, [SMALL_REPO], SMALL_START)
        run_load("github", warehouse)
        requests = sim.stats()["total"]
    columns = {t: data_columns(warehouse, t) for t in TABLES}
    tables = {t: table_rows(warehouse, t, columns[t]) for t in TABLES}
    return Reference(tables, columns, requests)


@pytest.fixture
def small(loader: Loader, monkeypatch: pytest.MonkeyPatch) -> Loader:
    configure(monkeypatch, loader.sim, [SMALL_REPO], SMALL_START)
    return loader


def assert_same_as(reference: Reference, loader: Loader) -> None:
    for table in TABLES:
        loaded = table_rows(loader.warehouse, table, reference.columns[table])
        assert loaded == reference.tables[table], table


def test_reference_respects_the_start_date(reference: Reference, small: Loader):
    start = datetime.fromisoformat(SMALL_START)
    served = {
        # a PR's updated_at is its latest activity
        "pull_requests": """select count(*) from gh_pull_requests p where repo_full_name = $1
            and (select max("at") from gh_pull_request_activity a where a.repo_full_name =
                 p.repo_full_name and a.number = p.number) >= $2""",
        "deployments": "select count(*) from gh_deployments where repo_full_name = $1 "
        "and created_at >= $2",
        "workflow_runs": "select count(*) from gh_workflow_runs where repo_full_name = $1 "
        "and created_at >= $2",
        "issue_comments": "select count(*) from gh_issue_comments where repo_full_name = $1 "
        "and updated_at >= $2",
    }
    for table, sql in served.items():
        expected = query(small.store, sql, [SMALL_REPO, start])[0][0]
        assert len(reference.tables[table]) == expected > 0, table
    updated = reference.columns["pull_requests"].index("updated_at")
    assert all(normal(r[updated]) >= start for r in reference.tables["pull_requests"])


def test_retryable_faults_are_retried_and_the_data_is_complete(
    reference: Reference, small: Loader, monkeypatch: pytest.MonkeyPatch, caplog
):
    caplog.set_level("DEBUG")
    # a read timeout short enough for the `slow` fault to hit it
    policy = RetryPolicy(backoff_base=0.01, backoff_cap=0.05, max_wait=30.0, timeout=(5, 4.0))
    monkeypatch.setattr("pipelines.sources.http_session.DEFAULT_POLICY", policy)
    faults = [
        Fault("rate_limit", vendor="github", path=r"/pulls$", status=403, retry_after=1),
        Fault("rate_limit", vendor="github", path=r"/reviews$", status=429, retry_after=1),
        Fault("server_error", vendor="github", path=r"/commits$", times=2),
        Fault("server_error", vendor="github", path=r"/pulls/\d+$", status=502),
        Fault("slow", vendor="github", path=r"/issues/comments$", delay=6.0),
        Fault("invalid_json", vendor="github", path=r"/deployments$"),
        Fault("truncated", vendor="github", path=r"/actions/runs$"),
        Fault("truncated", vendor="github", path=r"/jobs$", skip=3),
        Fault("invalid_json", vendor="github", path=r"/statuses$", skip=1),
        Fault("server_error", vendor="github", path=r"/pulls/comments$", status=500),
        Fault("server_error", vendor="github", path=r"/compare/", skip=2),
    ]
    for fault in faults:
        small.sim.inject(fault)
    counts = small.load("github")
    assert [f.hits for f in faults] == [f.times for f in faults]
    assert "quarantine" not in counts
    assert_same_as(reference, small)
    # each hit cost exactly one more request
    assert small.sim.stats()["total"] == reference.requests + sum(f.hits for f in faults)
    # the retries were logged, the token nowhere: not in the log, not in the warehouse
    token = SIM_CREDENTIALS["github"]
    assert caplog.text.count("retrying in") == sum(f.hits for f in faults)
    assert token not in caplog.text
    for path in small.warehouse.parent.iterdir():
        if path.is_file():
            assert token.encode() not in path.read_bytes(), path


def test_malformed_records_are_quarantined_and_the_rest_loads(reference: Reference, small: Loader):
    routes = {
        "pull_requests": r"/pulls$",
        "pull_request_reviews": r"/reviews$",
        "pull_request_review_comments": r"/pulls/comments$",
        "issue_comments": r"/issues/comments$",
        "deployments": r"/deployments$",
        "deployment_statuses": r"/statuses$",
        "workflow_runs": r"/actions/runs$",
        "workflow_jobs": r"/jobs$",
    }
    for path in routes.values():
        small.sim.inject(Fault("malformed", vendor="github", path=path))
    small.load("github")
    quarantined = small.rows("select resource, reason, payload from raw_github.quarantine")
    assert sorted(r[0] for r in quarantined) == sorted(routes)
    assert all('"_malformed": true' in payload for _, _, payload in quarantined)
    assert all(reason.startswith("id: expected bigint, seen null") for _, reason, _ in quarantined)

    def ids(table: str, key: str = "id") -> set:
        return {r[0] for r in small.rows(f"select {key} from raw_github.{table}")}

    def ref_ids(table: str, key: str = "id") -> set:
        i = reference.columns[table].index(key)
        return {r[i] for r in reference.tables[table]}

    # each broken parent is the only one missing; its children were never asked for
    for table in ("pull_requests", "deployments", "workflow_runs"):
        assert len(ref_ids(table) - ids(table)) == 1 and ids(table) <= ref_ids(table)
    for table in ("pull_request_review_comments", "issue_comments"):
        assert len(ref_ids(table) - ids(table)) == 1 and ids(table) <= ref_ids(table)
    for child, parent, key in (
        ("pull_request_reviews", "pull_requests", "pr_number"),
        ("deployment_statuses", "deployments", "deployment_id"),
        ("workflow_jobs", "workflow_runs", "run_id"),
    ):
        parents = ids(parent, "number" if parent == "pull_requests" else "id")
        k, i = reference.columns[child].index(key), reference.columns[child].index("id")
        expected = {r[i] for r in reference.tables[child] if r[k] in parents}
        assert len(expected - ids(child)) == 1 and ids(child) <= expected, child


def test_failed_run_changes_nothing_and_the_next_run_resumes(reference: Reference, small: Loader):
    small.sim.set_now(datetime(2026, 10, 28))
    small.load("github")
    first = table_counts(small.warehouse)
    state = small.rows("select version_hash from raw_github._dlt_pipeline_state")

    small.sim.set_now(AS_OF)
    small.sim.inject(Fault("server_error", vendor="github", path=r"/jobs$", times=-1, skip=3))
    with pytest.raises(LoadFailed, match="503"):
        small.load("github")
    assert table_counts(small.warehouse) == first
    assert small.rows("select version_hash from raw_github._dlt_pipeline_state") == state

    small.sim.faults.clear()
    small.load("github")
    assert_same_as(reference, small)
    for table, key in PRIMARY_KEYS.items():
        total, distinct = small.rows(
            f"select count(*), count(distinct ({key})) from raw_github.{table}"
        )[0]
        assert total == distinct, table


def test_a_backfill_cut_off_by_the_rate_limit_keeps_the_repositories_it_finished(
    reference: Reference, small: Loader, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
):
    repos = [SMALL_REPO, *HISTORY_REPOS]
    configure(monkeypatch, small.sim, repos, SMALL_START)
    # The same backfill in one run, for comparison.
    monkeypatch.setenv("SOURCES__GITHUB__REPOSITORIES_PER_RUN", "10")
    whole = tmp_path / "whole.duckdb"
    run_load("github", whole)
    whole_requests = small.sim.stats()["total"]
    small.sim.reset_stats()

    # One repository per checkpointed run; the second repository's pull requests meet a
    # limit that resets later than the longest wait allowed.
    monkeypatch.setenv("SOURCES__GITHUB__REPOSITORIES_PER_RUN", "1")
    exhausted = Fault(
        "rate_limit",
        vendor="github",
        path=rf"/repos/{HISTORY_REPOS[0]}/pulls$",
        status=403,
        retry_after=3600,
        times=-1,
    )
    small.sim.inject(exhausted)
    with pytest.raises(LoadFailed, match=r"wait 3600s.*after 1 of 3 checkpointed runs"):
        small.load("github")
    # the first repository is loaded whole and kept; nothing of the others
    assert_same_as(reference, small)
    assert table_counts(small.warehouse)["repositories"] == 1

    # The next load goes on from there: of the finished repository it reads one page per
    # list, and ends equal to the backfill made in one run.
    small.sim.faults.clear()
    small.sim.reset_stats()
    small.load("github")
    assert small.sim.stats()["total"] == whole_requests - reference.requests + len(LISTS)
    for table in TABLES:
        columns = reference.columns[table]
        assert table_rows(small.warehouse, table, columns) == table_rows(whole, table, columns), (
            table
        )


def test_repositories_read_before_share_a_run(small: Loader, monkeypatch: pytest.MonkeyPatch):
    """REPOSITORIES_PER_RUN repositories a run while their history is read; those an earlier
    load read (a day's changes a run) REPOSITORIES_PER_INCREMENTAL_RUN a run, first."""
    monkeypatch.setenv("SOURCES__GITHUB__REPOSITORIES_PER_RUN", "1")
    configure(monkeypatch, small.sim, [SMALL_REPO, HISTORY_REPOS[0]], SMALL_START)

    def requests_per_run() -> list[int]:
        counts = []
        small.sim.reset_stats()
        for _pipeline, _rows in load_checkpoints("github", small.warehouse):
            counts.append(small.sim.stats()["total"] - sum(counts))
        return counts

    first = requests_per_run()
    assert len(first) == 2 and min(first) > 2 * len(LISTS)  # two histories, a run each
    configure(monkeypatch, small.sim, [*HISTORY_REPOS, SMALL_REPO], SMALL_START)
    # The two read before in one run (nothing changed: a page per list each), then the
    # repository added to the configuration, whose history is read in a run of its own.
    read_before, added = requests_per_run()
    assert read_before == 2 * len(LISTS) and added > len(LISTS)
    monkeypatch.setenv("SOURCES__GITHUB__REPOSITORIES_PER_INCREMENTAL_RUN", "2")
    assert requests_per_run() == [2 * len(LISTS), len(LISTS)]


def test_runs_beyond_the_query_cap_are_read_in_consecutive_queries(
    reference: Reference, small: Loader, monkeypatch: pytest.MonkeyPatch
):
    monkeypatch.setattr(sim_github, "RUNS_CAP", 25)  # as GitHub's 1,000, on a small org
    small.load("github")
    assert_same_as(reference, small)
    runs = len(reference.tables["workflow_runs"])
    queries = small.sim.stats()["by_route"]["github.runs"]
    # each query reads the 25 runs it reaches; the next starts at the oldest one's second
    assert math.ceil(runs / 25) <= queries <= math.ceil(runs / 24) + 1


def test_comments_of_a_review_submitted_late_arrive(small: Loader, monkeypatch):
    """A comment drafted before its review is submitted shows up with its drafting time,
    behind the `since` of the next run's walk; the changed PR's own re-read finds it."""
    # A short look-back, so that the tiny organisation holds such a comment.
    monkeypatch.setattr("pipelines.sources.github.comments.COMMENT_LOOKBACK", timedelta(minutes=1))
    repo, comment_id, drafted, submitted = query(
        small.store,
        """select repo_full_name, id, created_at, submitted_at from (
            select c.repo_full_name, c.id, c.created_at, r.submitted_at,
                (select max(o.created_at) from gh_review_comments o
                 left join gh_reviews q on q.id = o.review_id
                 where o.repo_full_name = c.repo_full_name and o.created_at < r.submitted_at
                   and coalesce(q.submitted_at < r.submitted_at, true)) as newest_before
            from gh_review_comments c join gh_reviews r on r.id = c.review_id)
           where newest_before > created_at + interval 5 minute
           order by submitted_at - created_at desc, id limit 1""",
    )[0]
    configure(monkeypatch, small.sim, [repo], (drafted - timedelta(days=2)).date().isoformat())
    small.sim.set_now(submitted - timedelta(seconds=1))
    small.load("github")
    loaded = f"select count(*) from raw_github.pull_request_review_comments where id = {comment_id}"
    assert small.scalar(loaded) == 0  # pending: not served yet
    cursor = small.scalar("select max(updated_at) from raw_github.pull_request_review_comments")
    assert normal(cursor) - timedelta(minutes=1) > drafted  # the next walk starts after it

    small.sim.set_now(submitted + timedelta(minutes=5))
    small.sim.reset_stats()
    small.load("github")
    assert small.scalar(loaded) == 1
    assert small.sim.stats()["by_route"]["github.pull_review_comments"] >= 1


# --- building the source, and the pure parts ---------------------------------------------------


def test_source_builds_without_configuration_or_requests(simulator: SimulatorServer):
    spec = SOURCES["github"]
    source = spec.factory(**spec.spec_args)
    assert list(source.resources) == [*TABLES, "quarantine"]
    assert simulator.stats()["total"] == 0
    with pytest.raises(Exception, match="REPOSITORIES is empty"):
        list(github(access_token="x", repositories=[]).with_resources("pull_requests"))


def test_projections_tolerate_missing_optional_objects():
    quarantine = Quarantine("github")
    pr = {"id": 1, "number": 2, "updated_at": "2026-10-01T00:00:00Z", "user": None,
          "state": "open", "created_at": "2026-10-01T00:00:00Z", "closed_at": None,
          "merged_at": None,  # the fields the models need, null as GitHub documents them
          "head": None, "base": {"repo": {"full_name": "acme/x"}}, "labels": None,
          "merged_by": None, "title": "ünïcødé " + "long " * 500}  # fmt: skip
    (row,) = Conformer.of(PULL_REQUESTS, quarantine).rows([pr])
    assert row["user_login"] is None and row["labels"] == [] and row["head_ref"] is None
    assert row["title"].startswith("ünïcødé")
    run = {"id": 5, "created_at": "2026-10-01T00:00:00Z", "pull_requests": None, "actor": None}
    context = {"repo_full_name": "acme/x"}
    (row,) = Conformer.of(WORKFLOW_RUNS, quarantine, context=context).rows([run])
    assert row["pull_request_numbers"] == [] and row["updated_at"] == row["created_at"]
    deployment = DEPLOYMENTS.projection(**context)(
        {"id": 1, "created_at": "2026-10-01T00:00:00Z", "payload": "not json"}
    )
    assert deployment["payload"] == "not json" and deployment["creator_login"] is None
    assert quarantine.rows == []


def test_created_filter_and_numbers_from_urls():
    since = datetime(2026, 10, 1, 12, 30, 15, 500, tzinfo=UTC)
    assert _created_filter(None, None) is None
    assert _created_filter(since, None) == ">=2026-10-01T12:30:15Z"
    assert _created_filter(since, "2026-10-09T00:00:00Z") == (
        "2026-10-01T12:30:15Z..2026-10-09T00:00:00Z"
    )
    assert _created_filter(None, "2026-10-09T00:00:00Z") == "<=2026-10-09T00:00:00Z"
    assert number_from_url("https://api.github.com/repos/a/b/pulls/12", "pulls") == 12
    assert number_from_url("https://api.github.com/repos/a/b/issues/7", "issues") == 7
    assert number_from_url(None, "pulls") is None


def test_window_remembers_what_it_read_within_its_look_back():
    state: dict[str, Any] = {}
    at = datetime(2026, 10, 1, tzinfo=UTC)
    first = Window(state, None, timedelta(hours=1))
    assert first.since is None and not first.incremental
    assert first.note(1, "v1", at - timedelta(hours=2))  # new
    assert first.note(2, "v1", at)
    first.note(3, "v1", at, settled=False)  # in progress: never remembered
    first.commit()
    assert state == {"cursor": at.isoformat(), "seen": {"2": "v1"}}  # 1 is behind the window

    again = Window(state, "2026-09-01", timedelta(hours=1))
    assert again.incremental and again.since == at - timedelta(hours=1)
    assert not again.note(2, "v1", at)  # unchanged
    assert again.note(2, "v2", at)  # changed
    assert again.note(3, "v1", at)  # still counts as changed
    assert again.admits(at - timedelta(minutes=30)) and not again.admits(at - timedelta(hours=2))
