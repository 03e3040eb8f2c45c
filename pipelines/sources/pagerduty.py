"""dlt source `pagerduty`: PagerDuty REST API v2 -> dataset `raw_pagerduty`.

Configuration follows dlt's convention (env vars or .dlt/ toml):
  SOURCES__PAGERDUTY__BASE_URL    e.g. https://api.pagerduty.com (the default)
  SOURCES__PAGERDUTY__API_KEY     secret; sent only as `Authorization: Token token=<key>`
  SOURCES__PAGERDUTY__START_DATE  optional ISO date/time: ignore incidents created and log
                                  entries written before it. Default: 365 days before the run
                                  (`/incidents` has no open-ended range: every request names a
                                  window of at most 6 months, so the first run needs a start).

Tables:
  services              id, name, description (free text; often names the repository), teams
  users                 id, name, email, role, teams: the identities incidents point at
  incident_log_entries  one row per log entry (trigger, acknowledge, annotate, resolve, ...);
                        `note` keeps an annotation's text verbatim (PR and deployment links)
  incidents             one row per incident, its current status, service, teams, assignees

Incremental design: the account-wide log (`GET /log_entries`) is the change feed. Every
incident change PagerDuty records (trigger, acknowledge, note, resolve, reassign, ...) is a
log entry, so one run reads:
  1. log entries written since the `created_at` cursor minus LOG_LAG (1 hour, for entries
     recorded a little after their timestamp); they load as rows and name the incidents that
     changed;
  2. incidents created since the `created_at` cursor minus LOOKBACK (3 days): new incidents
     plus recent ones, in one list page for most organisations; incidents stay open for hours
     (at most about two days in the simulated organisation), so the incidents that change are
     mostly inside it, and edits PagerDuty does not log (a retitle) are caught there too;
  3. `GET /incidents/{id}` for each changed incident older than the look-back (a note on a
     last month's incident), so a late change is never missed however old the incident is.
Services and users have no change filter; they are one or two pages and re-read every run.
Both cursors live in dlt resource state and commit with the data; every table merges on `id`.

`/incidents` and `/log_entries` take `since`/`until` at most 6 months apart (we always send
both: without them the API silently answers the last 30 days), and offset paging stops at
10,000 records: a window that full is narrowed to the records not yet read and read again.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import quote

import dlt
from dlt.common.typing import TSecretStrValue
from dlt.sources import DltResource
from dlt.sources.helpers.rest_client import RESTClient
from dlt.sources.helpers.rest_client.auth import APIKeyAuth
from dlt.sources.helpers.rest_client.client import PageData
from dlt.sources.helpers.rest_client.paginators import OffsetPaginator
from requests import HTTPError

from pipelines.sources.contract import (
    SCHEMA_CONTRACT,
    Conformer,
    Quarantine,
    to_timestamp,
)
from pipelines.sources.cursors import later, window_start
from pipelines.sources.record_keys import PAGERDUTY_KEYS
from pipelines.sources.rest import rest_client
from pipelines.sources.tables import RECORD, Column, Table

SOURCE_NAME = "pagerduty"
DATASET_NAME = "raw_pagerduty"
DEFAULT_BASE_URL = "https://api.pagerduty.com"

DEFAULT_HISTORY = timedelta(days=365)
LOOKBACK = timedelta(days=3)  # incidents: re-read those created this long before the cursor
LOG_LAG = timedelta(hours=1)  # log entries: re-read this long before the cursor
MAX_WINDOW = timedelta(days=180)  # within the API's 6 months, whatever the months' lengths
PAGE_LIMIT = 100  # the API's maximum
OFFSET_CEILING = 10_000  # offset + limit may not exceed it

# Hypermedia and the vendor's object type name: they describe the API, not the data.
API_NOISE = ("self", "type", "summary")

# The marts that read an incident's status and times (failed changes, time to restore).
INCIDENT_MARTS = ("mart_dora", "mart_dora_summary")


# --- tables -----------------------------------------------------------------------------------


def reference_ids(refs: Any) -> list[str]:
    """The ids of a list of references, skipping empty ones."""
    return [ref["id"] for ref in refs or [] if isinstance(ref, dict) and ref.get("id")]


def _assignee_ids(assignments: Any) -> list[str]:
    return reference_ids([a.get("assignee") for a in assignments or [] if a])


def _priority_name(priority: dict[str, Any] | None) -> Any:
    priority = priority or {}
    return priority.get("name") or priority.get("summary")


def _note(entry: dict[str, Any]) -> Any:
    """PagerDuty keeps a note's text in the annotation's channel summary."""
    if entry.get("type") != "annotate_log_entry":
        return None
    return (entry.get("channel") or {}).get("summary")


INCIDENTS = Table(
    "incidents",
    [
        Column("id", nullable=False),
        Column("incident_number", "bigint"),
        Column("title"),
        Column("description"),
        # triggered, acknowledged or resolved
        Column("status", required_for=INCIDENT_MARTS),
        Column("urgency"),
        # the priority's name, e.g. P1; null when unset
        Column("priority", derive=_priority_name),
        Column("service_id", path="service.id"),
        Column("service_name", path="service.summary"),
        Column("team_ids", "json", path="teams", derive=reference_ids),  # JSON array of team ids
        # current assignees; PagerDuty clears them on resolve
        Column("assignee_ids", "json", path="assignments", derive=_assignee_ids),
        Column("incident_key"),
        Column("created_at", "timestamp", nullable=False),
        Column("updated_at", "timestamp"),
        Column("last_status_change_at", "timestamp"),
        Column("resolved_at", "timestamp", set_when={"status": "resolved"}),
        Column("html_url"),
        # Optional in PagerDuty's answers (older accounts, other API versions leave them out).
        Column("assigned_via"),  # how it was assigned: escalation_policy, direct...
        Column("is_mergeable", "bool"),
    ],
    ignored=API_NOISE,
)

LOG_ENTRIES = Table(
    "incident_log_entries",
    [
        Column("id", nullable=False),
        # Not strict: an entry without its incident has a null id, which the contract refuses
        # as null.
        Column("incident_id", nullable=False, path="incident.id", strict=False),
        Column("type", nullable=False),  # as served, e.g. annotate_log_entry
        Column("created_at", "timestamp", nullable=False),
        Column("agent_type", path="agent.type"),  # user_reference, service_reference, ...
        Column("agent_id", path="agent.id"),
        Column("summary"),
        Column("channel_type", path="channel.type"),
        Column("note", path=RECORD, derive=_note),  # an annotation's text, verbatim
        Column("service_id", path="service.id"),
    ],
    ignored=API_NOISE,
)

SERVICES = Table(
    "services",
    [
        Column("id", nullable=False),
        Column("name"),
        Column("description"),
        Column("status"),
        Column("team_ids", "json", path="teams", derive=reference_ids),
        Column("html_url"),
    ],
    ignored=API_NOISE,
)

USERS = Table(
    "users",
    [
        Column("id", nullable=False),
        Column("name"),
        Column("email"),
        Column("role"),
        Column("time_zone"),
        Column("team_ids", "json", path="teams", derive=reference_ids),
        Column("html_url"),
    ],
    ignored=API_NOISE,
)


@dlt.source(name=SOURCE_NAME, section=SOURCE_NAME, max_table_nesting=1)
def pagerduty(
    api_key: TSecretStrValue = dlt.secrets.value,
    base_url: str = DEFAULT_BASE_URL,
    start_date: str | None = None,
) -> Sequence[DltResource]:
    """PagerDuty services, users, incident log entries and incidents.

    The log entries resource runs before incidents (resources extract in the order listed)
    and tells it which incidents changed.
    """
    client = rest_client(
        base_url,
        APIKeyAuth(name="Authorization", api_key=f"Token token={api_key}", location="header"),
        headers={"Accept": "application/vnd.pagerduty+json;version=2"},
    )
    quarantine = Quarantine(SOURCE_NAME, PAGERDUTY_KEYS)
    changed: set[str] = set()  # incident ids named by the log entries read in this run
    return [
        _dimension(client, SERVICES, quarantine),
        _dimension(client, USERS, quarantine),
        incident_log_entries(client, start_date, changed, quarantine),
        incidents(client, start_date, changed, quarantine),
        quarantine.resource(),
    ]


# --- resources --------------------------------------------------------------------------------


def _dimension(client: RESTClient, table: Table, quarantine: Quarantine) -> DltResource:
    """A small list re-read in full every run (`/services`, `/users`)."""
    conformer = Conformer.of(table, quarantine)
    name = table.name

    @dlt.resource(
        name=name,
        primary_key="id",
        write_disposition="merge",
        columns=table.hints,
        schema_contract=SCHEMA_CONTRACT,
    )
    def _list() -> Iterator[list[dict[str, Any]]]:
        for page in client.paginate(f"/{name}", paginator=_paginator(), data_selector=name):
            rows = conformer.rows(page)
            if rows:
                yield rows

    return _list()


def incident_log_entries(
    client: RESTClient, start_date: str | None, changed: set[str], quarantine: Quarantine
) -> DltResource:
    conformer = Conformer.of(LOG_ENTRIES, quarantine, parent_of=_incident_of)

    @dlt.resource(
        name="incident_log_entries",
        primary_key="id",
        write_disposition="merge",
        columns=LOG_ENTRIES.hints,
        schema_contract=SCHEMA_CONTRACT,
    )
    def _incident_log_entries() -> Iterator[list[dict[str, Any]]]:
        """The account-wide log since the cursor; records the incidents it names."""
        state = dlt.current.resource_state()
        newest = state.get("created_at")
        since = window_start(newest, _start(start_date), LOG_LAG)
        # Overview entries leave out the per-user notifications, the bulk of a real log.
        params = {"is_overview": "true"}
        read: set[str] = set()
        for page in _window_pages(client, "log_entries", params, since, newest_first=True):
            rows = conformer.rows(page)
            if rows:
                changed.update(row["incident_id"] for row in rows)
                newest = later(newest, *(row["created_at"].isoformat() for row in rows))
                read.update(row["id"] for row in rows)
                yield rows
        yield from _entries_again(client, conformer, params, read)
        if newest is not None:
            state["created_at"] = newest

    return _incident_log_entries()


def incidents(
    client: RESTClient, start_date: str | None, changed: set[str], quarantine: Quarantine
) -> DltResource:
    conformer = Conformer.of(INCIDENTS, quarantine)

    @dlt.resource(
        name="incidents",
        primary_key="id",
        write_disposition="merge",
        columns=INCIDENTS.hints,
        schema_contract=SCHEMA_CONTRACT,
    )
    def _incidents() -> Iterator[list[dict[str, Any]]]:
        """Incidents created since the cursor minus the look-back, then the older incidents
        the log says changed."""
        state = dlt.current.resource_state()
        cursor = state.get("created_at")
        floor = _start(start_date)
        since = window_start(cursor, floor, LOOKBACK)
        newest, listed = cursor, set()
        params = {"sort_by": "created_at:asc"}
        for page in _window_pages(client, "incidents", params, since, newest_first=False):
            listed.update(record.get("id") for record in page if isinstance(record, dict))
            rows = conformer.rows(page)
            if rows:
                newest = later(newest, *(row["created_at"].isoformat() for row in rows))
                yield rows
        # On a first run everything since the start was listed: what is left is older.
        older = changed - listed if cursor is not None else set()
        # Incidents an earlier load quarantined and this run did not read: fetched again by id,
        # so a record rejected once is not lost when the window passes it.
        older |= {key for key, _ in quarantine.unread("incidents")} - listed
        rows = [
            row
            for row in _fetch_incidents(client, sorted(older), conformer)
            if row["created_at"] >= floor
        ]
        if rows:
            yield rows
        if newest is not None:
            state["created_at"] = newest

    return _incidents()


def _entries_again(
    client: RESTClient, conformer: Conformer, params: dict[str, Any], read: set[str]
) -> Iterator[list[dict[str, Any]]]:
    """The log of each incident holding an entry an earlier load quarantined, read again
    whole (`/incidents/{id}/log_entries`): the account-wide walk never goes back. Entries
    this run read already are left out; an incident gone since (404) resolves its entries."""
    for incident_id in conformer.quarantine.parents(conformer.resource):
        path = f"/incidents/{quote(incident_id, safe='')}/log_entries"
        try:
            for page in client.paginate(
                path, params=params, paginator=_paginator(), data_selector="log_entries"
            ):
                if rows := conformer.unread_rows(page, read):
                    yield rows
        except HTTPError as exc:
            if exc.response is None or exc.response.status_code != 404:
                raise
        conformer.quarantine.children_read(conformer.resource, incident_id)


def _incident_of(entry: dict[str, Any]) -> str | None:
    """A log entry's parent key: the id of the incident it belongs to."""
    incident_id = (entry.get("incident") or {}).get("id")
    return str(incident_id) if incident_id else None


def _fetch_incidents(
    client: RESTClient, ids: list[str], conformer: Conformer
) -> Iterator[dict[str, Any]]:
    """One GET per incident id; an incident gone since (404) is skipped."""
    for incident_id in ids:
        response = client.get(f"/incidents/{quote(incident_id, safe='')}")
        if response.status_code == 404:
            continue
        response.raise_for_status()
        row = conformer.row((response.json() or {}).get("incident"))
        if row is not None:
            yield row


# --- windows and pages ------------------------------------------------------------------------


def utc_now() -> datetime:
    """The end of every window read (a function, so tests can pin it)."""
    return datetime.now(UTC)


def _start(start_date: str | None) -> datetime:
    return to_timestamp(start_date) if start_date else utc_now() - DEFAULT_HISTORY


def _paginator() -> OffsetPaginator:
    return OffsetPaginator(
        limit=PAGE_LIMIT,
        maximum_offset=OFFSET_CEILING,
        total_path=None,  # `total` is null unless asked for; `more` says when to stop
        has_more_path="more",
    )


def _windows(since: datetime, until: datetime) -> Iterator[tuple[datetime, datetime]]:
    """[since, until) in consecutive windows the API accepts."""
    lo = since
    while lo < until:
        hi = min(lo + MAX_WINDOW, until)
        yield lo, hi
        lo = hi


def _window_pages(
    client: RESTClient,
    key: str,
    params: dict[str, Any],
    since: datetime | None,
    *,
    newest_first: bool,
) -> Iterator[PageData[Any]]:
    """Every page of `/<key>` created in [since, now), window by window.

    When a window holds more than offset paging reaches, it is narrowed past the records
    read (records sharing the edge second are read twice; the merge dedupes them).
    `newest_first` says the endpoint's order: log entries are newest first, incidents are
    asked for oldest first.
    """
    until = utc_now() + timedelta(seconds=1)  # `until` is exclusive and whole seconds
    for lo, hi in _windows(since or until, until):
        while True:
            last = None
            query = {**params, "since": _iso(lo), "until": _iso(hi)}
            for page in client.paginate(
                f"/{key}", params=query, paginator=_paginator(), data_selector=key
            ):
                last = page
                yield page
            if last is None or not last or not last.response.json().get("more"):
                break
            lo, hi = _narrow(last, lo, hi, newest_first)


def _narrow(
    page: list[Any], lo: datetime, hi: datetime, newest_first: bool
) -> tuple[datetime, datetime]:
    """The part of [lo, hi) not read yet, from the last page before the offset ceiling."""
    times = [t for t in (_created_at(record) for record in page) if t is not None]
    if newest_first and times and min(times) + timedelta(seconds=1) < hi:
        return lo, min(times) + timedelta(seconds=1)
    if not newest_first and times and max(times) > lo:
        return max(times), hi
    raise RuntimeError(
        f"more than {OFFSET_CEILING} records created within one second near {_iso(lo)}: "
        "offset paging cannot reach them"
    )


def _created_at(record: Any) -> datetime | None:
    try:
        return to_timestamp(record["created_at"])
    except (KeyError, TypeError, ValueError):
        return None


def _iso(ts: datetime) -> str:
    return ts.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
