"""Jira Cloud REST v3, as the simulator serves it.

State is rendered as of the server clock: an issue created after it does not exist; a
changelog history, issue link or remote link after it is invisible; status, statusCategory,
resolutiondate and updated are derived from the visible status history. Shapes follow the
Jira Cloud platform REST API v3 reference (enhanced JQL search, issue changelog, remote links).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import zlib
from collections import defaultdict
from datetime import datetime
from typing import Any

from org_simulator.credentials import SIM_CREDENTIALS
from org_simulator.http import (
    ApiError,
    Request,
    Response,
    Vendor,
    decode_token,
    encode_token,
    route,
)
from org_simulator.vendors import jql as jqlparser

API = "/rest/api/3"
DEFAULT_MAX_RESULTS = 50
MAX_RESULTS = 100  # per page when fields or expansions are asked for
MAX_RESULTS_IDS_ONLY = 5000  # the enhanced search returns more when only ids are asked for
INLINE_CHANGELOG_LIMIT = 100  # histories inlined by expand=changelog; the rest via /changelog
CHANGELOG_PAGE = 100

CAUSED_BY_PR_FIELD = "customfield_10100"
CAUSED_BY_PR_NAME = "Caused by PR"

# The navigable fields this simulator knows, in the order Jira tends to render them.
NAVIGABLE_FIELDS = (
    "statuscategorychangedate",
    "issuetype",
    "project",
    "resolution",
    "resolutiondate",
    "created",
    "priority",
    "labels",
    "issuelinks",
    "assignee",
    "updated",
    "status",
    "description",
    "summary",
    "reporter",
    CAUSED_BY_PR_FIELD,
)

STATUS_CATEGORIES = {
    "new": {"id": 2, "key": "new", "colorName": "blue-gray", "name": "To Do"},
    "indeterminate": {
        "id": 4,
        "key": "indeterminate",
        "colorName": "yellow",
        "name": "In Progress",
    },
    "done": {"id": 3, "key": "done", "colorName": "green", "name": "Done"},
}
PRIORITY_IDS = {"Highest": "1", "High": "2", "Medium": "3", "Low": "4", "Lowest": "5"}
LINK_TYPE_IDS = {"Blocks": "10000", "Cloners": "10001", "Duplicate": "10002", "Relates": "10003"}
SYSTEM_FIELD_IDS = {
    "status": "status",
    "resolution": "resolution",
    "assignee": "assignee",
    "priority": "priority",
    "summary": "summary",
    "description": "description",
    "labels": "labels",
    "issuetype": "issuetype",
    "link": "issuelinks",
    "reporter": "reporter",
}
INVALID_PAYLOAD = "Invalid request payload. Refer to the REST API documentation."
ISSUE_EXPAND = "operations,versionedRepresentations,editmeta,changelog,renderedFields"


# --- auth and errors ------------------------------------------------------------------------


def authenticate(req: Request) -> bool:
    header = req.headers.get("authorization", "")
    scheme, _, encoded = header.partition(" ")
    if scheme.lower() != "basic" or not encoded:
        return False
    try:
        decoded = base64.b64decode(encoded.strip(), validate=True).decode()
    except (binascii.Error, UnicodeDecodeError):
        return False
    email, _, token = decoded.partition(":")
    return email == SIM_CREDENTIALS["jira_email"] and token == SIM_CREDENTIALS["jira"]


def error_body(status: int, message: str) -> dict[str, Any]:
    if status == 401:
        message = "Client must be authenticated to access this resource."
    return {"errorMessages": [message], "errors": {}}


# --- formatting -------------------------------------------------------------------------


def jira_time(ts: datetime | None) -> str | None:
    """Jira's timestamp format: 2026-08-01T10:00:00.000+0000."""
    if ts is None:
        return None
    return ts.strftime("%Y-%m-%dT%H:%M:%S.") + f"{ts.microsecond // 1000:03d}+0000"


def adf(text: str | None) -> dict[str, Any] | None:
    """Plain text as an Atlassian Document Format document: a paragraph per blank-line block,
    hard breaks between its lines."""
    if text is None:
        return None
    content = []
    blocks = [b for b in text.replace("\r\n", "\n").split("\n\n") if b.strip()]
    for block in blocks:
        nodes: list[dict[str, Any]] = []
        for i, line in enumerate(block.split("\n")):
            if i:
                nodes.append({"type": "hardBreak"})
            if line:
                nodes.append({"type": "text", "text": line})
        content.append({"type": "paragraph", "content": nodes})
    return {"type": "doc", "version": 1, "content": content}


def _labels(raw: str | None) -> list[str]:
    if not raw:
        return []
    text = raw.strip()
    if text.startswith("["):
        try:
            value = json.loads(text)
        except ValueError:
            value = None
        if isinstance(value, list):
            return [str(v) for v in value]
    return [part.strip() for part in text.split(",") if part.strip()]


def _link_type_id(name: str) -> str:
    return LINK_TYPE_IDS.get(name) or str(10100 + zlib.crc32(name.encode()) % 900)


def _status_id(value: str | None, name: str | None) -> str:
    if value:
        return str(value)
    return str(10000 + zlib.crc32((name or "").encode()) % 900)


# --- the store, as of the clock ---------------------------------------------------------


class Store:
    """Per-request access to the Jira tables, with issue state derived as of `req.now`."""

    def __init__(self, req: Request):
        self.req = req
        self.now = req.now
        self.base = req.base_url
        self._projects: dict[str, dict[str, Any]] | None = None
        self._users: dict[str, dict[str, Any]] = {}
        self._initial: dict[str, tuple[str | None, str]] = {}

    # projects and users

    @property
    def projects(self) -> dict[str, dict[str, Any]]:
        if self._projects is None:
            keys = {
                r["project_key"]: None
                for r in self.req.rows(
                    "select distinct project_key from jira_issues where project_key is not null"
                )
            }
            names = {
                r["jira_project_key"]: r["name"]
                for r in self.req.rows(
                    "select jira_project_key, min(name) as name from org_teams "
                    "where jira_project_key is not null group by jira_project_key"
                )
            }
            all_keys = sorted(set(keys) | set(names))
            self._projects = {
                key: {"id": str(10000 + i), "key": key, "name": names.get(key) or key}
                for i, key in enumerate(all_keys)
            }
        return self._projects

    def project_ref(self, key: str) -> dict[str, Any]:
        project = self.projects.get(key) or {"id": "0", "key": key, "name": key}
        return {
            "self": f"{self.base}{API}/project/{project['id']}",
            "id": project["id"],
            "key": key,
            "name": project["name"],
            "projectTypeKey": "software",
            "simplified": False,
        }

    def load_users(self, account_ids: set[str]) -> None:
        wanted = sorted(a for a in account_ids if a and a not in self._users)
        if not wanted:
            return
        for row in self.req.rows(
            "select * from jira_users where list_contains(?, account_id) order by account_id",
            [wanted],
        ):
            self._users[row["account_id"]] = row

    def user(self, account_id: str | None) -> dict[str, Any] | None:
        if not account_id:
            return None
        self.load_users({account_id})
        row = self._users.get(account_id)
        body: dict[str, Any] = {
            "self": f"{self.base}{API}/user?accountId={account_id}",
            "accountId": account_id,
        }
        if row and row.get("email"):
            body["emailAddress"] = row["email"]
        body["avatarUrls"] = {
            "48x48": f"https://avatar.example.invalid/{account_id}/48.png",
        }
        body["displayName"] = (row or {}).get("display_name") or "Former user"
        body["active"] = bool((row or {}).get("active", False))
        body["timeZone"] = "Etc/UTC"
        body["accountType"] = (row or {}).get("account_type") or "atlassian"
        return body

    def initial_status(self, project_key: str) -> tuple[str | None, str]:
        """The status a project's new issues start in (its workflow's initial status): the
        one most of its issues' first transition leaves; "To Do" for a project without any."""
        if project_key not in self._initial:
            row = self.req.db.execute(
                """
                with firsts as (
                    select c.from_value, c.from_string, row_number() over (
                        partition by c.issue_key order by c.created, c.history_id, c.rowid
                    ) as n
                    from jira_changelog c join jira_issues i on i.key = c.issue_key
                    where lower(c.field) = 'status' and i.project_key = ?
                )
                select from_value, from_string, count(*) as issues from firsts where n = 1
                group by from_value, from_string
                order by issues desc, from_value, from_string limit 1
                """,
                [project_key],
            ).fetchone()
            self._initial[project_key] = (row[0], row[1] or "To Do") if row else (None, "To Do")
        return self._initial[project_key]

    # issues

    def visible_issues_sql(self) -> str:
        """Issues that exist at the clock, with `updated` as of the clock."""
        return """
            with changes as (
                select issue_key, max(created) as last_change
                from jira_changelog where created <= $now group by issue_key
            )
            select i.*, greatest(i.created, coalesce(c.last_change, i.created)) as updated_now
            from jira_issues i left join changes c on c.issue_key = i.key
            where i.created <= $now
        """

    def issue_rows(self, keys: list[str]) -> dict[str, dict[str, Any]]:
        if not keys:
            return {}
        sql = (
            "select * from (" + self.visible_issues_sql() + ") where list_contains($keys, key)"
            " order by key"
        )
        rows = self.req.db.execute(sql, {"now": self.now, "keys": sorted(keys)})
        names = [d[0] for d in rows.description]
        return {r[names.index("key")]: dict(zip(names, r, strict=True)) for r in rows.fetchall()}

    def find_issue(self, key_or_id: str) -> dict[str, Any]:
        sql = "select * from (" + self.visible_issues_sql() + ") where upper(key) = upper($k)"
        params: dict[str, Any] = {"now": self.now, "k": key_or_id}
        if key_or_id.isdigit():
            sql += " or id = $id"
            params["id"] = int(key_or_id)
        cur = self.req.db.execute(sql + " order by id limit 1", params)
        names = [d[0] for d in cur.description]
        row = cur.fetchone()
        if row is None:
            raise ApiError(404, "Issue does not exist or you do not have permission to see it.")
        return dict(zip(names, row, strict=True))

    def changelog_rows(self, keys: list[str]) -> dict[str, list[dict[str, Any]]]:
        """Every changelog row of these issues (future ones too: the initial status needs
        them), in history order."""
        out: dict[str, list[dict[str, Any]]] = defaultdict(list)
        if not keys:
            return out
        for row in self.req.rows(
            "select rowid as _pos, * from jira_changelog where list_contains(?, issue_key) "
            "order by issue_key, created, history_id, rowid",
            [sorted(keys)],
        ):
            out[row["issue_key"]].append(row)
        return out

    def links(self, keys: list[str]) -> list[dict[str, Any]]:
        if not keys:
            return []
        return self.req.rows(
            "select * from jira_issue_links where created <= ? and "
            "(list_contains(?, outward_issue_key) or list_contains(?, inward_issue_key)) "
            "order by id",
            [self.now, sorted(keys), sorted(keys)],
        )


class IssueState:
    """Status, resolution date and history of one issue as of the clock."""

    def __init__(
        self,
        rows: list[dict[str, Any]],
        created: datetime,
        now: datetime,
        initial: tuple[str | None, str] = (None, "To Do"),
    ):
        status_rows = [r for r in rows if (r["field"] or "").lower() == "status"]
        if status_rows:
            initial = (status_rows[0].get("from_value"), status_rows[0].get("from_string") or "")
        self.status_name = initial[1] or "To Do"
        self.status_id = _status_id(initial[0], self.status_name)
        self.category = "new"
        self.category_changed = created
        self.resolutiondate: datetime | None = None
        for row in status_rows:
            if row["created"] > now:
                break
            category = (row.get("to_status_category") or "indeterminate").lower()
            if category not in STATUS_CATEGORIES:
                category = "indeterminate"
            if category == "done" and self.category != "done":
                self.resolutiondate = row["created"]
            elif category != "done":
                self.resolutiondate = None
            if category != self.category:
                self.category_changed = row["created"]
            self.category = category
            self.status_name = row.get("to_string") or self.status_name
            self.status_id = _status_id(row.get("to_value"), self.status_name)
        self.visible_rows = [r for r in rows if r["created"] <= now]


# --- rendering ----------------------------------------------------------------------------


class Renderer:
    def __init__(self, store: Store):
        self.store = store
        self.base = store.base

    def status(self, state: IssueState) -> dict[str, Any]:
        category = STATUS_CATEGORIES[state.category]
        return {
            "self": f"{self.base}{API}/status/{state.status_id}",
            "description": "",
            "iconUrl": f"{self.base}/images/icons/statuses/generic.png",
            "name": state.status_name,
            "id": state.status_id,
            "statusCategory": {
                "self": f"{self.base}{API}/statuscategory/{category['id']}",
                **category,
            },
        }

    def issuetype(self, issue: dict[str, Any]) -> dict[str, Any]:
        name = issue.get("issuetype_name") or "Task"
        type_id = str(issue.get("issuetype_id") or 10000 + zlib.crc32(name.encode()) % 900)
        subtask = name.lower().replace("-", "") in ("subtask", "子任务", "sous-tâche")
        return {
            "self": f"{self.base}{API}/issuetype/{type_id}",
            "id": type_id,
            "description": "",
            "iconUrl": f"{self.base}/images/icons/issuetypes/{type_id}.svg",
            "name": name,
            "subtask": subtask,
            "hierarchyLevel": -1 if subtask else 0,
        }

    def priority(self, name: str | None) -> dict[str, Any] | None:
        if not name:
            return None
        pid = PRIORITY_IDS.get(name) or str(10000 + zlib.crc32(name.encode()) % 900)
        return {
            "self": f"{self.base}{API}/priority/{pid}",
            "iconUrl": f"{self.base}/images/icons/priorities/{name.lower()}.svg",
            "name": name,
            "id": pid,
        }

    def history(self, history_id: Any, rows: list[dict[str, Any]]) -> dict[str, Any]:
        first = rows[0]
        body: dict[str, Any] = {"id": str(history_id)}
        author = self.store.user(first.get("author_account_id"))
        if author is not None:
            body["author"] = author
        body["created"] = jira_time(first["created"])
        items = []
        for row in rows:
            name = row["field"] or ""
            custom = name.startswith("customfield_") or name == CAUSED_BY_PR_NAME
            item = {
                "field": name,
                "fieldtype": "custom" if custom else "jira",
                "fieldId": CAUSED_BY_PR_FIELD
                if name == CAUSED_BY_PR_NAME
                else SYSTEM_FIELD_IDS.get(name.lower(), name),
                "from": row.get("from_value"),
                "fromString": row.get("from_string"),
                "to": row.get("to_value"),
                "toString": row.get("to_string"),
            }
            items.append(item)
        body["items"] = items
        return body

    def histories(self, state: IssueState) -> list[dict[str, Any]]:
        """Visible histories, oldest first."""
        grouped: dict[Any, list[dict[str, Any]]] = {}
        for row in state.visible_rows:
            grouped.setdefault(row["history_id"], []).append(row)
        ordered = sorted(grouped.items(), key=lambda kv: (kv[1][0]["created"], _sort_id(kv[0])))
        return [self.history(hid, rows) for hid, rows in ordered]


def _sort_id(value: Any) -> tuple[int, str]:
    text = str(value)
    return (int(text), "") if text.isdigit() else (0, text)


class IssueBuilder:
    """Render a set of issues with their links, computing every needed state once."""

    def __init__(self, store: Store, issues: list[dict[str, Any]]):
        self.store = store
        self.render = Renderer(store)
        self.issues = issues
        keys = [i["key"] for i in issues]
        self.links = store.links(keys)
        other = {
            k
            for link in self.links
            for k in (link["outward_issue_key"], link["inward_issue_key"])
            if k not in keys
        }
        self.rows = {i["key"]: i for i in issues}
        self.rows.update(store.issue_rows(sorted(other)))
        changelog = store.changelog_rows(sorted(self.rows))
        self.states = {
            key: IssueState(
                changelog.get(key, []),
                row["created"],
                store.now,
                store.initial_status(row["project_key"]),
            )
            for key, row in self.rows.items()
        }
        accounts: set[str] = set()
        for row in self.rows.values():
            people = (row["assignee_account_id"], row["reporter_account_id"])
            accounts.update(a for a in people if a)
        for rows in changelog.values():
            accounts.update(r["author_account_id"] for r in rows if r["author_account_id"])
        store.load_users(accounts)

    def issue_ref(self, key: str) -> dict[str, Any]:
        row = self.rows[key]
        return {
            "id": str(row["id"]),
            "key": key,
            "self": f"{self.store.base}{API}/issue/{row['id']}",
            "fields": {
                "summary": row["summary"],
                "status": self.render.status(self.states[key]),
                "priority": self.render.priority(row["priority"]),
                "issuetype": self.render.issuetype(row),
            },
        }

    def issuelinks(self, key: str) -> list[dict[str, Any]]:
        out = []
        for link in self.links:
            # A stored link reads "outward_issue <outward_desc> inward_issue" (the cause
            # "causes" the bug): the bug's view lists the cause as its inwardIssue ("is caused
            # by"), the cause's view lists the bug as its outwardIssue ("causes").
            if link["inward_issue_key"] == key:
                other, side = link["outward_issue_key"], "inwardIssue"
            elif link["outward_issue_key"] == key:
                other, side = link["inward_issue_key"], "outwardIssue"
            else:
                continue
            if other not in self.rows:  # the other issue does not exist yet
                continue
            type_id = _link_type_id(link["type_name"])
            out.append(
                {
                    "id": str(link["id"]),
                    "self": f"{self.store.base}{API}/issueLink/{link['id']}",
                    "type": {
                        "id": type_id,
                        "name": link["type_name"],
                        "inward": link["inward_desc"],
                        "outward": link["outward_desc"],
                        "self": f"{self.store.base}{API}/issueLinkType/{type_id}",
                    },
                    side: self.issue_ref(other),
                }
            )
        return out

    def fields(self, key: str, wanted: list[str]) -> dict[str, Any]:
        row = self.rows[key]
        state = self.states[key]
        render = self.render
        values = {
            "statuscategorychangedate": lambda: jira_time(state.category_changed),
            "issuetype": lambda: render.issuetype(row),
            "project": lambda: self.store.project_ref(row["project_key"]),
            "resolution": lambda: (
                {
                    "self": f"{self.store.base}{API}/resolution/10000",
                    "id": "10000",
                    "description": "Work has been completed on this issue.",
                    "name": "Done",
                }
                if state.resolutiondate is not None
                else None
            ),
            "resolutiondate": lambda: jira_time(state.resolutiondate),
            "created": lambda: jira_time(row["created"]),
            "priority": lambda: render.priority(row["priority"]),
            "labels": lambda: _labels(row["labels"]),
            "issuelinks": lambda: self.issuelinks(key),
            "assignee": lambda: self.store.user(row["assignee_account_id"]),
            "updated": lambda: jira_time(row["updated_now"]),
            "status": lambda: render.status(state),
            "description": lambda: adf(row["description"]),
            "summary": lambda: row["summary"],
            "reporter": lambda: self.store.user(row["reporter_account_id"]),
            CAUSED_BY_PR_FIELD: lambda: row["caused_by_pr"],
        }
        return {name: values[name]() for name in wanted if name in values}

    def issue(self, key: str, wanted: list[str] | None, changelog: bool) -> dict[str, Any]:
        row = self.rows[key]
        if wanted is None and not changelog:
            return {"id": str(row["id"])}
        body: dict[str, Any] = {
            "expand": ISSUE_EXPAND,
            "id": str(row["id"]),
            "self": f"{self.store.base}{API}/issue/{row['id']}",
            "key": key,
        }
        if changelog:
            histories = self.render.histories(self.states[key])
            inline = list(reversed(histories))[:INLINE_CHANGELOG_LIMIT]  # most recent first
            body["changelog"] = {
                "startAt": 0,
                "maxResults": len(inline),
                "total": len(histories),
                "histories": inline,
            }
        body["fields"] = self.fields(key, wanted or [])
        return body


# --- request parameters ---------------------------------------------------------------------


def _split(values: list[Any]) -> list[str]:
    out: list[str] = []
    for value in values:
        if isinstance(value, list):
            out.extend(_split(value))
        elif value is not None:
            out.extend(part.strip() for part in str(value).split(",") if part.strip())
    return out


def resolve_fields(requested: list[str], default: list[str] | None) -> list[str] | None:
    """The fields to render, or None for ids only."""
    if not requested:
        return default
    if all(f == "id" for f in requested):
        return None
    include: list[str] = []
    excluded: set[str] = set()
    for name in requested:
        if name.startswith("-"):
            excluded.add(name[1:])
        elif name in ("*all", "*navigable"):
            include.extend(NAVIGABLE_FIELDS)
        elif name not in ("id", "key", "*none"):
            include.append(name)
    if excluded and not any(n in ("*all", "*navigable") for n in requested):
        include = [*NAVIGABLE_FIELDS, *include]  # "-description" alone: navigable minus it
    seen: list[str] = []
    for name in include:
        if name not in excluded and name not in seen:
            seen.append(name)
    return seen


def _int(raw: Any, name: str, default: int) -> int:
    if raw is None or raw == "":
        return default
    try:
        return int(raw)
    except (TypeError, ValueError) as exc:
        raise ApiError(400, f"The {name} parameter must be an integer.") from exc


# --- handlers -------------------------------------------------------------------------------


def _order_sql(order_by: list[tuple[str, str]]) -> str:
    if not order_by:
        order_by = [("key", "DESC")]
    parts = []
    for name, direction in order_by:
        if name == "updated":
            parts.append(f"updated_now {direction}")
        elif name == "created":
            parts.append(f"created {direction}")
        elif name == "id":
            parts.append(f"id {direction}")
        else:
            parts.append(f"project_key {direction}")
            parts.append(f"try_cast(split_part(key, '-', 2) as bigint) {direction}")
    parts.append("id " + order_by[-1][1])
    return ", ".join(parts)


def _where_sql(query: jqlparser.Query, store: Store, params: dict[str, Any]) -> str:
    clauses = []
    for n, cond in enumerate(query.conditions):
        p = f"p{n}"
        if cond.field == "project":
            known = {k.upper(): k for k in store.projects}
            keys = []
            for value in cond.values:
                key = known.get(str(value).upper())
                if key is None:
                    raise ApiError(
                        400, f"The value '{value}' does not exist for the field 'project'."
                    )
                keys.append(key)
            params[p] = keys
            column = "project_key"
        elif cond.field == "key":
            params[p] = [str(v).upper() for v in cond.values]
            column = "upper(key)"
        else:
            params[p] = cond.values[0]
            column = "updated_now" if cond.field == "updated" else "created"
            clauses.append(f"{column} {cond.op} ${p}")
            continue
        negate = cond.op in ("!=", "not in")
        clauses.append(("not " if negate else "") + f"list_contains(${p}, {column})")
    return " and ".join(clauses) or "true"


def search_jql(req: Request) -> Response:
    if req.method == "POST":
        try:
            body = req.json() or {}
        except ValueError as exc:
            raise ApiError(400, INVALID_PAYLOAD) from exc
        if not isinstance(body, dict):
            raise ApiError(400, INVALID_PAYLOAD)
        jql = body.get("jql")
        token = body.get("nextPageToken")
        max_results = _int(body.get("maxResults"), "maxResults", DEFAULT_MAX_RESULTS)
        requested = _split([body.get("fields")])
        expand = _split([body.get("expand")])
    else:
        jql = req.arg("jql")
        token = req.arg("nextPageToken")
        max_results = _int(req.arg("maxResults"), "maxResults", DEFAULT_MAX_RESULTS)
        requested = _split(req.args("fields"))
        expand = _split(req.args("expand"))
    wanted = resolve_fields(requested, None)
    changelog = "changelog" in expand
    cap = MAX_RESULTS_IDS_ONLY if wanted is None and not changelog else MAX_RESULTS
    if max_results < 0:
        raise ApiError(400, "The maxResults parameter must be a non-negative integer.")
    max_results = min(max(max_results, 1), cap)

    try:
        query = jqlparser.parse(jql or "", req.now)
    except jqlparser.JqlError as exc:
        raise ApiError(400, str(exc)) from exc
    if not query.bounded:
        raise ApiError(
            400,
            "Unbounded JQL queries are not allowed here. Please add a search restriction to "
            "your query.",
        )

    fingerprint = hashlib.sha1((jql or "").encode()).hexdigest()[:12]
    offset = 0
    if token:
        state = decode_token(str(token), "nextPageToken")
        if state.get("q") != fingerprint or not isinstance(state.get("o"), int):
            raise ApiError(400, "The nextPageToken is invalid or does not match the query.")
        offset = state["o"]

    store = Store(req)
    params: dict[str, Any] = {"now": req.now}
    where = _where_sql(query, store, params)
    sql = (
        f"select * from ({store.visible_issues_sql()}) where {where} "
        f"order by {_order_sql(query.order_by)} limit {max_results + 1} offset {offset}"
    )
    cur = req.db.execute(sql, params)
    names = [d[0] for d in cur.description]
    rows = [dict(zip(names, r, strict=True)) for r in cur.fetchall()]
    page, more = rows[:max_results], len(rows) > max_results

    if wanted is None and not changelog:
        issues = [{"id": str(r["id"])} for r in page]
    else:
        builder = IssueBuilder(store, page)
        issues = [builder.issue(r["key"], wanted, changelog) for r in page]
    body: dict[str, Any] = {"issues": issues}
    if more:
        body["nextPageToken"] = encode_token({"o": offset + len(page), "q": fingerprint})
    body["isLast"] = not more
    return Response(200, body)


def search_gone(req: Request) -> Response:
    raise ApiError(
        410,
        "The requested API has been removed. Please migrate to the /rest/api/3/search/jql API. "
        "A full migration guideline is available at "
        "https://developer.atlassian.com/changelog/#CHANGE-2046",
    )


def get_issue(req: Request) -> Response:
    store = Store(req)
    row = store.find_issue(req.params["key"])
    requested = _split(req.args("fields"))
    wanted = resolve_fields(requested, list(NAVIGABLE_FIELDS)) or []
    changelog = "changelog" in _split(req.args("expand"))
    builder = IssueBuilder(store, [row])
    return Response(200, builder.issue(row["key"], wanted, changelog))


def get_changelog(req: Request) -> Response:
    store = Store(req)
    row = store.find_issue(req.params["key"])
    start_at = _int(req.arg("startAt"), "startAt", 0)
    max_results = _int(req.arg("maxResults"), "maxResults", CHANGELOG_PAGE)
    if start_at < 0 or max_results < 0:
        raise ApiError(400, "startAt and maxResults must be non-negative.")
    max_results = min(max_results, CHANGELOG_PAGE)
    rows = store.changelog_rows([row["key"]]).get(row["key"], [])
    state = IssueState(rows, row["created"], req.now, store.initial_status(row["project_key"]))
    store.load_users({r["author_account_id"] for r in state.visible_rows if r["author_account_id"]})
    histories = Renderer(store).histories(state)
    values = histories[start_at : start_at + max_results]
    total = len(histories)
    is_last = start_at + len(values) >= total
    url = f"{req.base_url}{API}/issue/{row['key']}/changelog"
    body: dict[str, Any] = {
        "self": f"{url}?maxResults={max_results}&startAt={start_at}",
    }
    if not is_last:
        body["nextPage"] = f"{url}?maxResults={max_results}&startAt={start_at + len(values)}"
    body.update(
        {
            "maxResults": max_results,
            "startAt": start_at,
            "total": total,
            "isLast": is_last,
            "values": values,
        }
    )
    return Response(200, body)


def get_remote_links(req: Request) -> Response:
    store = Store(req)
    row = store.find_issue(req.params["key"])
    links = req.rows(
        "select * from jira_remote_links where issue_key = ? and created <= ? order by id",
        [row["key"], req.now],
    )
    out = []
    for link in links:
        url = link["url"] or ""
        application = (
            {"type": "com.github.integration", "name": "GitHub"} if "github" in url.lower() else {}
        )
        out.append(
            {
                "id": int(link["id"]),
                "self": f"{req.base_url}{API}/issue/{row['key']}/remotelink/{link['id']}",
                "application": application,
                "relationship": link["relationship"],
                "object": {
                    "url": url,
                    "title": link["title"],
                    "icon": {},
                    "status": {"icon": {}},
                },
            }
        )
    return Response(200, out)


def _field(fid: str, name: str, schema: dict[str, Any], *, custom: bool = False) -> dict:
    return {
        "id": fid,
        "key": fid,
        "name": name,
        "custom": custom,
        "orderable": True,
        "navigable": True,
        "searchable": True,
        "clauseNames": [f"cf[{fid.split('_')[-1]}]", name] if custom else [fid],
        "schema": schema,
    }


def list_fields(req: Request) -> Response:
    system = [
        ("summary", "Summary", {"type": "string", "system": "summary"}),
        ("issuetype", "Issue Type", {"type": "issuetype", "system": "issuetype"}),
        ("status", "Status", {"type": "status", "system": "status"}),
        (
            "statuscategorychangedate",
            "Status Category Changed",
            {"type": "datetime", "system": "statuscategorychangedate"},
        ),
        ("resolution", "Resolution", {"type": "resolution", "system": "resolution"}),
        ("resolutiondate", "Resolved", {"type": "datetime", "system": "resolutiondate"}),
        ("created", "Created", {"type": "datetime", "system": "created"}),
        ("updated", "Updated", {"type": "datetime", "system": "updated"}),
        ("project", "Project", {"type": "project", "system": "project"}),
        ("priority", "Priority", {"type": "priority", "system": "priority"}),
        ("assignee", "Assignee", {"type": "user", "system": "assignee"}),
        ("reporter", "Reporter", {"type": "user", "system": "reporter"}),
        ("labels", "Labels", {"type": "array", "items": "string", "system": "labels"}),
        ("description", "Description", {"type": "string", "system": "description"}),
        (
            "issuelinks",
            "Linked Issues",
            {"type": "array", "items": "issuelinks", "system": "issuelinks"},
        ),
    ]
    fields = [_field(fid, name, schema) for fid, name, schema in system]
    fields.append(
        _field(
            CAUSED_BY_PR_FIELD,
            CAUSED_BY_PR_NAME,
            {
                "type": "string",
                "custom": "com.atlassian.jira.plugin.system.customfieldtypes:url",
                "customId": int(CAUSED_BY_PR_FIELD.split("_")[-1]),
            },
            custom=True,
        )
    )
    return Response(200, fields)


def myself(req: Request) -> Response:
    email = SIM_CREDENTIALS["jira_email"]
    account_id = "sim-" + hashlib.sha1(email.encode()).hexdigest()[:24]
    return Response(
        200,
        {
            "self": f"{req.base_url}{API}/user?accountId={account_id}",
            "accountId": account_id,
            "accountType": "atlassian",
            "emailAddress": email,
            "displayName": "Simulator Bot",
            "active": True,
            "timeZone": "Etc/UTC",
            "locale": "en_US",
        },
    )


VENDOR = Vendor(
    name="jira",
    routes=[
        route("GET", f"{API}/search/jql", "search_jql", search_jql),
        route("POST", f"{API}/search/jql", "search_jql", search_jql),
        route("GET", f"{API}/search", "search_removed", search_gone),
        route("POST", f"{API}/search", "search_removed", search_gone),
        route("GET", f"{API}/issue/{{key}}/changelog", "issue_changelog", get_changelog),
        route("GET", f"{API}/issue/{{key}}/remotelink", "issue_remotelinks", get_remote_links),
        route("GET", f"{API}/issue/{{key}}", "issue", get_issue),
        route("GET", f"{API}/field", "fields", list_fields),
        route("GET", f"{API}/myself", "myself", myself),
    ],
    authenticate=authenticate,
    error_body=error_body,
)
