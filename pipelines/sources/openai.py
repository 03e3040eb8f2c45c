"""dlt source `openai`: the OpenAI organization (admin) API -> dataset `raw_openai`.

Configuration follows dlt's convention (env vars or .dlt/ toml):
  SOURCES__OPENAI__BASE_URL       default https://api.openai.com
  SOURCES__OPENAI__ADMIN_API_KEY  secret admin key, sent only as `Authorization: Bearer`
  SOURCES__OPENAI__START_DATE     optional ISO date: ignore days before it; without it (and
                                  without a cursor) a run reads the last 90 days

Tables (every report row carries `row_key`, the md5 of its natural key, and merges on it; see
pipelines.sources.billing_buckets):
  completions_usage  daily tokens per project x user x api key x model x batch x service
                     tier: input, cached input, output, requests; fields the API adds later
                     (audio, cache writes, ...) are kept as JSON text in `_extra`
  costs              daily cost per project x line item x api key: `amount_usd` an exact
                     DECIMAL of the float the API sends, `currency`
  projects, users    the organisation's projects and members (user id -> email)
  api_keys           each project's API keys with their owner (a user or a service account)
  quarantine         records that broke their table's contract

Cursors and look-back (dlt resource state, committed with the data):
  completions_usage, costs  the newest daily bucket returned; each run re-reads the 3 days
                            before it (late usage and cost), up to the wall clock; the API
                            publishes a day once it is over.
  projects, users, api_keys small lists, re-read whole every run and merged on `id`.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from datetime import datetime
from decimal import Decimal
from typing import Any

import dlt
from dlt.common.typing import TSecretStrValue
from dlt.sources import DltResource
from dlt.sources.helpers.rest_client import RESTClient
from dlt.sources.helpers.rest_client.auth import BearerTokenAuth

from pipelines.sources.billing_buckets import (
    ReferenceList,
    Report,
    ReportWindow,
    bucket_columns,
    column,
    exact_decimal,
    list_paginator,
    reference_resource,
    report_resource,
    usd_decimal,
)
from pipelines.sources.contract import SCHEMA_CONTRACT, Conformer, Quarantine
from pipelines.sources.rest import rest_client
from pipelines.sources.tables import Table

SOURCE_NAME = "openai"
DATASET_NAME = "raw_openai"
DEFAULT_BASE_URL = "https://api.openai.com"

COMPLETIONS_PATH = "/v1/organization/usage/completions"
COSTS_PATH = "/v1/organization/costs"
USAGE_BUCKET_LIMIT = 31  # daily buckets per page, the most the usage endpoints allow
COSTS_BUCKET_LIMIT = 180  # the costs endpoint allows more
LIST_LIMIT = 100

USAGE_GROUP_BY = ("project_id", "user_id", "api_key_id", "model", "batch", "service_tier")
COST_GROUP_BY = ("project_id", "line_item", "api_key_id")


# --- tables ------------------------------------------------------------------------------


def _report_params(
    start: datetime, end: datetime, limit: int, group_by: Sequence[str]
) -> dict[str, Any]:
    return {
        "start_time": int(start.timestamp()),
        "end_time": int(end.timestamp()),
        "bucket_width": "1d",
        "limit": limit,
        "group_by": list(group_by),
    }


def _amount_usd(amount: dict[str, Any]) -> Decimal:
    # The float's shortest repr: the decimal the API meant, as far as a float can carry it.
    return exact_decimal(amount["value"])


# Daily buckets grouped by every dimension the API offers: the finest grain.
COMPLETIONS_USAGE = Report(
    Table(
        "completions_usage",
        [
            *bucket_columns(USAGE_GROUP_BY),
            *(column(dim) for dim in USAGE_GROUP_BY if dim != "batch"),
            column("batch", "bool"),
            column("input_tokens", "bigint"),
            column("input_cached_tokens", "bigint"),
            column("output_tokens", "bigint"),
            column("num_model_requests", "bigint"),
        ],
        ignored=("object",),
    ),
    path=COMPLETIONS_PATH,
    params=lambda start, end: _report_params(start, end, USAGE_BUCKET_LIMIT, USAGE_GROUP_BY),
    start_field="start_time",
    end_field="end_time",
)
# Daily cost per project, line item (model x token kind) and API key.
COSTS = Report(
    Table(
        "costs",
        [
            *bucket_columns(COST_GROUP_BY),
            *(column(dim) for dim in COST_GROUP_BY),
            usd_decimal("amount_usd", nullable=False, path="amount", derive=_amount_usd),
            column("currency", path="amount.currency"),
        ],
        ignored=("object",),
    ),
    path=COSTS_PATH,
    params=lambda start, end: _report_params(start, end, COSTS_BUCKET_LIMIT, COST_GROUP_BY),
    start_field="start_time",
    end_field="end_time",
)

# Reference lists, re-read whole every run.
# Archived projects too: their keys still name past usage.
PROJECTS = ReferenceList(
    Table(
        "projects",
        [
            column("id", nullable=False),
            column("name"),
            column("status"),
            column("created_at", "timestamp"),
            column("archived_at", "timestamp"),
        ],
        ignored=("object",),
    ),
    path="/v1/organization/projects",
    cursor_param="after",
    params={"limit": LIST_LIMIT, "include_archived": "true"},
)
USERS = ReferenceList(
    Table(
        "users",
        [
            column("id", nullable=False),
            column("name"),
            column("email"),
            column("role"),
            column("added_at", "timestamp"),
        ],
        ignored=("object",),
    ),
    path="/v1/organization/users",
    cursor_param="after",
    params={"limit": LIST_LIMIT},
)


def _owner(owner: dict[str, Any] | None) -> dict[str, Any]:
    """The user or service account owning a key: the object `owner` names by its `type`."""
    owner = owner or {}
    kind = owner.get("type")
    who = owner.get(kind) if isinstance(kind, str) else None
    return who if isinstance(who, dict) else {}


# Each project's API keys, the project's id merged into them by the loader.
API_KEYS = Table(
    "api_keys",
    [
        column("id", nullable=False),
        column("project_id", nullable=False),
        column("name"),
        column("redacted_value"),
        column("created_at", "timestamp"),
        column("last_used_at", "timestamp"),
        column("owner_type", path="owner.type"),  # user or service_account
        column("owner_id", path="owner", derive=lambda owner: _owner(owner).get("id")),
        column("owner_name", path="owner", derive=lambda owner: _owner(owner).get("name")),
        # users only
        column("owner_email", path="owner", derive=lambda owner: _owner(owner).get("email")),
        column("owner_role", path="owner", derive=lambda owner: _owner(owner).get("role")),
    ],
    ignored=("object", "owner"),
)


@dlt.source(name=SOURCE_NAME, section=SOURCE_NAME, max_table_nesting=1)
def openai(
    admin_api_key: TSecretStrValue = dlt.secrets.value,
    base_url: str = DEFAULT_BASE_URL,
    start_date: str | None = None,
    end_date: str | None = None,
) -> Sequence[DltResource]:
    """Completions usage, costs, projects, users and project API keys. The reports read
    from their cursor, or exactly the days [start_date, end_date) when end_date is given."""
    window = ReportWindow(start_date, end_date)
    client = rest_client(base_url, BearerTokenAuth(admin_api_key), data_selector="data")
    quarantine = Quarantine(SOURCE_NAME)
    project_list = reference_resource(PROJECTS, client, quarantine)
    return [
        report_resource(COMPLETIONS_USAGE, client, window, quarantine),
        report_resource(COSTS, client, window, quarantine),
        project_list,
        reference_resource(USERS, client, quarantine),
        project_list | api_keys(client, quarantine),
        quarantine.resource(),
    ]


# --- resources ---------------------------------------------------------------------------


def api_keys(client: RESTClient, quarantine: Quarantine) -> DltResource:
    conformer = Conformer.of(API_KEYS, quarantine)

    @dlt.transformer(
        name="api_keys",
        primary_key="id",
        write_disposition="merge",
        columns=API_KEYS.hints,
        schema_contract=SCHEMA_CONTRACT,
    )
    def _api_keys(project_page: list[dict[str, Any]]) -> Iterator[list[dict[str, Any]]]:
        """Each project's keys (one list per project: the API has no organisation-wide one)."""
        for project in project_page:
            path = f"/v1/organization/projects/{project['id']}/api_keys"
            for page in client.paginate(
                path, params={"limit": LIST_LIMIT}, paginator=list_paginator("after")
            ):
                rows = conformer.rows({**key, "project_id": project["id"]} for key in page)
                if rows:
                    yield rows

    return _api_keys
