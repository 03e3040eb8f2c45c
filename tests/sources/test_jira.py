"""The Jira loader against the simulated Jira: completeness, increments, faults, quarantine.

The tiny organisation has no remote links, caused-by fields, long changelogs or messy people,
so the store used here is the tiny store plus three handcrafted issues (`_add_messy_issues`):
a localized Bug with 150 status histories (more than the search inlines), remote links, a
description linking a PR, unicode and a long summary, no assignee or reporter; a localized
subtask with no changelog, unknown users and null fields; an issue link between them.
"""

from __future__ import annotations

import json
import math
import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from itertools import pairwise
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import duckdb
import pytest

from org_simulator.credentials import SIM_CREDENTIALS
from org_simulator.faults import Fault
from org_simulator.server import SimulatorServer
from pipelines.ingest.loads import SourceNotConfigured, run_load
from pipelines.sources import SOURCES
from pipelines.sources.failures import LoadFailed
from pipelines.sources.http_session import RetryPolicy
from pipelines.sources.jira import adf_text, field_text, jql
from tests.sources.conftest import Loader, make_loader

AS_OF = datetime(2026, 11, 1)
# The clock of the first run in the two-run tests: PAY-51 is done by then, and reopened after.
EARLIER = datetime(2026, 10, 8)
BUG, SUBTASK = "PAY-901", "PAY-902"
BUG_ID, SUBTASK_ID = 990001, 990002
LONG_SUMMARY = "Ünïcødé ✓ 名前 🚀 checkout crashes " * 40
BUG_DESCRIPTION = (
    "Crash right after the deploy.\nCaused by https://github.com/acme/api/pull/12 I think."
    "\n\nSecond paragraph ✓ 名前"
)
FAST = RetryPolicy(backoff_base=0.01, backoff_cap=0.05, max_wait=30.0)
STATUS = {
    "todo": ("10000", "To Do", "new"),
    "doing": ("3", "In Progress", "indeterminate"),
    "review": ("10001", "In Review", "indeterminate"),
    "done": ("10002", "Done", "done"),
}
# jira_issues columns loaded as they are, in the order assert_warehouse_equals reads them
STORE_FIELDS = (
    "id",
    "project_key",
    "issuetype_id",
    "issuetype_name",
    "summary",
    "description",
    "priority",
    "assignee_account_id",
    "reporter_account_id",
    "caused_by_pr",
)
TABLES = ("issues", "issues__changelog", "issues__links", "issues__remote_links")


# --- the store -------------------------------------------------------------------------------


def _insert(con: duckdb.DuckDBPyConnection, table: str, rows: list[dict[str, Any]]) -> None:
    columns = list(rows[0])
    sql = f"insert into {table} ({', '.join(columns)}) values ({', '.join('?' * len(columns))})"
    con.executemany(sql, [[row[c] for c in columns] for row in rows])


def _history(n: int, key: str, at: datetime, prev: str, step: str, author: str | None) -> dict:
    return {
        "history_id": 99_000_000 + n,
        "issue_key": key,
        "author_account_id": author,
        "created": at,
        "field": "status",
        "from_value": STATUS[prev][0],
        "from_string": STATUS[prev][1],
        "to_value": STATUS[step][0],
        "to_string": STATUS[step][1],
        "to_status_category": STATUS[step][2],
    }


def _add_messy_issues(con: duckdb.DuckDBPyConnection) -> None:
    user = con.execute("select min(account_id) from jira_users").fetchone()[0]
    issue = {
        "id": BUG_ID,
        "key": BUG,
        "project_key": "PAY",
        "issuetype_id": "10004",
        "issuetype_name": "缺陷",
        "summary": LONG_SUMMARY,
        "description": BUG_DESCRIPTION,
        "priority": "High",
        "assignee_account_id": None,
        "reporter_account_id": None,
        "labels": json.dumps(["regression", "名前"]),
        "caused_by_pr": "https://github.com/acme/api/pull/12",
        "created": datetime(2026, 9, 1, 0, 30),
        "updated": datetime(2026, 9, 1, 0, 30),
    }
    subtask = {
        **issue,
        "id": SUBTASK_ID,
        "key": SUBTASK,
        "issuetype_id": "10003",
        "issuetype_name": "子任务",
        "summary": "Quotes \"double\" 'single' \\ back—slash 🚀",
        "description": None,
        "priority": None,
        "assignee_account_id": "712020:gone-for-good",
        "labels": None,
        "caused_by_pr": None,
        "created": datetime(2026, 10, 20, 8, 0),
        "updated": datetime(2026, 10, 20, 8, 0),
    }
    _insert(con, "jira_issues", [issue, subtask])
    # 150 status changes, six hours apart: 120 before EARLIER, the last one to Done.
    steps = ["todo"] + ["doing", "review"] * 74 + ["doing", "done"]
    authors = [None, "712020:gone-for-good"] + [user] * 148
    _insert(
        con,
        "jira_changelog",
        [
            _history(n, BUG, EARLIER - timedelta(hours=6 * 120 - 1 - 6 * n), *pair, author)
            for n, (pair, author) in enumerate(zip(pairwise(steps), authors, strict=True))
        ],
    )
    _insert(
        con,
        "jira_issue_links",
        [
            {"id": 990_011, "type_name": "Problem/Incident", "inward_desc": "is caused by",
             "outward_desc": "causes", "outward_issue_key": SUBTASK, "inward_issue_key": BUG,
             "created": subtask["created"]},
        ],
    )  # fmt: skip
    _insert(
        con,
        "jira_remote_links",
        [
            {"id": 990_021, "issue_key": BUG, "url": "https://github.com/acme/api/pull/12",
             "title": "acme/api#12", "relationship": "caused by", "created": issue["created"]},
            {"id": 990_022, "issue_key": BUG, "url": "https://wiki.example.com/x?q=1",
             "title": "Post-mortem ✓ 名前", "relationship": None, "created": issue["created"]},
            {"id": 990_023, "issue_key": SUBTASK, "url": "https://github.com/acme/web/pull/3",
             "title": None, "relationship": "mentioned in", "created": subtask["created"]},
        ],
    )  # fmt: skip


@pytest.fixture(scope="module")
def jira_store(tiny_store: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("jira") / "store.duckdb"
    shutil.copy(tiny_store, path)
    with duckdb.connect(str(path)) as con:
        _add_messy_issues(con)
    return path


# --- what the store says as of a clock --------------------------------------------------------


def _ms(ts: datetime | None) -> datetime | None:
    """Jira renders milliseconds: compare at that precision, as naive UTC."""
    if ts is None:
        return None
    if ts.tzinfo is not None:
        ts = ts.astimezone(UTC).replace(tzinfo=None)
    return ts.replace(microsecond=ts.microsecond // 1000 * 1000)


@dataclass
class Expected:
    issues: dict[str, dict[str, Any]]  # key -> store row plus status as of the clock
    changelog: set[tuple]
    links: dict[int, tuple[str, str]]  # link id -> (outward key, inward key)
    remote_links: set[tuple]


def expected_at(loader: Loader, now: datetime) -> Expected:
    def rows(sql: str) -> list[dict[str, Any]]:
        with duckdb.connect(str(loader.store), read_only=True) as con:
            cur = con.execute(sql, {"now": now})
            names = [d[0] for d in cur.description]
            return [dict(zip(names, r, strict=True)) for r in cur.fetchall()]

    issues = {r["key"]: r for r in rows("select * from jira_issues where created <= $now")}
    changes = rows(
        "select * from jira_changelog where created <= $now order by created, history_id"
    )
    for issue in issues.values():
        issue.update(category="new", status=None, resolved=None, updated_now=issue["created"])
    for change in changes:
        issue = issues[change["issue_key"]]
        issue["updated_now"] = max(issue["updated_now"], change["created"])
        category = change["to_status_category"]
        if category == "done" and issue["category"] != "done":
            issue["resolved"] = change["created"]
        elif category != "done":
            issue["resolved"] = None
        issue.update(category=category, status=change["to_string"])
    links = {
        r["id"]: (r["outward_issue_key"], r["inward_issue_key"])
        for r in rows("select * from jira_issue_links where created <= $now")
        if r["outward_issue_key"] in issues and r["inward_issue_key"] in issues
    }
    return Expected(
        issues,
        {
            (
                c["history_id"],
                c["issue_key"],
                c["author_account_id"],
                _ms(c["created"]),
                c["from_string"],
                c["to_string"],
            )
            for c in changes
        },
        links,
        {
            (r["id"], r["issue_key"], r["url"], r["title"], r["relationship"])
            for r in rows("select * from jira_remote_links where created <= $now")
        },
    )


def assert_warehouse_equals(loader: Loader, now: datetime) -> Expected:
    """Every table equals the store as of `now`, with no duplicates."""
    exp = expected_at(loader, now)
    loaded = {
        r[0]: r[1:]
        for r in loader.rows(
            "select key, status_name, status_category_key, resolutiondate, updated, created,"
            " id, project_key, issuetype_id, issuetype_name, summary, description, priority_name,"
            " assignee_account_id, reporter_account_id, caused_by_pr, labels from raw_jira.issues"
        )
    }
    assert loader.scalar("select count(*) from raw_jira.issues") == len(exp.issues)
    assert set(loaded) == set(exp.issues)
    for key, issue in exp.issues.items():
        status, category, resolved, updated, created, *fields, labels = loaded[key]
        assert category == issue["category"] and _ms(resolved) == _ms(issue["resolved"]), key
        assert _ms(updated) == _ms(issue["updated_now"]), key
        assert _ms(created) == _ms(issue["created"]), key
        if issue["status"] is not None:  # else the project's initial status
            assert status == issue["status"], key
        assert tuple(fields) == tuple(issue[c] for c in STORE_FIELDS), key
        assert json.loads(labels) == json.loads(issue["labels"] or "[]"), key

    changelog = loader.rows(
        "select history_id, issue_key, author_account_id, created, from_string, to_string"
        " from raw_jira.issues__changelog"
    )
    assert len(changelog) == len(exp.changelog)  # no duplicates either
    assert {(*r[:3], _ms(r[3]), *r[4:]) for r in changelog} == exp.changelog

    # Each link is rendered on both of its issues, read the same way from either side.
    links = loader.rows(
        "select link_id, issue_key, outward_issue_key, inward_issue_key from raw_jira.issues__links"
    )
    assert len(links) == len(set(links))
    assert {r[0] for r in links} == set(exp.links)
    for link_id, issue_key, outward, inward in links:
        assert (outward, inward) == exp.links[link_id] and issue_key in (outward, inward)

    remote = loader.rows(
        "select id, issue_key, url, title, relationship from raw_jira.issues__remote_links"
    )
    assert len(remote) == len(exp.remote_links) and set(remote) == exp.remote_links
    return exp


def table_counts(loader: Loader) -> dict[str, int]:
    return {t: loader.scalar(f"select count(*) from raw_jira.{t}") for t in TABLES}


def history_pages(exp: Expected) -> int:
    """Changelog pages beyond the 100 newest histories the search inlines."""
    per_issue: dict[str, set[int]] = {}
    for history_id, key, *_ in exp.changelog:
        per_issue.setdefault(key, set()).add(history_id)
    return sum(math.ceil(max(0, len(h) - 100) / 100) for h in per_issue.values())


# --- fixtures ------------------------------------------------------------------------------


@pytest.fixture
def jl(jira_store: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Loader]:
    """A fresh simulator over the Jira store and an empty warehouse."""
    with SimulatorServer(jira_store) as sim:
        yield make_loader(sim, jira_store, tmp_path / "warehouse.duckdb", monkeypatch)


@dataclass
class FullLoad:
    loader: Loader
    expected: Expected
    backfill: dict[str, int]  # requests by route
    rerun: dict[str, int]
    counts_after_backfill: dict[str, int]


@pytest.fixture(scope="module")
def full(jira_store: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[FullLoad]:
    """One backfill at the store's as_of, then a second run with nothing changed."""
    warehouse = tmp_path_factory.mktemp("jira-full") / "warehouse.duckdb"
    with pytest.MonkeyPatch.context() as mp, SimulatorServer(jira_store) as sim:
        mp.setattr("pipelines.sources.http_session.DEFAULT_POLICY", FAST)
        loader = make_loader(sim, jira_store, warehouse, mp)
        loader.load("jira")
        backfill = sim.stats()["by_route"]
        counts = table_counts(loader)
        sim.reset_stats()
        loader.load("jira")
        yield FullLoad(
            loader, expected_at(loader, AS_OF), backfill, sim.stats()["by_route"], counts
        )


# --- full load ---------------------------------------------------------------------------------


def test_full_load_equals_the_store(full: FullLoad):
    exp = assert_warehouse_equals(full.loader, AS_OF)
    assert len(exp.issues) > 100 and len(exp.changelog) > len(exp.issues) and exp.links
    # every link on both of its issues
    assert full.loader.scalar("select count(*) from raw_jira.issues__links") == 2 * len(exp.links)
    categories = dict(full.loader.rows("select key, status_category_key from raw_jira.issues"))
    assert set(categories.values()) == {"new", "indeterminate", "done"}


def test_messy_issues_load_as_they_are(full: FullLoad):
    cols = (
        "issuetype_id, issuetype_name, issuetype_subtask, summary, description, labels,"
        " caused_by_pr, assignee_account_id, reporter_account_id, priority_name, status_name,"
        " resolution_name"
    )
    bug = full.loader.rows(f"select {cols} from raw_jira.issues where key = '{BUG}'")[0]
    assert bug[:3] == ("10004", "缺陷", False)
    assert bug[3] == LONG_SUMMARY and len(bug[3]) > 1000
    assert bug[4] == BUG_DESCRIPTION  # ADF flattened back to the text, PR URL included
    assert json.loads(bug[5]) == ["regression", "名前"]
    assert bug[6:] == ("https://github.com/acme/api/pull/12", None, None, "High", "Done", "Done")

    sub = full.loader.rows(f"select {cols} from raw_jira.issues where key = '{SUBTASK}'")[0]
    assert sub[:3] == ("10003", "子任务", True)
    assert sub[3] == "Quotes \"double\" 'single' \\ back—slash 🚀"
    assert sub[4:] == (None, "[]", None, "712020:gone-for-good", None, None, "To Do", None)

    authors = full.loader.rows(
        "select author_account_id, count(*) from raw_jira.issues__changelog"
        f" where issue_key = '{BUG}' group by 1"
    )
    user = full.loader.store_scalar("select min(account_id) from jira_users")
    assert dict(authors) == {None: 1, "712020:gone-for-good": 1, user: 148}
    assert (
        full.loader.scalar(
            f"select count(*) from raw_jira.issues__changelog where issue_key = '{SUBTASK}'"
        )
        == 0
    )
    (link,) = full.loader.rows(
        "select direction, inward_description, other_issue_key, other_issue_id, type_name"
        f" from raw_jira.issues__links where issue_key = '{BUG}'"
    )
    assert link == ("inward", "is caused by", SUBTASK, SUBTASK_ID, "Problem/Incident")
    apps = full.loader.rows(
        "select id, application_name from raw_jira.issues__remote_links order by id"
    )
    assert apps == [(990_021, "GitHub"), (990_022, None), (990_023, "GitHub")]


def test_backfill_uses_the_minimum_of_requests(full: FullLoad):
    exp = full.expected
    issues = len(exp.issues)
    minimum = math.ceil(issues / 100) + issues + history_pages(exp)
    assert history_pages(exp) == 1
    assert full.backfill == {
        "jira.issue_changelog": 1,
        "jira.issue_remotelinks": issues,  # one per issue: the only way to see them
        "jira.myself": 1,  # the user's time zone, for the START_DATE bound in JQL
        "jira.search_jql": math.ceil(issues / 100),
    }
    assert sum(full.backfill.values()) <= 1.05 * minimum


def test_second_run_without_changes_reads_one_page_and_adds_nothing(full: FullLoad):
    assert full.rerun == {"jira.myself": 1, "jira.search_jql": 1}
    assert full.loader.counts[-1] == {}
    assert table_counts(full.loader) == full.counts_after_backfill


def test_state_and_warehouse_hold_no_secret(full: FullLoad):
    token = SIM_CREDENTIALS["jira"]
    with duckdb.connect(str(full.loader.warehouse), read_only=True) as con:
        tables = con.execute(
            "select table_schema, table_name from information_schema.tables"
        ).fetchall()
        for schema, table in tables:
            dump = con.execute(f'select * from "{schema}"."{table}"').fetchall()
            assert token not in repr(dump), table


# --- increments --------------------------------------------------------------------------------


def _changed_between(before: Expected, after: Expected) -> set[str]:
    return {
        key
        for key, issue in after.issues.items()
        if key not in before.issues or before.issues[key]["updated_now"] != issue["updated_now"]
    }


def test_changes_between_runs_arrive(jl: Loader):
    jl.sim.set_now(EARLIER)
    jl.load("jira")
    before = assert_warehouse_equals(jl, EARLIER)
    assert len(before.issues) < 146

    jl.sim.set_now(AS_OF)
    jl.sim.reset_stats()
    jl.load("jira")
    after = assert_warehouse_equals(jl, AS_OF)  # new, progressed and reopened issues included
    moved = {
        k for k in before.issues if before.issues[k]["category"] != after.issues[k]["category"]
    }
    # done by the first run, then reopened (and maybe done again): a new resolution date
    reopened = {
        k
        for k, issue in before.issues.items()
        if issue["category"] == "done" and after.issues[k]["resolved"] != issue["resolved"]
    }
    assert moved and reopened
    for key in reopened:
        assert _ms(
            jl.scalar(f"select resolutiondate from raw_jira.issues where key = '{key}'")
        ) == (_ms(after.issues[key]["resolved"]))
    # the bug's changelog grew from 120 to 150 histories: paged again, replaced, not doubled
    bug_changes = f"select count(*) from raw_jira.issues__changelog where issue_key = '{BUG}'"
    assert jl.scalar(bug_changes) == 150

    # only what changed is fetched: one remote-link request per changed issue
    changed = _changed_between(before, after)
    requests = jl.sim.stats()["by_route"]
    assert requests["jira.issue_remotelinks"] == len(changed) and len(changed) < len(after.issues)
    assert requests["jira.issue_changelog"] == history_pages(after) == 1
    minimum = math.ceil(len(changed) / 100) + len(changed) + history_pages(after)
    assert sum(requests.values()) <= 1.05 * minimum


def test_failed_run_resumes_without_gaps_or_duplicates(jl: Loader):
    jl.sim.set_now(EARLIER)
    jl.load("jira")
    counts = table_counts(jl)
    jl.sim.set_now(AS_OF)
    jl.sim.inject(Fault("server_error", vendor="jira", path=r"/remotelink$", skip=20, times=-1))
    with pytest.raises(LoadFailed, match="HTTP 503"):
        jl.load("jira")
    assert table_counts(jl) == counts  # nothing of the failed run was committed
    jl.sim.faults.clear()
    jl.load("jira")
    assert_warehouse_equals(jl, AS_OF)


def test_start_date_limits_the_backfill(jl: Loader, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("SOURCES__JIRA__START_DATE", "2026-10-25")
    jl.load("jira")
    exp = expected_at(jl, AS_OF)
    wanted = {k for k, i in exp.issues.items() if i["updated_now"] >= datetime(2026, 10, 25)}
    loaded = {r[0] for r in jl.rows("select key from raw_jira.issues")}
    assert loaded == wanted and 0 < len(wanted) < len(exp.issues)
    assert jl.sim.stats()["by_route"]["jira.myself"] == 1


# --- faults and quarantine -------------------------------------------------------------------


def test_every_retryable_fault_is_retried_and_the_data_is_complete(
    jl: Loader, monkeypatch: pytest.MonkeyPatch
):
    # A read timeout shorter than the slow answer, so the slow request is retried.
    monkeypatch.setattr(
        "pipelines.sources.http_session.DEFAULT_POLICY",
        RetryPolicy(backoff_base=0.01, backoff_cap=0.05, max_wait=30.0, timeout=(5.0, 4.0)),
    )
    faults = {
        "search_jql": [
            Fault("rate_limit", vendor="jira", path=r"/search/jql$", times=1),
            Fault("invalid_json", vendor="jira", path=r"/search/jql$", skip=1, times=1),
        ],
        "issue_remotelinks": [
            Fault("server_error", vendor="jira", path=r"/remotelink$", skip=3, times=2),
            Fault("truncated", vendor="jira", path=r"/remotelink$", skip=10, times=1),
        ],
        "issue_changelog": [Fault("slow", vendor="jira", path=r"/changelog$", delay=6.0)],
    }
    for fault in (f for route in faults.values() for f in route):
        jl.sim.inject(fault)
    jl.load("jira")

    exp = assert_warehouse_equals(jl, AS_OF)
    assert "quarantine" not in jl.counts[-1]
    minimum = {
        "search_jql": math.ceil(len(exp.issues) / 100),
        "issue_remotelinks": len(exp.issues),
        "issue_changelog": history_pages(exp),
    }
    requests = jl.sim.stats()["by_route"]
    for route, injected in faults.items():
        assert all(f.hits == f.times for f in injected), injected
        assert requests[f"jira.{route}"] == minimum[route] + sum(f.times for f in injected)


def test_malformed_records_are_quarantined_and_the_rest_loads(jl: Loader):
    for path in (r"/search/jql$", rf"/issue/{BUG_ID}/changelog$", rf"/issue/{BUG_ID}/remotelink$"):
        jl.sim.inject(Fault("malformed", vendor="jira", path=path, times=1))
    jl.load("jira")

    quarantined = jl.rows(
        "select resource, reason, payload from raw_jira.quarantine order by resource"
    )
    assert [r[0] for r in quarantined] == ["issues", "issues__changelog", "issues__remote_links"]
    for _, reason, payload in quarantined:
        assert ", seen null (required)" in reason and '"_malformed": true' in payload
    assert jl.scalar("select min(source) from raw_jira.quarantine") == "jira"

    # Everything else loaded: one issue (the first the search returned), one of the bug's
    # histories and one of its remote links are missing.
    exp = expected_at(jl, AS_OF)
    loaded = table_counts(jl)
    assert loaded["issues"] == len(exp.issues) - 1
    assert loaded["issues__remote_links"] == len(exp.remote_links) - 1
    (missing,) = set(exp.issues) - {r[0] for r in jl.rows("select key from raw_jira.issues")}
    missing_changes = sum(1 for c in exp.changelog if c[1] == missing)
    assert loaded["issues__changelog"] == len(exp.changelog) - missing_changes - 1
    assert (
        jl.scalar(f"select count(*) from raw_jira.issues__changelog where issue_key = '{BUG}'")
        == 149
    )


# --- configuration and errors -----------------------------------------------------------------


def test_wrong_token_fails_clearly_without_the_token(jl: Loader, monkeypatch):
    monkeypatch.setenv("SOURCES__JIRA__API_TOKEN", "jira-wrong-token-123456")
    with pytest.raises(LoadFailed) as failed:
        jl.load("jira")
    assert "HTTP 401" in str(failed.value) and "jira-wrong-token-123456" not in str(failed.value)


def test_missing_base_url_names_the_setting(tmp_path, monkeypatch):
    for name in ("BASE_URL", "EMAIL", "API_TOKEN", "PROJECTS"):
        monkeypatch.delenv(f"SOURCES__JIRA__{name}", raising=False)
    # No setting at all: the organisation does not use Jira.
    with pytest.raises(SourceNotConfigured, match="SOURCES__JIRA__BASE_URL"):
        run_load("jira", tmp_path / "w.duckdb")
    # Some settings: an incomplete configuration, which is an error naming what is missing.
    monkeypatch.setenv("SOURCES__JIRA__EMAIL", "svc@example.com")
    monkeypatch.setenv("SOURCES__JIRA__API_TOKEN", "token-1234")
    monkeypatch.setenv("SOURCES__JIRA__PROJECTS", '["PAY"]')
    with pytest.raises(LoadFailed, match="missing configuration SOURCES__JIRA__BASE_URL \\("):
        run_load("jira", tmp_path / "w.duckdb")


def test_spec_args_build_the_source_without_configuration():
    spec = SOURCES["jira"]
    source = spec.factory(**spec.spec_args)
    assert list(source.resources) == ["issues", "quarantine"] and spec.dataset == "raw_jira"


# --- pure helpers ------------------------------------------------------------------------------


def test_jql_is_minute_granular_in_the_users_time_zone():
    since = datetime(2026, 10, 31, 22, 59, 59, tzinfo=UTC)
    assert jql(["PAY", "CHE"], since, ZoneInfo("Europe/Berlin")) == (
        'project in ("PAY", "CHE") AND updated >= "2026/10/31 23:59" ORDER BY updated ASC'
    )
    assert jql(["PAY"], None, None) == 'project in ("PAY") ORDER BY updated ASC'


def test_adf_documents_flatten_to_text_keeping_link_targets():
    doc = {
        "type": "doc",
        "version": 1,
        "content": [
            {
                "type": "heading",
                "attrs": {"level": 2},
                "content": [{"type": "text", "text": "Why"}],
            },
            {
                "type": "paragraph",
                "content": [
                    {"type": "text", "text": "Broken by "},
                    {
                        "type": "text",
                        "text": "this PR",
                        "marks": [
                            {
                                "type": "link",
                                "attrs": {"href": "https://github.com/acme/api/pull/7"},
                            }
                        ],
                    },
                    {"type": "hardBreak"},
                    {"type": "inlineCard", "attrs": {"url": "https://github.com/acme/api/pull/8"}},
                    {"type": "mention", "attrs": {"id": "x", "text": "@Ann"}},
                ],
            },  # fmt: skip
            {
                "type": "bulletList",
                "content": [
                    {
                        "type": "listItem",
                        "content": [
                            {"type": "paragraph", "content": [{"type": "text", "text": "one"}]}
                        ],
                    },
                    {
                        "type": "listItem",
                        "content": [
                            {"type": "paragraph", "content": [{"type": "text", "text": "two"}]}
                        ],
                    },
                ],
            },  # fmt: skip
            {"type": "paragraph", "content": []},
        ],
    }
    assert adf_text(doc) == (
        "Why\n\nBroken by this PR (https://github.com/acme/api/pull/7)\n"
        "https://github.com/acme/api/pull/8@Ann\n\n- one\n- two"
    )
    assert adf_text("plain") == "plain" and adf_text(None) is None


def test_custom_field_values_become_text():
    assert field_text("acme/api#12") == "acme/api#12"
    assert field_text({"value": "acme/api#3", "id": "1"}) == "acme/api#3"
    assert field_text(["a", None, {"url": "https://x/pull/1"}]) == "a, https://x/pull/1"
    assert field_text(12) == "12" and field_text(None) is None and field_text([]) is None
