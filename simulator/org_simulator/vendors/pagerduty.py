"""PagerDuty REST API v2, as the simulator serves it.

State is rendered as of the server clock: an incident created after it does not exist, and
its status, `resolved_at`, `updated_at` and assignments come from the acknowledgement,
resolution and log entries not after it. Classic offset pagination (`limit`, `offset`,
`more`, `total`) with PagerDuty's 10,000-record ceiling; `/incidents` defaults to the 30 days
before the clock and refuses `since`/`until` more than 6 months apart.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from org_simulator.credentials import SIM_CREDENTIALS
from org_simulator.http import ApiError, Request, Response, Vendor, iso, parse_time, route

DEFAULT_LIMIT = 25
MAX_LIMIT = 100
OFFSET_CEILING = 10_000
DEFAULT_WINDOW = timedelta(days=30)
MAX_RANGE_MONTHS = 6
WEB = "https://sim.pagerduty.example"  # the web app; API `self` links use the server's URL
STATUSES = ("triggered", "acknowledged", "resolved")
SORT_FIELDS = {"created_at", "incident_number", "resolved_at", "urgency"}
OVERVIEW_TYPES = {
    "trigger_log_entry",
    "acknowledge_log_entry",
    "resolve_log_entry",
    "annotate_log_entry",
    "assign_log_entry",
    "escalate_log_entry",
    "unacknowledge_log_entry",
}

ERRORS = {
    400: ("Invalid Input Provided", 2001),
    401: ("Unauthorized", 2006),  # wrapped below as PagerDuty words it
    403: ("Forbidden", 2010),
    404: ("Not Found", 2100),
    429: ("Rate Limit Exceeded", 2020),
}


# --- auth and errors ------------------------------------------------------------------------


def authenticate(req: Request) -> bool:
    header = req.headers.get("authorization", "").strip()
    prefix = "token token="
    if not header.lower().startswith(prefix):
        return False
    return header[len(prefix) :].strip() == SIM_CREDENTIALS["pagerduty"]


def error_body(status: int, message: str) -> dict[str, Any]:
    if status >= 500:
        return {"error": {"message": "Internal Server Error", "code": 1001, "errors": [message]}}
    if status == 401:
        return {"error": {"message": "Authentication failed", "code": 2006, "errors": []}}
    title, code = ERRORS.get(status, ("Invalid Input Provided", 2001))
    return {"error": {"message": title, "code": code, "errors": [message]}}


def _arguments_error(message: str) -> Response:
    return Response(
        400, {"error": {"message": "Arguments Caused Error", "code": 2002, "errors": [message]}}
    )


# --- parameters -----------------------------------------------------------------------------


def _page(req: Request) -> tuple[int, int, bool]:
    limit = req.int_arg("limit", DEFAULT_LIMIT, lo=1)
    limit = min(limit, MAX_LIMIT)  # PagerDuty answers at most 100 per page, silently
    offset = req.int_arg("offset", 0, lo=0)
    total = (req.arg("total") or "false").lower() == "true"
    return limit, offset, total


def _add_months(ts: datetime, months: int) -> datetime:
    month = ts.month - 1 + months
    year, month = ts.year + month // 12, month % 12 + 1
    days = [
        31,
        29 if year % 4 == 0 and (year % 100 or year % 400 == 0) else 28,
        31,
        30,
        31,
        30,
        31,
        31,
        30,
        31,
        30,
        31,
    ]
    return ts.replace(year=year, month=month, day=min(ts.day, days[month - 1]))


def _time_arg(req: Request, name: str) -> datetime | None:
    raw = (req.arg(name) or "").strip()
    if not raw:
        return None
    # An unencoded "+01:00" offset arrives as " 01:00": read it as PagerDuty does.
    if " " in raw and "T" in raw:
        raw = raw.replace(" ", "+")
    return parse_time(raw, name)


def _window(req: Request, *, default: bool) -> tuple[datetime | None, datetime | None]:
    """since/until as PagerDuty reads them; `default` applies the 30-day window."""
    if (req.arg("date_range") or "").lower() == "all":
        return None, None
    since, until = _time_arg(req, "since"), _time_arg(req, "until")
    if default:
        if since is None and until is None:
            until = req.now
            since = until - DEFAULT_WINDOW
        elif since is None:
            since = until - DEFAULT_WINDOW
        elif until is None:
            until = since + DEFAULT_WINDOW
    if since is not None and until is not None:
        if until < since:
            raise ApiError(400, "The 'until' date must be after the 'since' date.")
        if until > _add_months(since, MAX_RANGE_MONTHS):
            raise ApiError(400, "Date range must be less than 6 months.")
    return since, until


def _sort(req: Request) -> str:
    specs = [s for raw in req.args("sort_by") for s in raw.split(",") if s.strip()]
    parts = []
    for spec in specs:
        name, _, direction = spec.strip().partition(":")
        direction = (direction or "asc").lower()
        if name not in SORT_FIELDS or direction not in ("asc", "desc"):
            raise ApiError(
                400,
                "sort_by must be one of incident_number, created_at, resolved_at or urgency, "
                "optionally followed by :asc or :desc.",
            )
        column = {"resolved_at": "resolved_now"}.get(name, name)
        parts.append(f"{column} {direction} nulls last")
    parts += ["created_at asc", "incident_number asc", "id asc"]
    return ", ".join(parts)


def _ceiling(limit: int, offset: int) -> Response | None:
    if offset + limit > OFFSET_CEILING:
        return _arguments_error(
            "Offset+limit exceeds maximum allowed value of 10000. Please try to refine your "
            "search to reduce the returned set of records below this number, like adding a "
            "date range."
        )
    return None


# --- references -----------------------------------------------------------------------------


class Refs:
    """Services, teams and users by id, rendered as PagerDuty references."""

    def __init__(self, req: Request):
        self.req = req
        self.base = req.base_url
        self.services = {r["id"]: r for r in req.rows("select * from pd_services order by id")}
        self.users = {r["id"]: r for r in req.rows("select * from pd_users order by id")}
        self.teams: dict[str, dict[str, Any]] = {}
        for row in req.rows("select team_id, name, pd_team_id from org_teams order by team_id"):
            pd_id = row["pd_team_id"] or row["team_id"]
            team = {"id": pd_id, "name": row["name"]}
            self.teams[pd_id] = team
            self.teams.setdefault(row["team_id"], team)

    def team_ids(self, requested: list[str]) -> list[str]:
        """Every stored spelling (pd team id or org team id) of the requested teams."""
        out: set[str] = set(requested)
        for key, team in self.teams.items():
            if team["id"] in requested:
                out.add(key)
        return sorted(out)

    def service(self, sid: str | None) -> dict[str, Any] | None:
        if not sid:
            return None
        row = self.services.get(sid) or {}
        return {
            "id": sid,
            "type": "service_reference",
            "summary": row.get("name") or sid,
            "self": f"{self.base}/services/{sid}",
            "html_url": f"{WEB}/service-directory/{sid}",
        }

    def team(self, tid: str | None) -> dict[str, Any] | None:
        if not tid:
            return None
        team = self.teams.get(tid) or {"id": tid, "name": tid}
        return {
            "id": team["id"],
            "type": "team_reference",
            "summary": team["name"],
            "self": f"{self.base}/teams/{team['id']}",
            "html_url": f"{WEB}/teams/{team['id']}",
        }

    def user(self, uid: str | None) -> dict[str, Any] | None:
        if not uid:
            return None
        row = self.users.get(uid) or {}
        return {
            "id": uid,
            "type": "user_reference",
            "summary": row.get("name") or uid,
            "self": f"{self.base}/users/{uid}",
            "html_url": f"{WEB}/users/{uid}",
        }

    def agent(self, agent_type: str | None, agent_id: str | None) -> dict[str, Any] | None:
        kind = (agent_type or "").lower()
        if not kind.endswith("_reference"):
            kind = f"{kind or 'user'}_reference"
        if kind == "user_reference":
            return self.user(agent_id)
        if kind == "service_reference":
            return self.service(agent_id)
        if not agent_id:
            return None
        return {"id": agent_id, "type": kind, "summary": agent_id}


# --- incidents ------------------------------------------------------------------------------

INCIDENTS_SQL = """
    with logs as (
        select incident_id, max(created_at) as last_log
        from pd_log_entries where created_at <= $now group by incident_id
    )
    select i.*,
        case when i.resolved_at <= $now then i.resolved_at end as resolved_now,
        case when i.acknowledged_at <= $now then i.acknowledged_at end as acknowledged_now,
        case
            when i.resolved_at <= $now then 'resolved'
            when i.acknowledged_at <= $now then 'acknowledged'
            else 'triggered'
        end as status_now,
        greatest(i.created_at, coalesce(l.last_log, i.created_at)) as updated_now
    from pd_incidents i left join logs l on l.incident_id = i.id
    where i.created_at <= $now
"""


def render_incident(row: dict[str, Any], refs: Refs) -> dict[str, Any]:
    base = refs.base
    status = row["status_now"]
    changes = [row["created_at"], row["acknowledged_now"], row["resolved_now"]]
    last_change = max(t for t in changes if t is not None)
    assignments = []
    acknowledgements = []
    if status != "resolved" and row["assignee_id"]:
        assignee = refs.user(row["assignee_id"])
        assignments.append({"at": iso(row["created_at"]), "assignee": assignee})
    if status == "acknowledged":
        acknowledgements.append(
            {
                "at": iso(row["acknowledged_now"]),
                "acknowledger": refs.user(row["assignee_id"]) or refs.service(row["service_id"]),
            }
        )
    team = refs.team(row["team_id"])
    priority = None
    if row["priority"]:
        priority = {
            "id": "PRI" + str(row["priority"]).upper().replace(" ", ""),
            "type": "priority",
            "summary": row["priority"],
            "self": f"{base}/priorities/PRI{str(row['priority']).upper().replace(' ', '')}",
            "html_url": None,
            "name": row["priority"],
        }
    return {
        "id": row["id"],
        "type": "incident",
        "summary": f"[#{row['incident_number']}] {row['title']}",
        "self": f"{base}/incidents/{row['id']}",
        "html_url": f"{WEB}/incidents/{row['id']}",
        "incident_number": row["incident_number"],
        "title": row["title"],
        "description": row["description"] if row["description"] is not None else row["title"],
        "created_at": iso(row["created_at"]),
        "updated_at": iso(row["updated_now"]),
        "status": status,
        "incident_key": row["incident_key"],
        "service": refs.service(row["service_id"]),
        "assignments": assignments,
        "assigned_via": "escalation_policy",
        "acknowledgements": acknowledgements,
        "last_status_change_at": iso(last_change),
        "resolved_at": iso(row["resolved_now"]),
        "alert_counts": {
            "all": 1,
            "triggered": 0 if status == "resolved" else 1,
            "resolved": 1 if status == "resolved" else 0,
        },
        "is_mergeable": True,
        "teams": [team] if team else [],
        "priority": priority,
        "urgency": row["urgency"],
        "resolve_reason": None,
    }


def list_incidents(req: Request) -> Response:
    limit, offset, want_total = _page(req)
    ceiling = _ceiling(limit, offset)
    if ceiling is not None:
        return ceiling
    since, until = _window(req, default=True)
    refs = Refs(req)
    params: dict[str, Any] = {"now": req.now}
    where = ["true"]
    if since is not None:
        params["since"] = since
        where.append("created_at >= $since")
    if until is not None:
        params["until"] = until
        where.append("created_at < $until")
    statuses = [s for raw in req.args("statuses") for s in raw.split(",") if s]
    if statuses:
        if any(s not in STATUSES for s in statuses):
            raise ApiError(400, "Status must be a list of triggered, acknowledged, or resolved.")
        params["statuses"] = sorted(set(statuses))
        where.append("list_contains($statuses, status_now)")
    service_ids = req.args("service_ids")
    if service_ids:
        params["services"] = sorted(set(service_ids))
        where.append("list_contains($services, service_id)")
    team_ids = req.args("team_ids")
    if team_ids:
        params["teams"] = refs.team_ids(team_ids)
        where.append("list_contains($teams, team_id)")
    urgencies = req.args("urgencies")
    if urgencies:
        params["urgencies"] = sorted(set(urgencies))
        where.append("list_contains($urgencies, urgency)")
    user_ids = req.args("user_ids")
    if user_ids:
        params["users"] = sorted(set(user_ids))
        where.append("list_contains($users, assignee_id) and status_now != 'resolved'")
    if req.arg("incident_key"):
        params["ikey"] = req.arg("incident_key")
        where.append("incident_key = $ikey")
    condition = " and ".join(where)
    order = _sort(req)

    sql = f"select * from ({INCIDENTS_SQL}) where {condition}"
    cur = req.db.execute(f"{sql} order by {order} limit {limit + 1} offset {offset}", params)
    names = [d[0] for d in cur.description]
    rows = [dict(zip(names, r, strict=True)) for r in cur.fetchall()]
    page, more = rows[:limit], len(rows) > limit
    total = None
    if want_total:
        total = req.db.execute(f"select count(*) from ({sql})", params).fetchone()[0]
    return Response(
        200,
        {
            "incidents": [render_incident(r, refs) for r in page],
            "limit": limit,
            "offset": offset,
            "more": more,
            "total": total,
        },
    )


def _find_incident(req: Request) -> dict[str, Any]:
    ident = req.params["id"]
    params: dict[str, Any] = {"now": req.now, "id": ident}
    where = "id = $id"
    if ident.isdigit():
        params["num"] = int(ident)
        where += " or incident_number = $num"
    cur = req.db.execute(f"select * from ({INCIDENTS_SQL}) where {where} order by id", params)
    names = [d[0] for d in cur.description]
    row = cur.fetchone()
    if row is None:
        raise ApiError(404, "Incident Not Found")
    return dict(zip(names, row, strict=True))


def get_incident(req: Request) -> Response:
    row = _find_incident(req)
    return Response(200, {"incident": render_incident(row, Refs(req))})


# --- log entries ----------------------------------------------------------------------------


def _channel(entry: dict[str, Any], incident_title: str | None) -> dict[str, Any]:
    kind = entry["type"]
    agent = (entry["agent_type"] or "").lower()
    if kind == "annotate_log_entry":
        return {"type": "note", "summary": entry["note"] or entry["summary"]}
    if kind == "trigger_log_entry":
        return {
            "type": "api",
            "summary": incident_title or entry["summary"],
            "details": {},
        }
    if agent.startswith("user"):
        return {"type": "website"}
    return {"type": "auto" if kind == "resolve_log_entry" else "api"}


def render_log_entry(entry: dict[str, Any], incident: dict[str, Any], refs: Refs) -> dict:
    base = refs.base
    team = refs.team(incident.get("team_id"))
    body: dict[str, Any] = {
        "id": entry["id"],
        "type": entry["type"],
        "summary": entry["summary"],
        "self": f"{base}/log_entries/{entry['id']}",
        "html_url": None,
        "created_at": iso(entry["created_at"]),
        "agent": refs.agent(entry["agent_type"], entry["agent_id"]),
        "channel": _channel(entry, incident.get("title")),
        "service": refs.service(incident.get("service_id")),
        "incident": {
            "id": entry["incident_id"],
            "type": "incident_reference",
            "summary": (
                f"[#{incident['incident_number']}] {incident['title']}"
                if incident.get("incident_number") is not None
                else entry["incident_id"]
            ),
            "self": f"{base}/incidents/{entry['incident_id']}",
            "html_url": f"{WEB}/incidents/{entry['incident_id']}",
        },
        "teams": [team] if team else [],
        "contexts": [],
    }
    if entry["type"] == "trigger_log_entry":
        body["event_details"] = {"description": incident.get("title")}
    return body


LOG_SQL = """
    select e.*, i.incident_number, i.title, i.service_id, i.team_id
    from pd_log_entries e join pd_incidents i on i.id = e.incident_id
    where e.created_at <= $now and i.created_at <= $now
"""


def _log_page(req: Request, where: list[str], params: dict[str, Any]) -> Response:
    limit, offset, want_total = _page(req)
    ceiling = _ceiling(limit, offset)
    if ceiling is not None:
        return ceiling
    if (req.arg("is_overview") or "false").lower() == "true":
        params["overview"] = sorted(OVERVIEW_TYPES)
        where.append("list_contains($overview, e.type)")
    sql = LOG_SQL + "".join(f" and ({w})" for w in where)
    order = "e.created_at desc, e.id desc"  # newest first, as PagerDuty lists log entries
    cur = req.db.execute(f"{sql} order by {order} limit {limit + 1} offset {offset}", params)
    names = [d[0] for d in cur.description]
    rows = [dict(zip(names, r, strict=True)) for r in cur.fetchall()]
    page, more = rows[:limit], len(rows) > limit
    total = None
    if want_total:
        total = req.db.execute(f"select count(*) from ({sql})", params).fetchone()[0]
    refs = Refs(req)
    entries = [
        render_log_entry(
            r,
            {k: r[k] for k in ("incident_number", "title", "service_id", "team_id")},
            refs,
        )
        for r in page
    ]
    return Response(
        200,
        {"log_entries": entries, "limit": limit, "offset": offset, "more": more, "total": total},
    )


def incident_log_entries(req: Request) -> Response:
    incident = _find_incident(req)
    params: dict[str, Any] = {"now": req.now, "iid": incident["id"]}
    where = ["e.incident_id = $iid"]
    since, until = _window(req, default=False)
    if since is not None:
        params["since"] = since
        where.append("e.created_at >= $since")
    if until is not None:
        params["until"] = until
        where.append("e.created_at < $until")
    return _log_page(req, where, params)


def list_log_entries(req: Request) -> Response:
    params: dict[str, Any] = {"now": req.now}
    where: list[str] = []
    since, until = _window(req, default=True)
    if since is not None:
        params["since"] = since
        where.append("e.created_at >= $since")
    if until is not None:
        params["until"] = until
        where.append("e.created_at < $until")
    team_ids = req.args("team_ids")
    if team_ids:
        params["teams"] = Refs(req).team_ids(team_ids)
        where.append("list_contains($teams, i.team_id)")
    return _log_page(req, where, params)


# --- services, users, teams -------------------------------------------------------------


def _list(req: Request, key: str, items: list[dict[str, Any]]) -> Response:
    limit, offset, want_total = _page(req)
    ceiling = _ceiling(limit, offset)
    if ceiling is not None:
        return ceiling
    page = items[offset : offset + limit]
    return Response(
        200,
        {
            key: page,
            "limit": limit,
            "offset": offset,
            "more": offset + len(page) < len(items),
            "total": len(items) if want_total else None,
        },
    )


def list_services(req: Request) -> Response:
    refs = Refs(req)
    items = []
    for sid, row in sorted(refs.services.items()):
        team = refs.team(row["team_id"])
        items.append(
            {
                "id": sid,
                "type": "service",
                "summary": row["name"],
                "self": f"{refs.base}/services/{sid}",
                "html_url": f"{WEB}/service-directory/{sid}",
                "name": row["name"],
                "description": row["repo_full_name"],
                "status": "active",
                "teams": [team] if team else [],
            }
        )
    return _list(req, "services", items)


def list_users(req: Request) -> Response:
    refs = Refs(req)
    teams_by_user: dict[str, list[str]] = {}
    for row in req.rows(
        "select pagerduty_user_id, team_id from org_people "
        "where pagerduty_user_id is not null order by pagerduty_user_id, team_id"
    ):
        if row["team_id"]:
            teams_by_user.setdefault(row["pagerduty_user_id"], []).append(row["team_id"])
    items = []
    for uid, row in sorted(refs.users.items()):
        teams = [t for t in (refs.team(tid) for tid in teams_by_user.get(uid, [])) if t]
        items.append(
            {
                "id": uid,
                "type": "user",
                "summary": row["name"],
                "self": f"{refs.base}/users/{uid}",
                "html_url": f"{WEB}/users/{uid}",
                "name": row["name"],
                "email": row["email"],
                "time_zone": "Etc/UTC",
                "role": "user",
                "teams": teams,
            }
        )
    return _list(req, "users", items)


def list_teams(req: Request) -> Response:
    refs = Refs(req)
    seen: dict[str, dict[str, Any]] = {}
    for team in refs.teams.values():
        seen.setdefault(team["id"], team)
    items = [
        {
            "id": tid,
            "type": "team",
            "summary": team["name"],
            "self": f"{refs.base}/teams/{tid}",
            "html_url": f"{WEB}/teams/{tid}",
            "name": team["name"],
            "description": None,
        }
        for tid, team in sorted(seen.items())
    ]
    return _list(req, "teams", items)


VENDOR = Vendor(
    name="pagerduty",
    routes=[
        route("GET", "/incidents", "incidents", list_incidents),
        route("GET", "/incidents/{id}/log_entries", "incident_log_entries", incident_log_entries),
        route("GET", "/incidents/{id}", "incident", get_incident),
        route("GET", "/log_entries", "log_entries", list_log_entries),
        route("GET", "/services", "services", list_services),
        route("GET", "/users", "users", list_users),
        route("GET", "/teams", "teams", list_teams),
    ],
    authenticate=authenticate,
    error_body=error_body,
)
