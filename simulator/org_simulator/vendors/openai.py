"""The OpenAI organization API (`https://api.openai.com`), as the simulator serves it.

Routes: completions usage, costs, and the project, user and project API key lists. Requests
need `Authorization: Bearer <admin key>`. Time rules shared with Anthropic are in
`billing_common`: buckets are snapped to their width in UTC (`start_time` is floored), a day's
usage shows once the day is over, and sub-day widths (`1h`, `1m`, usage only) split a day's
totals evenly.

Costs are tokens x `llm_model_prices` (provider `openai`; kinds `input` for uncached input,
`cached_input`, `output`), computed exactly and sent, as OpenAI does, as a float of USD. Line
items read `<model>, input`, `<model>, cached input`, `<model>, output`.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Any

from org_simulator.credentials import SIM_CREDENTIALS
from org_simulator.http import ApiError, Request, Response, Vendor, route
from org_simulator.vendors import billing_common as bc

ERRORS = {  # status -> (type, code)
    400: ("invalid_request_error", None),
    401: ("invalid_request_error", "invalid_api_key"),
    403: ("invalid_request_error", "insufficient_permissions"),
    404: ("invalid_request_error", "not_found"),
    429: ("requests", "rate_limit_exceeded"),
}

USAGE_DIMS = {
    "project_id": "varchar",
    "user_id": "varchar",
    "api_key_id": "varchar",
    "model": "varchar",
    "batch": "boolean",
    "service_tier": "varchar",
}
USAGE_SUMS = {
    "input_tokens": "input_tokens",
    "input_cached_tokens": "input_cached_tokens",
    "output_tokens": "output_tokens",
    "num_model_requests": "num_model_requests",
}
# price token_kind, the usage sum it prices, and the words of the line item
COST_LINES = [
    ("input", "uncached_input_tokens", "input"),
    ("cached_input", "input_cached_tokens", "cached input"),
    ("output", "output_tokens", "output"),
]


def error_body(status: int, message: str) -> dict[str, Any]:
    kind, code = ERRORS.get(status, ("server_error", None))
    return {"error": {"message": message, "type": kind, "param": None, "code": code}}


def authenticate(req: Request) -> bool:
    return req.headers.get("authorization") == f"Bearer {SIM_CREDENTIALS['openai']}"


# --- shared request parsing --------------------------------------------------------------


def _page(req: Request, widths: tuple[str, ...], limits: tuple[int, int] | None = None):
    if req.arg("start_time") is None:
        raise ApiError(400, "Missing query parameter 'start_time'")
    start = bc.from_unix(req.arg("start_time"), "start_time")
    end = bc.from_unix(req.arg("end_time"), "end_time") if req.arg("end_time") else None
    if end is not None and end <= start:
        raise ApiError(400, "end_time must be after start_time")
    width = bc.width_arg(req, widths)
    default, most = limits or bc.BUCKET_LIMITS[width]
    limit = req.int_arg("limit", default, 1, most)
    return bc.plan_buckets(req, start, end, bc.WIDTHS[width], limit)


def _batch_filter(req: Request) -> list[bool]:
    raw = req.arg("batch")
    if raw is None:
        return []
    if raw.lower() not in ("true", "false"):
        raise ApiError(400, "batch must be true or false")
    return [raw.lower() == "true"]


def _report(page: bc.BucketPage, results: dict[datetime, list[dict[str, Any]]]) -> Response:
    data = [
        {
            "object": "bucket",
            "start_time": bc.to_unix(s),
            "end_time": bc.to_unix(s + page.width),
            "results": results.get(s, []),
        }
        for s in page.starts
    ]
    return Response(
        body={
            "object": "page",
            "data": data,
            "has_more": page.has_more,
            "next_page": page.next_page,
        }
    )


# --- completions usage -------------------------------------------------------------------


def completions_usage(req: Request) -> Response:
    grouped = bc.group_by_arg(req, list(USAGE_DIMS))
    page = _page(req, ("1d", "1h", "1m"))
    rows = []
    if page.starts:
        rows = bc.aggregate(
            req,
            "openai_completions_usage",
            USAGE_DIMS,
            grouped,
            USAGE_SUMS,
            page.days,
            {
                "project_id": req.args("project_ids"),
                "user_id": req.args("user_ids"),
                "api_key_id": req.args("api_key_ids"),
                "model": req.args("models"),
                "batch": _batch_filter(req),
            },
        )
    buckets = bc.bucketed(page, rows, list(USAGE_SUMS))
    results = {start: [_usage_result(r) for r in rows] for start, rows in buckets.items()}
    return _report(page, results)


def _usage_result(row: dict[str, Any]) -> dict[str, Any]:
    return {
        "object": "organization.usage.completions.result",
        "input_tokens": int(row["input_tokens"]),
        "output_tokens": int(row["output_tokens"]),
        "input_cached_tokens": int(row["input_cached_tokens"]),
        "input_audio_tokens": 0,
        "output_audio_tokens": 0,
        "num_model_requests": int(row["num_model_requests"]),
        "project_id": row["project_id"],
        "user_id": row["user_id"],
        "api_key_id": row["api_key_id"],
        "model": row["model"],
        "batch": row["batch"],
        "service_tier": row["service_tier"],
    }


# --- costs -------------------------------------------------------------------------------


def costs(req: Request) -> Response:
    grouped = bc.group_by_arg(req, ["project_id", "line_item", "api_key_id"])
    page = _page(req, ("1d",), (7, 180))
    inner = ["model", *[g for g in ("project_id", "api_key_id") if g in grouped]]
    rows = []
    if page.starts:
        rows = bc.aggregate(
            req,
            "openai_completions_usage",
            {"project_id": "varchar", "api_key_id": "varchar", "model": "varchar"},
            inner,
            {
                "uncached_input_tokens": "input_tokens - coalesce(input_cached_tokens, 0)",
                "input_cached_tokens": "input_cached_tokens",
                "output_tokens": "output_tokens",
            },
            page.days,
            {"project_id": req.args("project_ids"), "api_key_id": req.args("api_key_ids")},
        )
    prices = bc.PriceBook(req, "openai")
    by_line = "line_item" in grouped
    lines: dict[date, dict[tuple, Decimal]] = {}
    for row in rows:
        day = row["bucket_date"]
        for kind, column, words in COST_LINES:
            tokens = int(row[column] or 0)
            usd = prices.cost_usd(row["model"], kind, day, tokens) if tokens else None
            if usd is None:
                continue
            line_item = f"{row['model']}, {words}" if by_line else None
            key = (line_item, row["project_id"], row["api_key_id"])
            per_day = lines.setdefault(day, {})
            per_day[key] = per_day.get(key, Decimal(0)) + usd
    results = {}
    for start in page.starts:
        per_day = lines.get(start.date(), {})
        results[start] = [
            {
                "object": "organization.costs.result",
                "amount": {"value": float(amount), "currency": "usd"},
                "line_item": key[0],
                "project_id": key[1],
                "api_key_id": key[2],
            }
            for key, amount in sorted(per_day.items(), key=lambda kv: _sort_key(kv[0]))
        ]
    return _report(page, results)


def _sort_key(key: tuple) -> tuple:
    return tuple((v is not None, v or "") for v in key)


# --- projects, users, API keys -----------------------------------------------------------


def _list(req: Request, rows: list[dict[str, Any]], render) -> Response:
    limit = req.int_arg("limit", 20, 1, 100)
    page, has_more = bc.id_page(rows, req.arg("after"), limit)
    data = [render(r) for r in page]
    return Response(
        body={
            "object": "list",
            "data": data,
            "first_id": data[0]["id"] if data else None,
            "last_id": data[-1]["id"] if data else None,
            "has_more": has_more,
        }
    )


def list_projects(req: Request) -> Response:
    created = bc.to_unix(bc.org_start(req))
    rows = req.rows("select id, name from openai_projects order by id")
    return _list(
        req,
        rows,
        lambda r: {
            "id": r["id"],
            "object": "organization.project",
            "name": r["name"],
            "created_at": created,
            "archived_at": None,
            "status": "active",
        },
    )


def list_users(req: Request) -> Response:
    created = bc.to_unix(bc.org_start(req))
    sql, params = "select id, email, name from openai_users", []
    emails = req.args("emails")
    if emails:
        sql += f" where email in ({', '.join('?' for _ in emails)})"
        params = emails
    rows = req.rows(sql + " order by id", params)
    return _list(req, rows, lambda r: _user(r, created, "organization.user", "reader"))


def _user(row: dict[str, Any], added_at: int, obj: str, role: str) -> dict[str, Any]:
    return {
        "object": obj,
        "id": row["id"],
        "name": row["name"],
        "email": row["email"],
        "role": role,
        "added_at": added_at,
    }


def list_project_api_keys(req: Request) -> Response:
    project_id = req.params["project_id"]
    if not req.rows("select 1 from openai_projects where id = ?", [project_id]):
        raise ApiError(404, f"No such project: '{project_id}'")
    created = bc.to_unix(bc.org_start(req))
    rows = req.rows(
        "select k.id, k.name, k.owner_user_id, u.name as user_name, u.email as user_email, "
        "(select max(bucket_date) from openai_completions_usage c "
        " where c.api_key_id = k.id and c.bucket_date < ?) as last_used "
        "from openai_api_keys k left join openai_users u on u.id = k.owner_user_id "
        "where k.project_id = ? order by k.id",
        [bc.visible_before(req), project_id],
    )

    def render(r: dict[str, Any]) -> dict[str, Any]:
        if r["owner_user_id"]:
            owner = {
                "type": "user",
                "user": _user(
                    {"id": r["owner_user_id"], "name": r["user_name"], "email": r["user_email"]},
                    created,
                    "organization.project.user",
                    "owner",
                ),
            }
        else:
            owner = {
                "type": "service_account",
                "service_account": {
                    "object": "organization.project.service_account",
                    "id": bc.opaque("svc_acct_", r["id"]),
                    "name": r["name"],
                    "role": "member",
                    "created_at": created,
                },
            }
        last_used = r["last_used"]
        return {
            "object": "organization.project.api_key",
            "redacted_value": "sk-proj-"
            + bc.opaque("", r["id"], length=2)
            + "***"
            + bc.opaque("", r["id"], "tail", length=4),
            "name": r["name"],
            "created_at": created,
            "last_used_at": None
            if last_used is None
            else bc.to_unix(datetime.combine(last_used, datetime.min.time())),
            "id": r["id"],
            "owner": owner,
        }

    return _list(req, rows, render)


VENDOR = Vendor(
    name="openai",
    routes=[
        route("GET", "/v1/organization/usage/completions", "usage_completions", completions_usage),
        route("GET", "/v1/organization/costs", "costs", costs),
        route("GET", "/v1/organization/projects", "projects", list_projects),
        route("GET", "/v1/organization/users", "users", list_users),
        route(
            "GET",
            "/v1/organization/projects/{project_id}/api_keys",
            "project_api_keys",
            list_project_api_keys,
        ),
    ],
    authenticate=authenticate,
    error_body=error_body,
)
