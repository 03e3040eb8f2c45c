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
from decimal import Decimal
from operator import itemgetter
from typing import Any

import dlt
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
from pipelines.sources.tables import Table

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
TOOLS = ("edit_tool", "multi_edit_tool", "write_tool", "notebook_edit_tool")


# --- tables ------------------------------------------------------------------------------


def _report_params(start: datetime, end: datetime, **params: Any) -> dict[str, Any]:
    return {
        "starting_at": rfc3339(start),
        "ending_at": rfc3339(end),
        "bucket_width": "1d",
        **params,
    }


def _cents_to_usd(amount: Any) -> Decimal:
    return exact_decimal(amount) / 100  # exact: cents to dollars


# Daily buckets grouped by every dimension the API offers: the finest grain.
MESSAGES_USAGE = Report(
    Table(
        "messages_usage",
        [
            *bucket_columns(USAGE_GROUP_BY),
            *(column(dim) for dim in USAGE_GROUP_BY),
            column("uncached_input_tokens", "bigint"),
            column(
                "cache_creation_5m_input_tokens",
                "bigint",
                path="cache_creation.ephemeral_5m_input_tokens",
            ),
            column(
                "cache_creation_1h_input_tokens",
                "bigint",
                path="cache_creation.ephemeral_1h_input_tokens",
            ),
            column("cache_read_input_tokens", "bigint"),
            column("output_tokens", "bigint"),
            column("web_search_requests", "bigint", path="server_tool_use.web_search_requests"),
        ],
    ),
    path=MESSAGES_PATH,
    params=lambda start, end: _report_params(
        start, end, limit=MAX_DAILY_BUCKETS, **{"group_by[]": list(USAGE_GROUP_BY)}
    ),
    start_field="starting_at",
    end_field="ending_at",
)
# Daily cost lines per workspace and description (model x token type).
COST_REPORT = Report(
    Table(
        "cost_report",
        [
            *bucket_columns(COST_DIMS),
            *(column(dim) for dim in COST_DIMS),
            column("amount", nullable=False, derive=str),  # cents, the API's decimal string
            usd_decimal("amount_usd", nullable=False, path="amount", derive=_cents_to_usd),
            column("currency"),
        ],
    ),
    path=COST_PATH,
    params=lambda start, end: _report_params(
        start, end, limit=MAX_DAILY_BUCKETS, **{"group_by[]": list(COST_GROUP_BY)}
    ),
    start_field="starting_at",
    end_field="ending_at",
)


def _count(value: Any) -> int | None:
    """A whole count from the API, or a ValueError that quarantines its record."""
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float) or value != int(value):
        raise ValueError(f"{value!r:.40} is not a count")
    return int(value)


def _cents(amount: Any) -> Decimal | None:
    return None if amount is None else exact_decimal(amount)


# A Claude Code record's tokens and estimated cost per model, keyed by the record's row.
MODEL_BREAKDOWN = Table(
    "claude_code_usage__model_breakdown",
    [
        column("usage_row_key", nullable=False, context=True),
        column("model"),
        column("input_tokens", "bigint", path="tokens.input", derive=_count),
        column("output_tokens", "bigint", path="tokens.output", derive=_count),
        column("cache_read_tokens", "bigint", path="tokens.cache_read", derive=_count),
        column("cache_creation_tokens", "bigint", path="tokens.cache_creation", derive=_count),
        usd_decimal("estimated_cost_cents", path="estimated_cost.amount", derive=_cents),
        column("estimated_cost_currency", path="estimated_cost.currency"),
    ],
)


def _day(value: Any) -> date:
    return to_timestamp(value).date()


# What tells Claude Code records apart, besides their day.
_IDENTITY = itemgetter("actor_type", "actor_email_address", "actor_api_key_name", "terminal_type")


def _key_tools_and_models(row: dict[str, Any], record: dict[str, Any]) -> None:
    """The row's key (the md5 of its day and identity); the accepted and rejected edits of
    each tool the record lists (one the API adds becomes a column of its own); the record's
    `model_breakdown` rows, keyed by the row's."""
    row["row_key"] = row_key(row["usage_date"].isoformat(), *_IDENTITY(row))
    for tool, counts in (record.get("tool_actions") or {}).items():
        row[f"{tool}_accepted"] = _count((counts or {}).get("accepted"))
        row[f"{tool}_rejected"] = _count((counts or {}).get("rejected"))
    models = MODEL_BREAKDOWN.projection(usage_row_key=row["row_key"])
    row["model_breakdown"] = [models(item) for item in record.get("model_breakdown") or []]


CLAUDE_CODE = Table(
    "claude_code_usage",
    [
        column("row_key", nullable=False, set_by_finish=True),
        column("usage_date", "date", nullable=False, path="date", derive=_day),
        column("actor_type", nullable=False, path="actor", derive=itemgetter("type")),
        column("actor_email_address", path="actor.email_address"),
        column("actor_api_key_name", path="actor.api_key_name"),
        column("organization_id"),
        column("customer_type"),
        column("subscription_type"),
        column("terminal_type"),
        column("num_sessions", "bigint", path="core_metrics.num_sessions"),
        column("lines_added", "bigint", path="core_metrics.lines_of_code.added"),
        column("lines_removed", "bigint", path="core_metrics.lines_of_code.removed"),
        column("commits_by_claude_code", "bigint", path="core_metrics.commits_by_claude_code"),
        column(
            "pull_requests_by_claude_code",
            "bigint",
            path="core_metrics.pull_requests_by_claude_code",
        ),
        *(
            column(f"{tool}_{verdict}", "bigint", set_by_finish=True)
            for tool in TOOLS
            for verdict in ("accepted", "rejected")
        ),
    ],
    ignored=("date",),
    finish=_key_tools_and_models,
)

# Reference lists, re-read whole every run.
WORKSPACES = ReferenceList(
    Table(
        "workspaces",
        [
            column("id", nullable=False),
            column("name"),
            column("created_at", "timestamp"),
            column("archived_at", "timestamp"),
            column("display_color"),
        ],
        ignored=("type",),
    ),
    path="/v1/organizations/workspaces",
    cursor_param="after_id",
    params={"limit": LIST_LIMIT},
)
API_KEYS = ReferenceList(
    Table(
        "api_keys",
        [
            column("id", nullable=False),
            column("name"),
            column("workspace_id"),
            column("status"),
            column("created_at", "timestamp"),
            column("created_by_id", path="created_by.id"),
            column("created_by_type", path="created_by.type"),
            column("partial_key_hint"),
        ],
        ignored=("type",),
    ),
    path="/v1/organizations/api_keys",
    cursor_param="after_id",
    params={"limit": LIST_LIMIT},
)


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


# --- resources ---------------------------------------------------------------------------


def claude_code_usage(
    client: RESTClient, window: ReportWindow, api_day: ApiDay, quarantine: Quarantine
) -> DltResource:
    conformer = Conformer.of(CLAUDE_CODE, quarantine)

    @dlt.resource(
        name="claude_code_usage",
        primary_key="row_key",
        write_disposition="merge",
        columns=CLAUDE_CODE.hints,
        nested_hints={"model_breakdown": MODEL_BREAKDOWN.nested_hints()},
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
