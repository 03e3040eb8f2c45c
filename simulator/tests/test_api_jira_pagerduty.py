"""The simulated Jira Cloud REST v3 and PagerDuty REST v2 APIs.

Most tests run over a small handcrafted store whose every answer is known; the last ones walk
the generated `tiny` organisation (the shared `simulator` fixture) and compare it with its store.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import duckdb
import pandas as pd
import pytest
import requests

from org_simulator.credentials import SIM_CREDENTIALS
from org_simulator.faults import Fault
from org_simulator.schema import create_all
from org_simulator.server import SimulatorServer

AS_OF = datetime(2026, 9, 1)
JIRA_AUTH = (
    "Basic "
    + base64.b64encode(
        f"{SIM_CREDENTIALS['jira_email']}:{SIM_CREDENTIALS['jira']}".encode()
    ).decode()
)
PD_HEADERS = {
    "Authorization": f"Token token={SIM_CREDENTIALS['pagerduty']}",
    "Accept": "application/vnd.pagerduty+json;version=2",
}
JQL_TIME = "%Y/%m/%d %H:%M"
FLIPS = datetime(2026, 6, 10)

STATUS = {
    "todo": ("10000", "To Do", "new"),
    "doing": ("3", "In Progress", "indeterminate"),
    "done": ("10002", "Done", "done"),
}


# --- a handcrafted store -----------------------------------------------------------------


def _insert(con: duckdb.DuckDBPyConnection, table: str, rows: list[dict[str, Any]]) -> None:
    if not rows:
        return
    frame = pd.DataFrame(rows)
    con.register("incoming", frame)
    columns = ", ".join(frame.columns)
    con.execute(f"insert into {table} ({columns}) select {columns} from incoming")
    con.unregister("incoming")


def _transition(history_id: int, key: str, at: datetime, prev: str, step: str) -> dict:
    return {
        "history_id": history_id,
        "issue_key": key,
        "author_account_id": "acc-ann",
        "created": at,
        "field": "status",
        "from_value": STATUS[prev][0],
        "from_string": STATUS[prev][1],
        "to_value": STATUS[step][0],
        "to_string": STATUS[step][1],
        "to_status_category": STATUS[step][2],
    }


def build_store(path: Path) -> Path:
    """ABC: 130 issues (ABC-1..130) created every 18 hours from 2026-06-01, the last ones
    after the clock; XYZ: 5 issues. Issues with n % 3 == 0 go to In Progress a day after
    creation, n % 6 == 0 to Done two days after. ABC-7 has 120 status histories. 40
    incidents, one every 5 days from 2026-03-01, the last ones after the clock."""
    con = duckdb.connect(str(path))
    create_all(con)
    _insert(con, "org_meta", [{"key": "as_of", "value": AS_OF.isoformat()}])
    _insert(
        con,
        "org_teams",
        [
            {"team_id": "team-a", "name": "Alpha", "jira_project_key": "ABC", "jira_locale": "en",
             "pd_team_id": "PT0001", "openai_project_id": None, "anthropic_workspace_id": None},
            {"team_id": "team-x", "name": "Xylo", "jira_project_key": "XYZ", "jira_locale": "en",
             "pd_team_id": "PT0002", "openai_project_id": None, "anthropic_workspace_id": None},
        ],
    )  # fmt: skip
    _insert(
        con,
        "jira_users",
        [
            {"account_id": "acc-ann", "display_name": "Ann", "email": "ann@example.com",
             "account_type": "atlassian", "active": True},
            {"account_id": "acc-bot", "display_name": "Deploy bot", "email": None,
             "account_type": "app", "active": True},
        ],
    )  # fmt: skip
    issues, changelog = [], []
    start = datetime(2026, 6, 1, 0, 0, 30)
    for n in range(1, 131):
        created = start + timedelta(hours=18 * (n - 1))
        key = f"ABC-{n}"
        issues.append(
            {"id": 10000 + n, "key": key, "project_key": "ABC", "issuetype_id": "10004",
             "issuetype_name": "Bug" if n % 2 else "Story", "summary": f"Issue {n}",
             "description": f"Line one of {n}\nline two\n\nSecond paragraph",
             "priority": "High" if n % 2 else "Medium", "assignee_account_id":
             "acc-ann" if n % 4 else None, "reporter_account_id": "acc-bot",
             "labels": json.dumps(["regression"] if n % 2 else []),
             "caused_by_pr": "acme/api#12" if n == 2 else None, "created": created,
             "updated": created}
        )  # fmt: skip
        if n % 3 == 0:
            changelog.append(
                _transition(n * 1000, key, created + timedelta(days=1), "todo", "doing")
            )
        if n % 6 == 0:
            changelog.append(
                _transition(n * 1000 + 1, key, created + timedelta(days=2), "doing", "done")
            )
    for n in range(1, 6):
        issues.append(
            {"id": 20000 + n, "key": f"XYZ-{n}", "project_key": "XYZ", "issuetype_id": "10002",
             "issuetype_name": "Task", "summary": f"Xylo {n}", "description": None,
             "priority": "Low", "assignee_account_id": None, "reporter_account_id": "acc-ann",
             "labels": "[]", "caused_by_pr": None, "created": datetime(2026, 8, n),
             "updated": datetime(2026, 8, n)}
        )  # fmt: skip
    # ABC-7 flips between In Progress and Done 120 times, an hour apart, from FLIPS.
    flips = FLIPS
    for h in range(120):
        prev, step = (
            ("todo", "doing") if h == 0 else (("doing", "done"), ("done", "doing"))[(h + 1) % 2]
        )
        changelog.append(_transition(70000 + h, "ABC-7", flips + timedelta(hours=h), prev, step))
    _insert(con, "jira_issues", issues)
    _insert(con, "jira_changelog", changelog)
    _insert(
        con,
        "jira_issue_links",
        [
            # ABC-1 causes ABC-2 (ABC-2 "is caused by" ABC-1).
            {"id": 1, "type_name": "Problem/Incident", "inward_desc": "is caused by",
             "outward_desc": "causes", "outward_issue_key": "ABC-1", "inward_issue_key": "ABC-2",
             "created": datetime(2026, 6, 2)},
            # Visible only once the clock passes 2026-09-05.
            {"id": 2, "type_name": "Relates", "inward_desc": "relates to",
             "outward_desc": "relates to", "outward_issue_key": "ABC-3",
             "inward_issue_key": "ABC-4", "created": datetime(2026, 9, 5)},
        ],
    )  # fmt: skip
    _insert(
        con,
        "jira_remote_links",
        [
            {"id": 5, "issue_key": "ABC-2", "url": "https://github.com/acme/api/pull/12",
             "title": "acme/api#12", "relationship": "caused by", "created": datetime(2026, 6, 2)},
            {"id": 6, "issue_key": "ABC-2", "url": "https://github.com/acme/api/pull/13",
             "title": "acme/api#13", "relationship": "fixed by", "created": datetime(2026, 10, 1)},
        ],
    )  # fmt: skip

    _insert(
        con,
        "pd_services",
        [
            {"id": "PS1", "name": "checkout", "team_id": "PT0001", "repo_full_name": "acme/api"},
            {"id": "PS2", "name": "search", "team_id": "PT0002", "repo_full_name": "acme/web"},
        ],
    )
    _insert(
        con,
        "pd_users",
        [
            {"id": "PU1", "name": "Ann", "email": "ann@example.com"},
            {"id": "PU2", "name": "Bo", "email": "bo@example.com"},
        ],
    )
    incidents, entries = [], []
    first = datetime(2026, 3, 1, 8, 0)
    for n in range(1, 41):
        created = first + timedelta(days=5 * (n - 1))
        iid = f"Q{n:04d}"
        acked = created + timedelta(minutes=10)
        resolved = created + timedelta(hours=3) if n % 4 else None  # every 4th never resolves
        incidents.append(
            {"id": iid, "incident_number": n, "title": f"Error rate {n}",
             "description": "Alert fired on error rate.", "urgency": "high" if n % 2 else "low",
             "priority": "P1" if n % 2 else None, "service_id": "PS1" if n % 3 else "PS2",
             "team_id": "PT0001" if n % 3 else "PT0002", "assignee_id": "PU1",
             "incident_key": f"key-{n}", "created_at": created, "acknowledged_at": acked,
             "resolved_at": resolved}
        )  # fmt: skip
        log = [
            (created, "trigger_log_entry", "service_reference", "PS1", "Triggered", None),
            (acked, "acknowledge_log_entry", "user_reference", "PU1", "Acknowledged", None),
            (acked + timedelta(minutes=3), "annotate_log_entry", "user_reference", "PU1",
             "Note added", f"Deploy {n} looks related."),
        ]  # fmt: skip
        if resolved:
            log.append((resolved, "resolve_log_entry", "user_reference", "PU1", "Resolved", None))
        for i, (at, kind, agent_type, agent, summary, note) in enumerate(log):
            entries.append(
                {"id": f"R{n:04d}{i:02d}", "incident_id": iid, "type": kind, "created_at": at,
                 "agent_type": agent_type, "agent_id": agent, "summary": summary, "note": note}
            )  # fmt: skip
    _insert(con, "pd_incidents", incidents)
    _insert(con, "pd_log_entries", entries)
    con.close()
    return path


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_store(tmp_path_factory.mktemp("jira_pd") / "handmade.duckdb")


@pytest.fixture(scope="module")
def server(store: Path) -> Iterator[SimulatorServer]:
    with SimulatorServer(store) as sim:
        yield sim


@pytest.fixture
def sim(server: SimulatorServer) -> Iterator[SimulatorServer]:
    """The module's server with the clock, faults and statistics reset after each test."""
    yield server
    server.set_now(AS_OF)
    server.faults.clear()
    server.reset_stats()


@pytest.fixture(scope="module")
def http() -> Iterator[requests.Session]:
    with requests.Session() as session:
        yield session


def rows(store: Path, sql: str, params: list | None = None) -> list[tuple]:
    con = duckdb.connect(str(store), read_only=True)
    try:
        return con.execute(sql, params or []).fetchall()
    finally:
        con.close()


def jira_get(http, sim, path, params=None, auth=JIRA_AUTH) -> requests.Response:
    headers = {"Authorization": auth} if auth else {}
    return http.get(sim.base_url("jira") + path, params=params, headers=headers, timeout=10)


def jira_search(http, sim, jql, **params) -> dict[str, Any]:
    response = jira_get(http, sim, "/rest/api/3/search/jql", {"jql": jql, **params})
    assert response.status_code == 200, response.text
    return response.json()


def walk_jira(http, sim, jql, method="GET", **params) -> list[dict[str, Any]]:
    """Every issue of a search, following nextPageToken until isLast."""
    issues, token, pages = [], None, 0
    url = sim.base_url("jira") + "/rest/api/3/search/jql"
    while True:
        if method == "GET":
            query = {"jql": jql, **params, **({"nextPageToken": token} if token else {})}
            response = http.get(url, params=query, headers={"Authorization": JIRA_AUTH})
        else:
            body = {"jql": jql, **params, **({"nextPageToken": token} if token else {})}
            response = http.post(url, json=body, headers={"Authorization": JIRA_AUTH})
        assert response.status_code == 200, response.text
        page = response.json()
        assert "total" not in page
        issues.extend(page["issues"])
        pages += 1
        assert pages < 100
        if page["isLast"]:
            assert "nextPageToken" not in page
            return issues
        token = page["nextPageToken"]


def pd_get(http, sim, path, params=None, headers=PD_HEADERS) -> requests.Response:
    return http.get(sim.base_url("pagerduty") + path, params=params, headers=headers, timeout=10)


def walk_pd(http, sim, path, key, **params) -> list[dict[str, Any]]:
    items, offset = [], 0
    while True:
        response = pd_get(http, sim, path, {**params, "offset": offset})
        assert response.status_code == 200, response.text
        page = response.json()
        items.extend(page[key])
        if not page["more"]:
            return items
        offset += page["limit"]


def jira_ts(ts: datetime) -> str:
    return ts.strftime("%Y-%m-%dT%H:%M:%S.000+0000")


# --- Jira: auth and the removed search ----------------------------------------------------


def test_jira_rejects_missing_or_wrong_credentials(http, sim):
    for auth in (None, "Basic " + base64.b64encode(b"sim-bot@example.com:nope").decode(),
                 "Bearer sim-jira-api-token"):  # fmt: skip
        response = jira_get(http, sim, "/rest/api/3/myself", auth=auth)
        assert response.status_code == 401
        assert set(response.json()) == {"errorMessages", "errors"}
    me = jira_get(http, sim, "/rest/api/3/myself").json()
    assert me["emailAddress"] == SIM_CREDENTIALS["jira_email"]


def test_old_search_is_gone(http, sim):
    response = jira_get(http, sim, "/rest/api/3/search", {"jql": "project = ABC"})
    assert response.status_code == 410
    assert "/rest/api/3/search/jql" in response.json()["errorMessages"][0]
    assert response.json()["errors"] == {}


def test_rate_limit_answers_429_with_retry_after(http, sim):
    sim.inject(Fault("rate_limit", vendor="jira", retry_after=7))
    response = jira_get(http, sim, "/rest/api/3/search/jql", {"jql": "project = ABC"})
    assert response.status_code == 429
    assert response.headers["retry-after"] == "7"
    assert "errorMessages" in response.json()


# --- Jira: search and pagination --------------------------------------------------------


@pytest.mark.parametrize("method", ["GET", "POST"])
def test_search_walks_every_visible_issue(http, sim, store, method):
    issues = walk_jira(http, sim, "project = ABC ORDER BY key ASC", method, maxResults=50,
                       fields="summary,created")  # fmt: skip
    expected = rows(
        store,
        "select key, id from jira_issues where project_key = 'ABC' and created <= ? order by id",
        [AS_OF],
    )
    assert [(i["key"], int(i["id"])) for i in issues] == [(k, i) for k, i in expected]
    assert len(expected) == 123  # 130 created, the clock sees 123
    assert issues[0]["fields"] == {"summary": "Issue 1", "created": "2026-06-01T00:00:30.000+0000"}


def test_search_without_fields_returns_ids_only_and_caps_page_size(http, sim):
    page = jira_search(http, sim, "project in (ABC, XYZ) order by created", maxResults=500)
    assert page["issues"][0] == {"id": "10001"}
    assert len(page["issues"]) == 128 and page["isLast"]
    rich = jira_search(http, sim, "project in (ABC, XYZ)", maxResults=500, fields="summary")
    assert len(rich["issues"]) == 100 and not rich["isLast"]
    default = jira_search(http, sim, "project = ABC", fields="summary")
    assert len(default["issues"]) == 50


def test_search_token_belongs_to_its_query(http, sim):
    page = jira_search(http, sim, "project = ABC", maxResults=10)
    response = jira_get(
        http, sim, "/rest/api/3/search/jql",
        {"jql": "project = XYZ", "nextPageToken": page["nextPageToken"]},
    )  # fmt: skip
    assert response.status_code == 400
    garbage = jira_get(
        http, sim, "/rest/api/3/search/jql", {"jql": "project = ABC", "nextPageToken": "@@"}
    )
    assert garbage.status_code == 400


def _updated_now(store: Path, now: datetime) -> dict[str, datetime]:
    got = rows(
        store,
        "select i.key, greatest(i.created, coalesce(max(c.created), i.created)) "
        "from jira_issues i left join jira_changelog c on c.issue_key = i.key and c.created <= ? "
        "where i.created <= ? group by i.key, i.created",
        [now, now],
    )
    return dict(got)


def test_incremental_jql_on_updated(http, sim, store):
    since = datetime(2026, 8, 10, 12, 0)
    jql = f'project = ABC AND updated >= "{since:{JQL_TIME}}" ORDER BY updated ASC'
    issues = walk_jira(http, sim, jql, maxResults=7, fields="updated")
    updated = {k: v for k, v in _updated_now(store, AS_OF).items() if k.startswith("ABC-")}
    expected = sorted((v, k) for k, v in updated.items() if v >= since)
    assert [i["key"] for i in issues] == [k for _, k in expected]
    stamps = [i["fields"]["updated"] for i in issues]
    assert stamps == sorted(stamps) and stamps[0] >= jira_ts(since)
    # Minute-granular: `>` an issue's minute still includes it when it changed seconds later.
    key, at = expected[0][1], expected[0][0]
    later = walk_jira(http, sim, f'key = {key} and updated > "{at:%Y-%m-%d %H:%M}"')
    assert at.second and len(later) == 1
    desc = walk_jira(http, sim, jql.replace("ASC", "DESC"), maxResults=50, fields="updated")
    assert [i["key"] for i in desc] == [k for _, k in reversed(expected)]


def test_created_filter_and_date_forms(http, sim):
    one = walk_jira(http, sim, "project = XYZ and created >= 2026-08-03 ORDER BY created")
    two = walk_jira(http, sim, "project = XYZ AND created >= '2026/08/03' order by created asc")
    three = walk_jira(http, sim, 'PROJECT = xyz and CREATED > "2026-08-02 23:59"')
    assert [i["id"] for i in one] == [i["id"] for i in two] == ["20003", "20004", "20005"]
    assert sorted(i["id"] for i in three) == ["20003", "20004", "20005"]


@pytest.mark.parametrize(
    "jql",
    [
        "project = ABC OR project = XYZ",
        "status = Done",
        "project = ABC AND",
        "project = ABC ORDER BY priority",
        "ORDER BY key",  # unbounded
        "",
        "project = NOPE",
        'updated >= "last tuesday"',
        "project = ABC AND updated >= startOfDay()",
        "project in (ABC, XYZ",
    ],
)
def test_unsupported_jql_is_a_400_in_jira_shape(http, sim, jql):
    response = jira_get(http, sim, "/rest/api/3/search/jql", {"jql": jql})
    assert response.status_code == 400, response.text
    body = response.json()
    assert body["errors"] == {} and body["errorMessages"] and body["errorMessages"][0]


# --- Jira: state as of the clock ------------------------------------------------------------


def test_status_and_resolution_follow_the_clock(http, sim):
    created = datetime(2026, 6, 1, 0, 0, 30) + timedelta(hours=18 * 5)  # ABC-6
    fields = "status,resolutiondate,updated,resolution"
    steps = [
        (created + timedelta(hours=1), "To Do", "new", None),
        (created + timedelta(days=1, hours=1), "In Progress", "indeterminate", None),
        (created + timedelta(days=3), "Done", "done", created + timedelta(days=2)),
    ]
    for now, name, category, resolved in steps:
        sim.set_now(now)
        issue = jira_get(http, sim, "/rest/api/3/issue/ABC-6", {"fields": fields}).json()
        assert issue["fields"]["status"]["name"] == name
        assert issue["fields"]["status"]["statusCategory"]["key"] == category
        assert issue["fields"]["resolutiondate"] == (jira_ts(resolved) if resolved else None)
        assert (issue["fields"]["resolution"] is None) == (resolved is None)
    # Issues after the clock do not exist.
    sim.set_now(created - timedelta(seconds=1))
    assert jira_get(http, sim, "/rest/api/3/issue/ABC-6").status_code == 404
    keys = [i["key"] for i in walk_jira(http, sim, "project = ABC", maxResults=100, fields="x")]
    assert "ABC-6" not in keys and "ABC-5" in keys


def test_reopened_issue_has_no_resolution_date(http, sim):
    # ABC-7: history h (h >= 1) goes to Done when h is odd, back to In Progress when even.
    flips = FLIPS
    sim.set_now(flips + timedelta(hours=2, minutes=30))  # h=2 reopened it
    fields = jira_get(http, sim, "/rest/api/3/issue/ABC-7").json()["fields"]
    assert fields["status"]["name"] == "In Progress" and fields["resolutiondate"] is None
    sim.set_now(flips + timedelta(hours=3, minutes=30))
    fields = jira_get(http, sim, "/rest/api/3/issue/ABC-7").json()["fields"]
    assert fields["resolutiondate"] == jira_ts(flips + timedelta(hours=3))


def test_rendered_fields(http, sim):
    issue = jira_get(http, sim, "/rest/api/3/issue/ABC-2").json()
    fields = issue["fields"]
    assert issue["key"] == "ABC-2" and issue["id"] == "10002"
    assert issue["self"].endswith("/rest/api/3/issue/10002")
    assert fields["summary"] == "Issue 2"
    assert fields["issuetype"]["name"] == "Story" and fields["issuetype"]["subtask"] is False
    assert fields["project"]["key"] == "ABC" and fields["project"]["name"] == "Alpha"
    assert fields["priority"]["name"] == "Medium"
    assert fields["assignee"]["accountId"] == "acc-ann"
    assert fields["assignee"]["emailAddress"] == "ann@example.com"
    assert "emailAddress" not in fields["reporter"]
    assert fields["reporter"]["accountType"] == "app"
    assert fields["labels"] == []
    assert fields["customfield_10100"] == "acme/api#12"
    assert fields["description"] == {
        "type": "doc",
        "version": 1,
        "content": [
            {"type": "paragraph", "content": [
                {"type": "text", "text": "Line one of 2"}, {"type": "hardBreak"},
                {"type": "text", "text": "line two"}]},
            {"type": "paragraph", "content": [{"type": "text", "text": "Second paragraph"}]},
        ],
    }  # fmt: skip
    assert fields["status"]["name"] == "To Do"
    xyz = jira_get(http, sim, "/rest/api/3/issue/20001", {"fields": "description"}).json()
    assert xyz["key"] == "XYZ-1" and xyz["fields"] == {"description": None}
    names = {f["id"]: f["name"] for f in jira_get(http, sim, "/rest/api/3/field").json()}
    assert names["customfield_10100"] == "Caused by PR"


def test_issue_links_render_on_both_issues(http, sim):
    def links(key: str) -> list[dict[str, Any]]:
        return jira_get(http, sim, f"/rest/api/3/issue/{key}", {"fields": "issuelinks"}).json()[
            "fields"
        ]["issuelinks"]

    (on_bug,) = links("ABC-2")
    (on_cause,) = links("ABC-1")
    assert on_bug["id"] == on_cause["id"] == "1"
    assert on_bug["type"]["inward"] == "is caused by" and on_bug["type"]["outward"] == "causes"
    assert on_bug["inwardIssue"]["key"] == "ABC-1" and "outwardIssue" not in on_bug
    assert on_cause["outwardIssue"]["key"] == "ABC-2" and "inwardIssue" not in on_cause
    assert on_cause["outwardIssue"]["fields"]["summary"] == "Issue 2"
    assert on_cause["outwardIssue"]["fields"]["status"]["statusCategory"]["key"] == "new"
    assert links("ABC-3") == [] and links("ABC-4") == []
    sim.set_now(datetime(2026, 9, 6))
    assert links("ABC-3")[0]["outwardIssue"]["key"] == "ABC-4"
    assert links("ABC-4")[0]["inwardIssue"]["key"] == "ABC-3"


def test_changelog_inline_and_paged(http, sim):
    (issue,) = walk_jira(http, sim, "key = ABC-7", expand="changelog", fields="status")
    inline = issue["changelog"]
    assert inline["total"] == 120 and len(inline["histories"]) == 100
    created = [h["created"] for h in inline["histories"]]
    assert created == sorted(created, reverse=True)  # most recent first
    history = inline["histories"][0]
    assert history["author"]["accountId"] == "acc-ann"
    assert history["items"][0]["field"] == "status"
    assert set(history["items"][0]) >= {"field", "fieldtype", "from", "fromString", "to",
                                        "toString"}  # fmt: skip

    values, start = [], 0
    while True:
        page = jira_get(
            http, sim, "/rest/api/3/issue/ABC-7/changelog", {"startAt": start, "maxResults": 50}
        ).json()
        assert page["total"] == 120 and page["startAt"] == start
        values += page["values"]
        start += len(page["values"])
        if page["isLast"]:
            break
    assert len(values) == 120 and values[0]["items"][0]["fromString"] == "To Do"
    assert [v["id"] for v in values] == [str(70000 + h) for h in range(120)]

    sim.set_now(FLIPS + timedelta(hours=9, minutes=30))  # later histories are invisible
    page = jira_get(http, sim, "/rest/api/3/issue/ABC-7/changelog").json()
    assert page["total"] == 10 and page["isLast"]
    (issue,) = walk_jira(http, sim, "key = ABC-7", expand="changelog", fields="updated")
    assert issue["changelog"]["total"] == 10
    assert issue["fields"]["updated"] == jira_ts(FLIPS + timedelta(hours=9))


def test_remote_links_respect_the_clock(http, sim):
    links = jira_get(http, sim, "/rest/api/3/issue/ABC-2/remotelink").json()
    assert [link["object"]["url"] for link in links] == ["https://github.com/acme/api/pull/12"]
    assert links[0]["relationship"] == "caused by" and links[0]["id"] == 5
    sim.set_now(datetime(2026, 10, 2))
    assert len(jira_get(http, sim, "/rest/api/3/issue/ABC-2/remotelink").json()) == 2
    assert jira_get(http, sim, "/rest/api/3/issue/ABC-999/remotelink").status_code == 404


def test_jira_answers_are_deterministic(http, sim):
    params = {"jql": "project in (ABC, XYZ) ORDER BY updated DESC", "fields": "*all",
              "expand": "changelog", "maxResults": 100}  # fmt: skip
    first = jira_get(http, sim, "/rest/api/3/search/jql", params)
    second = jira_get(http, sim, "/rest/api/3/search/jql", params)
    assert first.status_code == 200 and first.content == second.content


# --- PagerDuty ----------------------------------------------------------------------------


def test_pagerduty_auth(http, sim):
    for headers in ({}, {"Authorization": "Token token=wrong"},
                    {"Authorization": f"Bearer {SIM_CREDENTIALS['pagerduty']}"}):  # fmt: skip
        response = pd_get(http, sim, "/incidents", headers=headers)
        assert response.status_code == 401
        assert set(response.json()["error"]) >= {"message", "code"}
    assert pd_get(http, sim, "/incidents").status_code == 200


def _store_incidents(store: Path, now: datetime) -> list[tuple]:
    return rows(
        store,
        "select id, incident_number from pd_incidents where created_at <= ? "
        "order by created_at, incident_number",
        [now],
    )


def test_incidents_pagination_walks_everything(http, sim, store):
    incidents = walk_pd(http, sim, "/incidents", "incidents", date_range="all", limit=7)
    expected = _store_incidents(store, AS_OF)
    assert [(i["id"], i["incident_number"]) for i in incidents] == expected
    assert len(expected) == 37
    page = pd_get(http, sim, "/incidents", {"date_range": "all", "total": "true"}).json()
    assert page["total"] == 37 and page["limit"] == 25 and page["more"] is True
    assert pd_get(http, sim, "/incidents", {"date_range": "all"}).json()["total"] is None
    capped = pd_get(http, sim, "/incidents", {"date_range": "all", "limit": 1000}).json()
    assert capped["limit"] == 100 and len(capped["incidents"]) == 37 and not capped["more"]


def test_incident_shape(http, sim):
    incident = pd_get(http, sim, "/incidents/Q0001").json()["incident"]
    assert incident["id"] == "Q0001" and incident["type"] == "incident"
    assert incident["summary"] == "[#1] Error rate 1"
    assert incident["status"] == "resolved"
    assert incident["created_at"] == "2026-03-01T08:00:00Z"
    assert incident["resolved_at"] == "2026-03-01T11:00:00Z"
    assert incident["last_status_change_at"] == "2026-03-01T11:00:00Z"
    assert incident["updated_at"] == "2026-03-01T11:00:00Z"
    assert incident["service"] == {
        "id": "PS1", "type": "service_reference", "summary": "checkout",
        "self": sim.base_url("pagerduty") + "/services/PS1",
        "html_url": incident["service"]["html_url"],
    }  # fmt: skip
    assert incident["teams"][0]["id"] == "PT0001" and incident["teams"][0]["summary"] == "Alpha"
    assert incident["priority"]["summary"] == "P1" and incident["urgency"] == "high"
    assert incident["assignments"] == []  # resolved
    assert pd_get(http, sim, "/incidents/2").json()["incident"]["id"] == "Q0002"
    assert pd_get(http, sim, "/incidents/Q0002").json()["incident"]["priority"] is None
    missing = pd_get(http, sim, "/incidents/NOPE")
    assert missing.status_code == 404 and missing.json()["error"]["code"] == 2100


def test_default_window_is_the_last_30_days(http, sim, store):
    incidents = walk_pd(http, sim, "/incidents", "incidents")
    expected = rows(
        store,
        "select id from pd_incidents where created_at >= ? and created_at < ? order by created_at",
        [AS_OF - timedelta(days=30), AS_OF],
    )
    assert [i["id"] for i in incidents] == [r[0] for r in expected] and len(expected) == 6
    since = pd_get(http, sim, "/incidents", {"since": "2026-03-01T00:00:00Z"}).json()
    assert [i["incident_number"] for i in since["incidents"]] == [1, 2, 3, 4, 5, 6]


def test_since_until_and_the_six_month_limit(http, sim):
    ok = pd_get(
        http,
        sim,
        "/incidents",
        {"since": "2026-03-01T00:00:00Z", "until": "2026-09-01T00:00:00Z", "limit": 100},
    )
    assert ok.status_code == 200 and len(ok.json()["incidents"]) == 37  # fmt: skip
    window = pd_get(
        http, sim, "/incidents",
        {"since": "2026-03-06T08:00:00+00:00", "until": "2026-03-16T08:00:00Z"},
    ).json()  # fmt: skip
    assert [i["incident_number"] for i in window["incidents"]] == [2, 3]  # until is exclusive
    too_long = pd_get(
        http, sim, "/incidents", {"since": "2026-02-01T00:00:00Z", "until": "2026-09-01T00:00:00Z"}
    )
    assert too_long.status_code == 400 and "error" in too_long.json()  # fmt: skip


def test_offset_ceiling_of_10000(http, sim):
    response = pd_get(http, sim, "/incidents", {"date_range": "all", "offset": 9950, "limit": 100})
    assert response.status_code == 400
    error = response.json()["error"]
    assert error["code"] == 2002 and "Offset+limit exceeds" in error["errors"][0]
    edge = pd_get(http, sim, "/incidents", {"date_range": "all", "offset": 9900, "limit": 100})
    assert edge.status_code == 200 and edge.json()["incidents"] == []
    logs = pd_get(http, sim, "/log_entries", {"offset": 10000, "limit": 1})
    assert logs.status_code == 400


def test_incident_status_follows_the_clock(http, sim):
    created = datetime(2026, 3, 1, 8, 0) + timedelta(days=5 * 9)  # Q0010
    steps = [
        (created + timedelta(minutes=5), "triggered", None),
        (created + timedelta(minutes=11), "acknowledged", None),
        (created + timedelta(hours=4), "resolved", iso_z(created + timedelta(hours=3))),
    ]
    for now, status, resolved in steps:
        sim.set_now(now)
        incident = pd_get(http, sim, "/incidents/Q0010").json()["incident"]
        assert incident["status"] == status and incident["resolved_at"] == resolved
        listed = pd_get(http, sim, "/incidents", {"statuses[]": status, "date_range": "all"})
        assert "Q0010" in [i["id"] for i in listed.json()["incidents"]]
        others = [s for s in ("triggered", "acknowledged", "resolved") if s != status]
        listed = pd_get(http, sim, "/incidents", {"statuses[]": others, "date_range": "all"})
        assert "Q0010" not in [i["id"] for i in listed.json()["incidents"]]
    assert incident["updated_at"] == iso_z(created + timedelta(hours=3))
    sim.set_now(created - timedelta(seconds=1))
    assert pd_get(http, sim, "/incidents/Q0010").status_code == 404


def iso_z(ts: datetime) -> str:
    return ts.strftime("%Y-%m-%dT%H:%M:%SZ")


def test_filters_and_sorting(http, sim, store):
    team = walk_pd(
        http, sim, "/incidents", "incidents", date_range="all", **{"team_ids[]": "PT0002"}
    )
    assert {i["teams"][0]["id"] for i in team} == {"PT0002"} and len(team) == 12
    service = walk_pd(http, sim, "/incidents", "incidents", date_range="all",
                      **{"service_ids[]": ["PS1"]})  # fmt: skip
    assert {i["service"]["id"] for i in service} == {"PS1"} and len(service) == 25
    desc = walk_pd(http, sim, "/incidents", "incidents", date_range="all",
                   sort_by="incident_number:desc")  # fmt: skip
    assert [i["incident_number"] for i in desc] == list(range(37, 0, -1))
    bad = pd_get(http, sim, "/incidents", {"sort_by": "title:asc"})
    assert bad.status_code == 400


def test_log_entries(http, sim, store):
    entries = walk_pd(http, sim, "/incidents/Q0003/log_entries", "log_entries", limit=2)
    assert [e["type"] for e in entries] == [
        "resolve_log_entry",
        "annotate_log_entry",
        "acknowledge_log_entry",
        "trigger_log_entry",
    ]  # fmt: skip  newest first
    note = entries[1]
    assert note["channel"] == {"type": "note", "summary": "Deploy 3 looks related."}
    assert note["agent"]["type"] == "user_reference" and note["agent"]["summary"] == "Ann"
    assert entries[3]["agent"]["type"] == "service_reference"
    assert note["incident"]["id"] == "Q0003"
    sim.set_now(datetime(2026, 3, 11, 8, 12))  # acknowledged at 8:10, note at 8:13
    entries = pd_get(http, sim, "/incidents/Q0003/log_entries").json()["log_entries"]
    assert [e["type"] for e in entries] == ["acknowledge_log_entry", "trigger_log_entry"]

    sim.set_now(AS_OF)
    window = {"since": "2026-08-01T00:00:00Z", "until": "2026-09-01T00:00:00Z"}
    org = walk_pd(http, sim, "/log_entries", "log_entries", limit=5, **window)
    expected = rows(
        store,
        "select id from pd_log_entries where created_at >= ? and created_at < ? "
        "and created_at <= ? order by created_at desc, id desc",
        [datetime(2026, 8, 1), datetime(2026, 9, 1), AS_OF],
    )
    assert [e["id"] for e in org] == [r[0] for r in expected] and expected


def test_services_and_users(http, sim):
    services = pd_get(http, sim, "/services").json()
    assert [s["id"] for s in services["services"]] == ["PS1", "PS2"]
    assert services["services"][0]["teams"][0]["id"] == "PT0001" and not services["more"]
    users = pd_get(http, sim, "/users", {"limit": 1}).json()
    assert users["users"][0]["email"] == "ann@example.com" and users["more"] is True


def test_pagerduty_answers_are_deterministic(http, sim):
    params = {"date_range": "all", "limit": 100, "total": "true"}
    first = pd_get(http, sim, "/incidents", params)
    assert first.content == pd_get(http, sim, "/incidents", params).content
    first = pd_get(http, sim, "/log_entries", {"since": "2026-08-01T00:00:00Z"})
    assert (
        first.content
        == pd_get(http, sim, "/log_entries", {"since": "2026-08-01T00:00:00Z"}).content
    )


# --- the generated tiny organisation --------------------------------------------------------


def test_tiny_org_jira_and_pagerduty_walks_equal_the_store(http, simulator, tiny_store):
    projects = rows(
        tiny_store,
        "select distinct project_key from jira_issues where project_key is not null order by 1",
    )
    assert projects
    jql = f"project in ({', '.join(p for (p,) in projects)}) ORDER BY created ASC"
    issues = walk_jira(http, simulator, jql, maxResults=37, fields="status,updated")
    expected = rows(
        tiny_store,
        "select id from jira_issues where created <= ? order by created, id",
        [simulator.now],
    )
    assert [int(i["id"]) for i in issues] == [r[0] for r in expected]
    categories = {i["fields"]["status"]["statusCategory"]["key"] for i in issues}
    assert categories <= {"new", "indeterminate", "done"}

    incidents = walk_pd(http, simulator, "/incidents", "incidents", date_range="all", limit=40)
    expected = rows(
        tiny_store,
        "select id from pd_incidents where created_at <= ? order by created_at, incident_number",
        [simulator.now],
    )
    assert [i["id"] for i in incidents] == [r[0] for r in expected]
