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
from typing import Any

import dlt
from dlt.common.schema.typing import TTableSchemaColumns
from dlt.common.typing import TSecretStrValue
from dlt.sources import DltResource
from dlt.sources.helpers.rest_client import RESTClient
from dlt.sources.helpers.rest_client.auth import BearerTokenAuth

from pipelines.sources.billing_buckets import (
    ReferenceList,
    Report,
    ReportWindow,
    bucket_columns,
    bucket_fields,
    column,
    exact_decimal,
    list_paginator,
    reference_resource,
    report_resource,
    usd_decimal,
)
from pipelines.sources.contract import SCHEMA_CONTRACT, Conformer, Quarantine
from pipelines.sources.rest import rest_client

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

COMPLETIONS_COLUMNS: TTableSchemaColumns = {
    **bucket_columns(),
    **{dim: column("text") for dim in USAGE_GROUP_BY if dim != "batch"},
    "batch": column("bool"),
    "input_tokens": column("bigint"),
    "input_cached_tokens": column("bigint"),
    "output_tokens": column("bigint"),
    "num_model_requests": column("bigint"),
}
COSTS_COLUMNS: TTableSchemaColumns = {
    **bucket_columns(),
    **{dim: column("text") for dim in COST_GROUP_BY},
    "amount_usd": usd_decimal(nullable=False),
    "currency": column("text"),
}
PROJECT_COLUMNS: TTableSchemaColumns = {
    "id": column("text", nullable=False),
    "name": column("text"),
    "status": column("text"),
    "created_at": column("timestamp"),
    "archived_at": column("timestamp"),
}
USER_COLUMNS: TTableSchemaColumns = {
    "id": column("text", nullable=False),
    "name": column("text"),
    "email": column("text"),
    "role": column("text"),
    "added_at": column("timestamp"),
}
API_KEY_COLUMNS: TTableSchemaColumns = {
    "id": column("text", nullable=False),
    "project_id": column("text", nullable=False),
    "name": column("text"),
    "redacted_value": column("text"),
    "created_at": column("timestamp"),
    "last_used_at": column("timestamp"),
    "owner_type": column("text"),  # user or service_account
    "owner_id": column("text"),
    "owner_name": column("text"),
    "owner_email": column("text"),  # users only
    "owner_role": column("text"),
}


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


# --- reports -----------------------------------------------------------------------------


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


def api_keys(client: RESTClient, quarantine: Quarantine) -> DltResource:
    conformer = Conformer(
        "api_keys", API_KEY_COLUMNS, _project_api_key, quarantine, ignored=("object", "owner")
    )

    @dlt.transformer(
        name="api_keys",
        primary_key="id",
        write_disposition="merge",
        columns=API_KEY_COLUMNS,
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


# --- projections -------------------------------------------------------------------------


def _project_usage(result: dict[str, Any]) -> dict[str, Any]:
    return {
        **bucket_fields(result, USAGE_GROUP_BY),
        "input_tokens": result.get("input_tokens"),
        "input_cached_tokens": result.get("input_cached_tokens"),
        "output_tokens": result.get("output_tokens"),
        "num_model_requests": result.get("num_model_requests"),
    }


def _project_cost(result: dict[str, Any]) -> dict[str, Any]:
    amount = result["amount"]
    return {
        **bucket_fields(result, COST_GROUP_BY),
        # The float's shortest repr: the decimal the API meant, as far as a float can carry it.
        "amount_usd": exact_decimal(amount["value"]),
        "currency": amount.get("currency"),
    }


# Daily buckets grouped by every dimension the API offers: the finest grain.
COMPLETIONS_USAGE = Report(
    name="completions_usage",
    columns=COMPLETIONS_COLUMNS,
    project=_project_usage,
    path=COMPLETIONS_PATH,
    params=lambda start, end: _report_params(start, end, USAGE_BUCKET_LIMIT, USAGE_GROUP_BY),
    start_field="start_time",
    end_field="end_time",
    ignored=("object",),
)
# Daily cost per project, line item (model x token kind) and API key.
COSTS = Report(
    name="costs",
    columns=COSTS_COLUMNS,
    project=_project_cost,
    path=COSTS_PATH,
    params=lambda start, end: _report_params(start, end, COSTS_BUCKET_LIMIT, COST_GROUP_BY),
    start_field="start_time",
    end_field="end_time",
    ignored=("object",),
)


def _project_project(project: dict[str, Any]) -> dict[str, Any]:
    return {
        "id": project["id"],
        "name": project.get("name"),
        "status": project.get("status"),
        "created_at": project.get("created_at"),
        "archived_at": project.get("archived_at"),
    }


def _project_user(user: dict[str, Any]) -> dict[str, Any]:
    return {
        "id": user["id"],
        "name": user.get("name"),
        "email": user.get("email"),
        "role": user.get("role"),
        "added_at": user.get("added_at"),
    }


def _project_api_key(key: dict[str, Any]) -> dict[str, Any]:
    owner = key.get("owner") or {}
    owner_type = owner.get("type")
    who = owner.get(owner_type) if isinstance(owner_type, str) else None
    who = who if isinstance(who, dict) else {}
    return {
        "id": key["id"],
        "project_id": key["project_id"],
        "name": key.get("name"),
        "redacted_value": key.get("redacted_value"),
        "created_at": key.get("created_at"),
        "last_used_at": key.get("last_used_at"),
        "owner_type": owner_type,
        "owner_id": who.get("id"),
        "owner_name": who.get("name"),
        "owner_email": who.get("email"),
        "owner_role": who.get("role"),
    }


# Reference lists, re-read whole every run.
# Archived projects too: their keys still name past usage.
PROJECTS = ReferenceList(
    name="projects",
    columns=PROJECT_COLUMNS,
    project=_project_project,
    path="/v1/organization/projects",
    cursor_param="after",
    params={"limit": LIST_LIMIT, "include_archived": "true"},
    ignored=("object",),
)
USERS = ReferenceList(
    name="users",
    columns=USER_COLUMNS,
    project=_project_user,
    path="/v1/organization/users",
    cursor_param="after",
    params={"limit": LIST_LIMIT},
    ignored=("object",),
)
