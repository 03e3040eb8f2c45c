"""The Anthropic Admin API (`https://api.anthropic.com`), as the simulator serves it.

Routes: the messages usage report, the cost report, the Claude Code usage report, and the API
key and workspace lists the loader uses to name keys. Requests need `x-api-key` (the admin key)
and `anthropic-version`. Time rules shared with OpenAI are in `billing_common`:

- `usage_report/messages` supports `bucket_width` `1d`, `1h` and `1m`; only `1d` is
  data-accurate (the store is daily; sub-day buckets split each day's totals evenly).
- `cost_report` supports `1d` only, as the real API does. Amounts are exact decimal strings in
  cents: tokens x `llm_model_prices` (provider `anthropic`). Every service tier and context
  window is priced at the model's list price. Web search requests cost money only if the
  price table has a `web_search` row (USD per million requests).
- `usage_report/claude_code` answers one UTC day, once that day is over.
"""

from __future__ import annotations

import hashlib
import json
import re
import uuid
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from org_simulator.credentials import SIM_CREDENTIALS
from org_simulator.http import (
    ApiError,
    Handler,
    Request,
    Response,
    Vendor,
    decode_token,
    encode_token,
    iso,
    parse_time,
    route,
)
from org_simulator.vendors import billing_common as bc

ERROR_TYPES = {
    400: "invalid_request_error",
    401: "authentication_error",
    403: "permission_error",
    404: "not_found_error",
    413: "request_too_large",
    429: "rate_limit_error",
    529: "overloaded_error",
}

USAGE_DIMS = {
    "api_key_id": "varchar",
    "workspace_id": "varchar",
    "model": "varchar",
    "service_tier": "varchar",
    "context_window": "varchar",
}
USAGE_SUMS = {
    "uncached_input_tokens": "uncached_input_tokens",
    "cache_creation_5m_input_tokens": "cache_creation_5m_input_tokens",
    "cache_creation_1h_input_tokens": "cache_creation_1h_input_tokens",
    "cache_read_input_tokens": "cache_read_input_tokens",
    "output_tokens": "output_tokens",
    "web_search_requests": "web_search_requests",
}
# token_type in the cost report, the store column, the price table's token_kind, and the
# words of the line's description.
COST_LINES = [
    ("uncached_input_tokens", "uncached_input_tokens", "uncached_input", "Input Tokens"),
    ("output_tokens", "output_tokens", "output", "Output Tokens"),
    ("cache_read_input_tokens", "cache_read_input_tokens", "cache_read", "Prompt Caching Read"),
    (
        "cache_creation.ephemeral_5m_input_tokens",
        "cache_creation_5m_input_tokens",
        "cache_write_5m",
        "Prompt Caching Write (5m)",
    ),
    (
        "cache_creation.ephemeral_1h_input_tokens",
        "cache_creation_1h_input_tokens",
        "cache_write_1h",
        "Prompt Caching Write (1h)",
    ),
]
CENTS_PER_USD = Decimal(100)


def error_body(status: int, message: str) -> dict[str, Any]:
    kind = ERROR_TYPES.get(status, "api_error")
    return {"type": "error", "error": {"type": kind, "message": message}}


def authenticate(req: Request) -> bool:
    return req.headers.get("x-api-key") == SIM_CREDENTIALS["anthropic"]


def versioned(handler: Handler) -> Handler:
    """Admin API calls must name an API version, as the real one insists."""

    def wrapped(req: Request) -> Response:
        if not req.headers.get("anthropic-version"):
            raise ApiError(400, "anthropic-version: header is required")
        return handler(req)

    return wrapped


# --- shared request parsing --------------------------------------------------------------


def _range(req: Request) -> tuple[datetime, datetime | None]:
    raw = req.arg("starting_at")
    if not raw:
        raise ApiError(400, "starting_at: field required")
    start = parse_time(raw, "starting_at")
    raw_end = req.arg("ending_at")
    end = parse_time(raw_end, "ending_at") if raw_end else None
    if end is not None and end <= start:
        raise ApiError(400, "ending_at must be after starting_at")
    return start, end


def _page(req: Request, allowed: tuple[str, ...]) -> bc.BucketPage:
    width = bc.width_arg(req, allowed)
    default, most = bc.BUCKET_LIMITS[width]
    limit = req.int_arg("limit", default, 1, most)
    start, end = _range(req)
    return bc.plan_buckets(req, start, end, bc.WIDTHS[width], limit)


def _report(page: bc.BucketPage, results: dict[datetime, list[dict[str, Any]]]) -> Response:
    data = [
        {"starting_at": iso(s), "ending_at": iso(s + page.width), "results": results.get(s, [])}
        for s in page.starts
    ]
    return Response(body={"data": data, "has_more": page.has_more, "next_page": page.next_page})


# --- messages usage ----------------------------------------------------------------------


def messages_usage(req: Request) -> Response:
    grouped = bc.group_by_arg(req, list(USAGE_DIMS))
    page = _page(req, ("1d", "1h", "1m"))
    rows = []
    if page.starts:
        rows = bc.aggregate(
            req,
            "anthropic_messages_usage",
            USAGE_DIMS,
            grouped,
            USAGE_SUMS,
            page.days,
            {
                "model": req.args("models"),
                "api_key_id": req.args("api_key_ids"),
                "workspace_id": req.args("workspace_ids"),
                "service_tier": req.args("service_tiers"),
                "context_window": req.args("context_window"),
            },
        )
    buckets = bc.bucketed(page, rows, list(USAGE_SUMS))
    results = {start: [_usage_result(r) for r in rows] for start, rows in buckets.items()}
    return _report(page, results)


def _usage_result(row: dict[str, Any]) -> dict[str, Any]:
    return {
        "uncached_input_tokens": int(row["uncached_input_tokens"]),
        "cache_creation": {
            "ephemeral_5m_input_tokens": int(row["cache_creation_5m_input_tokens"]),
            "ephemeral_1h_input_tokens": int(row["cache_creation_1h_input_tokens"]),
        },
        "cache_read_input_tokens": int(row["cache_read_input_tokens"]),
        "output_tokens": int(row["output_tokens"]),
        "server_tool_use": {"web_search_requests": int(row["web_search_requests"])},
        "api_key_id": row["api_key_id"],
        "workspace_id": row["workspace_id"],
        "model": row["model"],
        "service_tier": row["service_tier"],
        "context_window": row["context_window"],
    }


# --- cost report -------------------------------------------------------------------------


def cost_report(req: Request) -> Response:
    grouped = bc.group_by_arg(req, ["description", "workspace_id"])
    page = _page(req, ("1d",))
    by_description = "description" in grouped
    dims = dict(USAGE_DIMS)
    del dims["api_key_id"]
    inner = ["model", "service_tier", "context_window"]
    if "workspace_id" in grouped:
        inner.append("workspace_id")
    rows = []
    if page.starts:
        rows = bc.aggregate(
            req,
            "anthropic_messages_usage",
            dims,
            inner,
            USAGE_SUMS,
            page.days,
            {"workspace_id": req.args("workspace_ids")},
        )
    prices = bc.PriceBook(req, "anthropic")
    lines: dict[date, dict[tuple, dict[str, Any]]] = {}
    for row in rows:
        day = row["bucket_date"]
        for token_type, column, kind, words in _cost_lines(row):
            tokens = int(row[column] or 0)
            usd = prices.cost_usd(row["model"], kind, day, tokens) if tokens else None
            if usd is None:
                continue
            if by_description:
                key = (
                    row["workspace_id"],
                    _description(row["model"], words),
                    row["model"],
                    token_type,
                    row["service_tier"],
                    row["context_window"],
                )
            else:
                key = (row["workspace_id"],)
            per_day = lines.setdefault(day, {})
            per_day[key] = per_day.get(key, Decimal(0)) + usd * CENTS_PER_USD
    results = {}
    for start in page.starts:
        per_day = lines.get(start.date(), {})
        results[start] = [
            _cost_result(key, amount, by_description)
            for key, amount in sorted(per_day.items(), key=lambda kv: _sort_key(kv[0]))
        ]
    return _report(page, results)


def _cost_lines(row: dict[str, Any]) -> list[tuple[str, str, str, str]]:
    lines = list(COST_LINES)
    if row.get("web_search_requests"):
        lines.append(("web_search", "web_search_requests", "web_search", "Web Search"))
    return lines


def _sort_key(key: tuple) -> tuple:
    return tuple((v is not None, v or "") for v in key)


def _cost_result(key: tuple, cents: Decimal, by_description: bool) -> dict[str, Any]:
    if by_description:
        workspace_id, description, model, token_type, service_tier, context_window = key
        cost_type = "web_search" if token_type == "web_search" else "tokens"
        if token_type == "web_search":
            token_type = context_window = None
    else:
        (workspace_id,) = key
        description = model = token_type = service_tier = context_window = cost_type = None
    return {
        "currency": "USD",
        "amount": bc.decimal_text(cents),
        "workspace_id": workspace_id,
        "description": description,
        "cost_type": cost_type,
        "context_window": context_window,
        "model": model,
        "service_tier": service_tier,
        "token_type": token_type,
    }


def model_display_name(model: str) -> str:
    """`claude-sonnet-4-5-20250929` -> `Claude Sonnet 4.5`; `claude-3-5-haiku-...` -> `Claude
    Haiku 3.5`."""
    parts = re.sub(r"-\d{8}$", "", model).split("-")
    if parts and parts[0] == "claude":
        parts = parts[1:]
    family = [p for p in parts if not p.isdigit()]
    version = [p for p in parts if p.isdigit()]
    name = " ".join(p.capitalize() for p in family)
    return " ".join(x for x in ("Claude", name, ".".join(version)) if x)


def _description(model: str, words: str) -> str:
    return f"{model_display_name(model)} Usage - {words}"


# --- Claude Code usage -------------------------------------------------------------------


def claude_code_usage(req: Request) -> Response:
    raw = req.arg("starting_at")
    if not raw:
        raise ApiError(400, "starting_at: field required")
    day = parse_time(raw, "starting_at").date()
    limit = req.int_arg("limit", 20, 1, 1000)
    offset = 0
    token = req.arg("page")
    if token:
        state = decode_token(token)
        if not isinstance(state.get("offset"), int) or state.get("date") != day.isoformat():
            raise ApiError(400, "invalid page token")
        offset = state["offset"]
    if day >= bc.visible_before(req):
        rows = []
    else:
        rows = req.rows(
            "select * from anthropic_claude_code_usage where date = ? "
            "order by actor_type, email_address nulls first, api_key_name nulls first, "
            "terminal_type nulls first limit ? offset ?",
            [day, limit + 1, offset],
        )
    has_more = len(rows) > limit
    org_id = _organization_id(req)
    data = [_claude_code_record(r, org_id) for r in rows[:limit]]
    next_page = (
        encode_token({"date": day.isoformat(), "offset": offset + limit}) if has_more else None
    )
    return Response(body={"data": data, "has_more": has_more, "next_page": next_page})


def _organization_id(req: Request) -> str:
    explicit = bc.org_meta(req, "anthropic_organization_id")
    if explicit:
        return explicit
    name = bc.org_meta(req, "org", bc.org_meta(req, "name", "acme"))
    return str(uuid.uuid5(uuid.NAMESPACE_DNS, f"{name}.anthropic.simulator"))


def _claude_code_record(row: dict[str, Any], org_id: str) -> dict[str, Any]:
    if row["actor_type"] == "api_actor":
        actor = {"type": "api_actor", "api_key_name": row["api_key_name"]}
    else:
        actor = {"type": "user_actor", "email_address": row["email_address"]}
    breakdown = json.loads(row["model_breakdown"]) if row["model_breakdown"] else []
    return {
        "date": iso(datetime.combine(row["date"], datetime.min.time())),
        "actor": actor,
        "organization_id": org_id,
        "customer_type": "api",
        "subscription_type": None,
        "terminal_type": row["terminal_type"],
        "core_metrics": {
            "num_sessions": row["num_sessions"] or 0,
            "lines_of_code": {
                "added": row["lines_added"] or 0,
                "removed": row["lines_removed"] or 0,
            },
            "commits_by_claude_code": row["commits_by_claude_code"] or 0,
            "pull_requests_by_claude_code": row["pull_requests_by_claude_code"] or 0,
        },
        "tool_actions": {
            "edit_tool": {
                "accepted": row["edit_accepted"] or 0,
                "rejected": row["edit_rejected"] or 0,
            },
            "multi_edit_tool": {"accepted": 0, "rejected": 0},
            "write_tool": {
                "accepted": row["write_accepted"] or 0,
                "rejected": row["write_rejected"] or 0,
            },
            "notebook_edit_tool": {"accepted": 0, "rejected": 0},
        },
        "model_breakdown": breakdown,
    }


# --- API keys and workspaces -------------------------------------------------------------


def list_api_keys(req: Request) -> Response:
    limit = req.int_arg("limit", 20, 1, 1000)
    sql = "select * from anthropic_api_keys where (created_at is null or created_at <= ?)"
    params: list[Any] = [req.now]
    if req.arg("workspace_id"):
        sql += " and workspace_id = ?"
        params.append(req.arg("workspace_id"))
    status = req.arg("status")
    rows = req.rows(sql + " order by id", params) if status in (None, "active") else []
    page, has_more = bc.id_page(rows, req.arg("after_id"), limit)
    start = bc.org_start(req)
    data = [
        {
            "type": "api_key",
            "id": r["id"],
            "name": r["name"],
            "workspace_id": r["workspace_id"],
            "created_at": iso(r["created_at"] or start),
            "created_by": {
                "id": bc.opaque("user_", "anthropic-user", r["owner_person_id"]),
                "type": "user",
            },
            "partial_key_hint": "sk-ant-api03-"
            + bc.opaque("", r["id"], length=3)
            + "..."
            + bc.opaque("", r["id"], "tail", length=4),
            "status": "active",
        }
        for r in page
    ]
    return Response(body=_list_body(data, has_more))


def list_workspaces(req: Request) -> Response:
    limit = req.int_arg("limit", 20, 1, 1000)
    rows = req.rows(
        "select w.id, w.name, min(k.created_at) as first_key_at from anthropic_workspaces w "
        "left join anthropic_api_keys k on k.workspace_id = w.id "
        "group by w.id, w.name order by w.id"
    )
    page, has_more = bc.id_page(rows, req.arg("after_id"), limit)
    start = bc.org_start(req)
    data = [
        {
            "type": "workspace",
            "id": r["id"],
            "name": r["name"],
            "created_at": iso(min(start, r["first_key_at"] or start)),
            "archived_at": None,
            "display_color": "#" + hashlib.sha256(r["id"].encode()).hexdigest()[:6].upper(),
        }
        for r in page
    ]
    return Response(body=_list_body(data, has_more))


def _list_body(data: list[dict[str, Any]], has_more: bool) -> dict[str, Any]:
    return {
        "data": data,
        "has_more": has_more,
        "first_id": data[0]["id"] if data else None,
        "last_id": data[-1]["id"] if data else None,
    }


def decorate(req: Request, resp: Response) -> None:
    resp.headers.setdefault(
        "request-id", bc.opaque("req_", req.method, req.path, sorted(req.query.items()))
    )


VENDOR = Vendor(
    name="anthropic",
    routes=[
        route(
            "GET",
            "/v1/organizations/usage_report/messages",
            "usage_messages",
            versioned(messages_usage),
        ),
        route("GET", "/v1/organizations/cost_report", "cost_report", versioned(cost_report)),
        route(
            "GET",
            "/v1/organizations/usage_report/claude_code",
            "usage_claude_code",
            versioned(claude_code_usage),
        ),
        route("GET", "/v1/organizations/api_keys", "api_keys", versioned(list_api_keys)),
        route("GET", "/v1/organizations/workspaces", "workspaces", versioned(list_workspaces)),
    ],
    authenticate=authenticate,
    error_body=error_body,
    decorate=decorate,
)
