"""dlt source `anthropic`: the Anthropic Admin API -> dataset `raw_anthropic`.

Configuration follows dlt's convention (env vars or .dlt/ toml):
  SOURCES__ANTHROPIC__BASE_URL       default https://api.anthropic.com
  SOURCES__ANTHROPIC__ADMIN_API_KEY  secret admin key (sk-ant-admin...), sent only as x-api-key
  SOURCES__ANTHROPIC__START_DATE     optional ISO date: ignore days before it; without it (and
                                     without a cursor) a run reads the last 90 days

Tables (every report row carries `row_key`, the md5 of its natural key, and merges on it; see
pipelines.sources.billing_buckets):
  messages_usage      daily tokens per model x api key x workspace x service tier x context
                      window: uncached input, cache writes (5m, 1h), cache reads, output, web
                      search requests
  cost_report         daily cost per workspace x description (model, token type, tier,
                      context window): `amount` the API's decimal string in cents, `amount_usd`
                      the same as an exact DECIMAL in USD
  claude_code_usage   Claude Code per day x actor (user email or API key name) x terminal:
                      sessions, lines, commits, PRs, tool accepts/rejects; its per-model tokens
                      and estimated cost (in cents, as the API says) in the child table
                      `claude_code_usage__model_breakdown`, keyed by `usage_row_key`
  workspaces, api_keys  the reference lists that map keys to workspaces and creators
  quarantine          records that broke their table's contract

Cursors and look-back (dlt resource state, committed with the data):
  messages_usage, cost_report  the newest daily bucket returned; each run re-reads the 3 days
                               before it (late usage and cost restatements), up to the wall
                               clock; the API publishes a day once it is over.
  claude_code_usage            the newest day walked (one request per day: the endpoint answers
                               one day). The walk ends at the API's current day, which the
                               newest usage bucket reveals (so a loader whose clock runs ahead
                               of the API's asks for no empty future days); each run re-reads
                               the day before the cursor, since the report lags up to an hour.
  workspaces, api_keys         small lists, re-read whole every run and merged on `id`.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from datetime import date, datetime
from typing import Any

import dlt
from dlt.common.schema.typing import TTableSchemaColumns
from dlt.common.typing import TSecretStrValue
from dlt.sources import DltResource
from dlt.sources.helpers.rest_client import RESTClient
from dlt.sources.helpers.rest_client.auth import APIKeyAuth

from pipelines.sources.billing_buckets import (
    DAY,
    ReferenceList,
    Report,
    ReportWindow,
    bucket_columns,
    bucket_fields,
    column,
    exact_decimal,
    reference_resource,
    report_paginator,
    report_resource,
    rfc3339,
    row_key,
    usd_decimal,
    wall_clock,
)
from pipelines.sources.contract import SCHEMA_CONTRACT, Conformer, Quarantine, to_timestamp
from pipelines.sources.cursors import later
from pipelines.sources.rest import rest_client

SOURCE_NAME = "anthropic"
DATASET_NAME = "raw_anthropic"
DEFAULT_BASE_URL = "https://api.anthropic.com"
API_VERSION = "2023-06-01"

MESSAGES_PATH = "/v1/organizations/usage_report/messages"
COST_PATH = "/v1/organizations/cost_report"
CLAUDE_CODE_PATH = "/v1/organizations/usage_report/claude_code"
MAX_DAILY_BUCKETS = 31  # per page, for 1d buckets
CLAUDE_CODE_LIMIT = 1000  # records per page, the most the endpoint allows
LIST_LIMIT = 1000
CLAUDE_CODE_LOOKBACK = DAY


USAGE_GROUP_BY = ("model", "api_key_id", "workspace_id", "service_tier", "context_window")
COST_GROUP_BY = ("workspace_id", "description")
# What tells cost lines apart: the API splits a description by tier and context window too.
COST_DIMS = (
    "workspace_id",
    "description",
    "cost_type",
    "model",
    "token_type",
    "service_tier",
    "context_window",
)


MESSAGES_USAGE_COLUMNS: TTableSchemaColumns = {
    **bucket_columns(),
    **{dim: column("text") for dim in USAGE_GROUP_BY},
    "uncached_input_tokens": column("bigint"),
    "cache_creation_5m_input_tokens": column("bigint"),
    "cache_creation_1h_input_tokens": column("bigint"),
    "cache_read_input_tokens": column("bigint"),
    "output_tokens": column("bigint"),
    "web_search_requests": column("bigint"),
}

COST_REPORT_COLUMNS: TTableSchemaColumns = {
    **bucket_columns(),
    **{dim: column("text") for dim in COST_DIMS},
    "amount": column("text", nullable=False),  # cents, the API's decimal string
    "amount_usd": usd_decimal(nullable=False),
    "currency": column("text"),
}

TOOLS = ("edit_tool", "multi_edit_tool", "write_tool", "notebook_edit_tool")
CLAUDE_CODE_COLUMNS: TTableSchemaColumns = {
    "row_key": column("text", nullable=False),
    "usage_date": column("date", nullable=False),
    "actor_type": column("text", nullable=False),
    "actor_email_address": column("text"),
    "actor_api_key_name": column("text"),
    "organization_id": column("text"),
    "customer_type": column("text"),
    "subscription_type": column("text"),
    "terminal_type": column("text"),
    "num_sessions": column("bigint"),
    "lines_added": column("bigint"),
    "lines_removed": column("bigint"),
    "commits_by_claude_code": column("bigint"),
    "pull_requests_by_claude_code": column("bigint"),
    **{
        f"{tool}_{verdict}": column("bigint")
        for tool in TOOLS
        for verdict in ("accepted", "rejected")
    },
}
MODEL_BREAKDOWN_COLUMNS: TTableSchemaColumns = {
    "usage_row_key": column("text", nullable=False),
    "model": column("text"),
    "input_tokens": column("bigint"),
    "output_tokens": column("bigint"),
    "cache_read_tokens": column("bigint"),
    "cache_creation_tokens": column("bigint"),
    "estimated_cost_cents": usd_decimal(),
    "estimated_cost_currency": column("text"),
}

WORKSPACE_COLUMNS: TTableSchemaColumns = {
    "id": column("text", nullable=False),
    "name": column("text"),
    "created_at": column("timestamp"),
    "archived_at": column("timestamp"),
    "display_color": column("text"),
}
API_KEY_COLUMNS: TTableSchemaColumns = {
    "id": column("text", nullable=False),
    "name": column("text"),
    "workspace_id": column("text"),
    "status": column("text"),
    "created_at": column("timestamp"),
    "created_by_id": column("text"),
    "created_by_type": column("text"),
    "partial_key_hint": column("text"),
}


@dlt.source(name=SOURCE_NAME, section=SOURCE_NAME, max_table_nesting=1)
def anthropic(
    admin_api_key: TSecretStrValue = dlt.secrets.value,
    base_url: str = DEFAULT_BASE_URL,
    start_date: str | None = None,
    end_date: str | None = None,
) -> Sequence[DltResource]:
    """Messages usage, cost, Claude Code usage, workspaces and API keys. The reports read
    from their cursor, or exactly the days [start_date, end_date) when end_date is given."""
    window = ReportWindow(start_date, end_date)
    client = rest_client(
        base_url,
        APIKeyAuth(name="x-api-key", api_key=admin_api_key, location="header"),
        headers={"anthropic-version": API_VERSION},
        data_selector="data",
    )
    quarantine = Quarantine(SOURCE_NAME)
    api_day = ApiDay(client)
    return [
        report_resource(MESSAGES_USAGE, client, window, quarantine, api_day.note),
        report_resource(COST_REPORT, client, window, quarantine, api_day.note),
        claude_code_usage(client, window, api_day, quarantine),
        reference_resource(WORKSPACES, client, quarantine),
        reference_resource(API_KEYS, client, quarantine),
        quarantine.resource(),
    ]


class ApiDay:
    """The API's current UTC day: the start of the newest daily bucket it returns.

    The usage and cost resources note it as they read; the Claude Code walk, which must ask
    day by day, stops there. Run on its own, the walk asks the usage report once.
    """

    def __init__(self, client: RESTClient) -> None:
        self.client = client
        self.day: date | None = None

    def note(self, bucket_start: datetime | None) -> None:
        if bucket_start is not None and (self.day is None or bucket_start.date() > self.day):
            self.day = bucket_start.date()

    def since(self, start: datetime) -> date | None:
        if self.day is None:
            for page in self.client.paginate(
                MESSAGES_PATH,
                params=_report_params(start, wall_clock(), limit=MAX_DAILY_BUCKETS),
                paginator=report_paginator(),
            ):
                for bucket in page:
                    try:
                        self.note(to_timestamp(bucket["starting_at"]))
                    except (KeyError, TypeError, ValueError):
                        continue  # the reports quarantine such buckets; here it only hints
        return self.day


def _report_params(start: datetime, end: datetime, **params: Any) -> dict[str, Any]:
    return {
        "starting_at": rfc3339(start),
        "ending_at": rfc3339(end),
        "bucket_width": "1d",
        **params,
    }


# --- reports -----------------------------------------------------------------------------


def claude_code_usage(
    client: RESTClient, window: ReportWindow, api_day: ApiDay, quarantine: Quarantine
) -> DltResource:
    conformer = Conformer(
        "claude_code_usage",
        CLAUDE_CODE_COLUMNS,
        _project_claude_code,
        quarantine,
        ignored=("date",),
    )

    @dlt.resource(
        name="claude_code_usage",
        primary_key="row_key",
        write_disposition="merge",
        columns=CLAUDE_CODE_COLUMNS,
        # Nested hints take named columns (dlt names only a resource's own `columns`).
        nested_hints={
            "model_breakdown": {
                "columns": {
                    name: {**c, "name": name} for name, c in MODEL_BREAKDOWN_COLUMNS.items()
                }
            }
        },
        schema_contract=SCHEMA_CONTRACT,
    )
    def _claude_code_usage() -> Iterator[list[dict[str, Any]]]:
        """One request (or more, past 1,000 actors) per day, from the cursor to the API's day
        (or over the window's days)."""
        state = dlt.current.resource_state()
        cursor = state.get("newest_day")
        start = window.start(cursor, CLAUDE_CODE_LOOKBACK)
        last = (window.end() - DAY).date() if window.fixed else api_day.since(start)
        if last is None:
            return
        days = [start.date() + DAY * n for n in range((last - start.date()).days + 1)]
        # Days holding records an earlier load quarantined, read again when not in the window.
        again = {date.fromisoformat(d) for d in quarantine.parents(conformer.resource)}
        for day in sorted(again.union(days)):
            rows_of = conformer.under(day.isoformat())
            for page in client.paginate(
                CLAUDE_CODE_PATH,
                params={"starting_at": day.isoformat(), "limit": CLAUDE_CODE_LIMIT},
                paginator=report_paginator(),
            ):
                rows = rows_of.rows(page)
                if rows:
                    yield rows
            quarantine.children_read(conformer.resource, day.isoformat())
        state["newest_day"] = later(cursor, last.isoformat())

    return _claude_code_usage()


# --- reference lists ---------------------------------------------------------------------


# --- projections -------------------------------------------------------------------------


def _project_usage(result: dict[str, Any]) -> dict[str, Any]:
    cache_creation = result.get("cache_creation") or {}
    server_tools = result.get("server_tool_use") or {}
    return {
        **bucket_fields(result, USAGE_GROUP_BY),
        "uncached_input_tokens": result.get("uncached_input_tokens"),
        "cache_creation_5m_input_tokens": cache_creation.get("ephemeral_5m_input_tokens"),
        "cache_creation_1h_input_tokens": cache_creation.get("ephemeral_1h_input_tokens"),
        "cache_read_input_tokens": result.get("cache_read_input_tokens"),
        "output_tokens": result.get("output_tokens"),
        "web_search_requests": server_tools.get("web_search_requests"),
    }


def _project_cost(result: dict[str, Any]) -> dict[str, Any]:
    amount = result["amount"]
    return {
        **bucket_fields(result, COST_DIMS),
        "amount": str(amount),
        "amount_usd": exact_decimal(amount) / 100,  # exact: cents to dollars
        "currency": result.get("currency"),
    }


# Daily buckets grouped by every dimension the API offers: the finest grain.
MESSAGES_USAGE = Report(
    name="messages_usage",
    columns=MESSAGES_USAGE_COLUMNS,
    project=_project_usage,
    path=MESSAGES_PATH,
    params=lambda start, end: _report_params(
        start, end, limit=MAX_DAILY_BUCKETS, **{"group_by[]": list(USAGE_GROUP_BY)}
    ),
    start_field="starting_at",
    end_field="ending_at",
)
# Daily cost lines per workspace and description (model x token type).
COST_REPORT = Report(
    name="cost_report",
    columns=COST_REPORT_COLUMNS,
    project=_project_cost,
    path=COST_PATH,
    params=lambda start, end: _report_params(
        start, end, limit=MAX_DAILY_BUCKETS, **{"group_by[]": list(COST_GROUP_BY)}
    ),
    start_field="starting_at",
    end_field="ending_at",
)


def _project_claude_code(record: dict[str, Any]) -> dict[str, Any]:
    actor = record["actor"]
    usage_date = to_timestamp(record["date"]).date()
    identity = {
        "actor_type": actor["type"],
        "actor_email_address": actor.get("email_address"),
        "actor_api_key_name": actor.get("api_key_name"),
        "terminal_type": record.get("terminal_type"),
    }
    key = row_key(usage_date.isoformat(), *identity.values())
    core = record.get("core_metrics") or {}
    lines = core.get("lines_of_code") or {}
    row = {
        "row_key": key,
        "usage_date": usage_date,
        **identity,
        "organization_id": record.get("organization_id"),
        "customer_type": record.get("customer_type"),
        "subscription_type": record.get("subscription_type"),
        "num_sessions": core.get("num_sessions"),
        "lines_added": lines.get("added"),
        "lines_removed": lines.get("removed"),
        "commits_by_claude_code": core.get("commits_by_claude_code"),
        "pull_requests_by_claude_code": core.get("pull_requests_by_claude_code"),
    }
    for tool, counts in (record.get("tool_actions") or {}).items():
        row[f"{tool}_accepted"] = _count((counts or {}).get("accepted"))
        row[f"{tool}_rejected"] = _count((counts or {}).get("rejected"))
    row["model_breakdown"] = [
        _project_model_breakdown(key, item) for item in record.get("model_breakdown") or []
    ]
    return row


def _project_model_breakdown(usage_row_key: str, item: dict[str, Any]) -> dict[str, Any]:
    tokens = item.get("tokens") or {}
    cost = item.get("estimated_cost") or {}
    amount = cost.get("amount")
    return {
        "usage_row_key": usage_row_key,
        "model": item.get("model"),
        "input_tokens": _count(tokens.get("input")),
        "output_tokens": _count(tokens.get("output")),
        "cache_read_tokens": _count(tokens.get("cache_read")),
        "cache_creation_tokens": _count(tokens.get("cache_creation")),
        "estimated_cost_cents": None if amount is None else exact_decimal(amount),
        "estimated_cost_currency": cost.get("currency"),
    }


def _count(value: Any) -> int | None:
    """A whole count from the API, or a ValueError that quarantines its record."""
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float) or value != int(value):
        raise ValueError(f"{value!r:.40} is not a count")
    return int(value)


def _project_workspace(workspace: dict[str, Any]) -> dict[str, Any]:
    return {
        "id": workspace["id"],
        "name": workspace.get("name"),
        "created_at": workspace.get("created_at"),
        "archived_at": workspace.get("archived_at"),
        "display_color": workspace.get("display_color"),
    }


def _project_api_key(key: dict[str, Any]) -> dict[str, Any]:
    created_by = key.get("created_by") or {}
    return {
        "id": key["id"],
        "name": key.get("name"),
        "workspace_id": key.get("workspace_id"),
        "status": key.get("status"),
        "created_at": key.get("created_at"),
        "created_by_id": created_by.get("id"),
        "created_by_type": created_by.get("type"),
        "partial_key_hint": key.get("partial_key_hint"),
    }


# Reference lists, re-read whole every run.
WORKSPACES = ReferenceList(
    name="workspaces",
    columns=WORKSPACE_COLUMNS,
    project=_project_workspace,
    path="/v1/organizations/workspaces",
    cursor_param="after_id",
    params={"limit": LIST_LIMIT},
    ignored=("type",),
)
API_KEYS = ReferenceList(
    name="api_keys",
    columns=API_KEY_COLUMNS,
    project=_project_api_key,
    path="/v1/organizations/api_keys",
    cursor_param="after_id",
    params={"limit": LIST_LIMIT},
    ignored=("type",),
)
