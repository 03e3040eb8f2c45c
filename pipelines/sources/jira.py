"""dlt source `jira`: Jira Cloud REST v3 -> dataset `raw_jira`.

Configuration follows dlt's convention (env vars or .dlt/ toml):
  SOURCES__JIRA__BASE_URL         the site, e.g. https://your-domain.atlassian.net (required)
  SOURCES__JIRA__EMAIL            the account the API token belongs to
  SOURCES__JIRA__API_TOKEN        secret; sent only through Basic auth (HttpBasicAuth)
  SOURCES__JIRA__PROJECTS         JSON list of project keys, e.g. '["PAY", "CHE"]'
  SOURCES__JIRA__START_DATE       optional ISO date/time: ignore issues last updated before it
  SOURCES__JIRA__CAUSED_BY_FIELD  the id of the "Caused by PR" custom field on this site
                                  (default customfield_10100; ids differ per site)
  SOURCES__JIRA__LOOKBACK_MINUTES optional, default 60: see "Cursor" below
  SOURCES__JIRA__CONCURRENCY      per-issue requests in flight at once (default 4)

Tables. `issues` (merge on `id`) holds one typed row per issue; an issue's lists are dlt
nested tables, so a re-loaded issue replaces all of its child rows (merge deletes the old ones
by `_dlt_root_id`) and nothing stale survives:
  issues                 id, key, project, type (id, localized name, subtask, hierarchy level),
                         parent, summary, description (ADF flattened to text), status and its
                         category key, resolution, priority, assignee/reporter account ids,
                         labels (JSON), caused_by_pr (the custom field), created, updated
  issues__changelog      one row per changed field of each history, oldest first: every
                         history, also those beyond the 100 the search inlines
  issues__links          one row per issue link as seen from this issue (Jira renders a link
                         on both issues), with the link read in its canonical direction
                         (`outward_issue_key` <outward_description> `inward_issue_key`) so
                         models can dedupe on `link_id`
  issues__remote_links   the issue's remote links (how bugs point at PRs), fetched for each
                         changed issue
Every child row also carries `issue_id` and `issue_key`, so models need not join on dlt ids.

Cursor. Issues come from the enhanced search (`/rest/api/3/search/jql`, nextPageToken pages,
changelog expanded) with `project in (...) AND updated >= "yyyy/MM/dd HH:mm" ORDER BY updated
ASC`. Each project keeps the newest `updated` loaded in dlt resource state (committed with the
data). Projects sharing a cursor are searched together: a project added to the configuration
later gets its own backfill, after which all share one cursor again. JQL dates are
minute-granular and read in the API user's time zone (asked once per run from /myself), so
each run re-reads from the cursor minus LOOKBACK_MINUTES (60, for updates the search index
shows late), floored to the minute. Issues re-read in that overlap whose `updated` has not
moved since they were loaded (ids kept in state for the look-back window only) are skipped:
no rows and no per-issue requests for them.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Sequence
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import dlt
from dlt.common.schema.typing import TTableSchemaColumns
from dlt.common.typing import TSecretStrValue
from dlt.sources import DltResource
from dlt.sources.helpers.rest_client import RESTClient
from dlt.sources.helpers.rest_client.auth import HttpBasicAuth
from dlt.sources.helpers.rest_client.paginators import (
    JSONResponseCursorPaginator,
    OffsetPaginator,
)

from pipelines.sources.contract import SCHEMA_CONTRACT, Conformer, Quarantine, to_timestamp
from pipelines.sources.cursors import later, window_start
from pipelines.sources.fanout import fetch_each
from pipelines.sources.field_rules import required_for
from pipelines.sources.record_keys import JIRA_KEYS
from pipelines.sources.rest import get_json, rest_client

SOURCE_NAME = "jira"
DATASET_NAME = "raw_jira"
API = "/rest/api/3"
DEFAULT_CAUSED_BY_FIELD = "customfield_10100"
MAX_RESULTS = 100  # the enhanced search's page cap when fields or the changelog are asked for
CHANGELOG_PAGE = 100  # the changelog endpoint's page cap
JQL_TIME = "%Y/%m/%d %H:%M"
# JQL dates are read in the API user's time zone; when Jira does not say which, widen the
# look-back by the largest UTC offset there is.
UNKNOWN_ZONE_MARGIN = timedelta(hours=14)

ISSUE_FIELDS = (
    "summary",
    "description",
    "issuetype",
    "parent",
    "project",
    "status",
    "statuscategorychangedate",
    "resolution",
    "resolutiondate",
    "priority",
    "assignee",
    "reporter",
    "labels",
    "issuelinks",
    "created",
    "updated",
)

# The marts that read an issue's type, status and creation (bugs and their causes).
DEFECT_MARTS = ("mart_bugs_per_shipped_pr", "mart_unattributed_defects", "mart_production_survival")

ISSUE_COLUMNS: TTableSchemaColumns = {
    "id": {"data_type": "bigint", "nullable": False},
    "key": {"data_type": "text", "nullable": False},
    "project_id": {"data_type": "text"},
    "project_key": {"data_type": "text"},
    # Type names are in the project's language (缺陷 for Bug): models map on the id.
    "issuetype_id": {"data_type": "text", **required_for(*DEFECT_MARTS, field="fields.issuetype")},
    "issuetype_name": {"data_type": "text"},
    "issuetype_subtask": {"data_type": "bool"},
    "issuetype_hierarchy_level": {"data_type": "bigint"},
    "parent_id": {"data_type": "bigint"},
    "parent_key": {"data_type": "text"},
    "summary": {"data_type": "text"},
    # Plain text flattened from the ADF document; link targets are kept (PR URLs live here).
    "description": {"data_type": "text"},
    "status_id": {"data_type": "text"},
    "status_name": {"data_type": "text"},
    # new / indeterminate / done
    "status_category_key": {
        "data_type": "text",
        **required_for(*DEFECT_MARTS, field="fields.status"),
    },
    "statuscategorychangedate": {"data_type": "timestamp"},
    "resolution_name": {"data_type": "text"},
    "resolutiondate": {"data_type": "timestamp"},
    "priority_name": {"data_type": "text"},
    "assignee_account_id": {"data_type": "text"},
    "reporter_account_id": {"data_type": "text"},
    "labels": {"data_type": "json"},
    "caused_by_pr": {"data_type": "text"},
    "created": {"data_type": "timestamp", **required_for(*DEFECT_MARTS, field="fields.created")},
    "updated": {"data_type": "timestamp", "nullable": False},
}

CHANGELOG_COLUMNS: TTableSchemaColumns = {
    "history_id": {"data_type": "bigint", "nullable": False},
    "issue_id": {"data_type": "bigint", "nullable": False},
    "issue_key": {"data_type": "text"},
    "author_account_id": {"data_type": "text"},
    "created": {"data_type": "timestamp", "nullable": False},
    "field": {"data_type": "text"},
    "fieldtype": {"data_type": "text"},
    "field_id": {"data_type": "text"},
    "from_value": {"data_type": "text"},
    "from_string": {"data_type": "text"},
    "to_value": {"data_type": "text"},
    "to_string": {"data_type": "text"},
}

LINK_COLUMNS: TTableSchemaColumns = {
    "link_id": {"data_type": "bigint", "nullable": False},
    "issue_id": {"data_type": "bigint", "nullable": False},
    "issue_key": {"data_type": "text"},
    "type_id": {"data_type": "text"},
    "type_name": {"data_type": "text"},
    "inward_description": {"data_type": "text"},  # e.g. "is caused by"
    "outward_description": {"data_type": "text"},  # e.g. "causes"
    # "inward": this issue <inward_description> the other one; "outward": <outward_...>.
    "direction": {"data_type": "text"},
    "other_issue_id": {"data_type": "bigint"},
    "other_issue_key": {"data_type": "text"},
    "outward_issue_key": {"data_type": "text"},
    "inward_issue_key": {"data_type": "text"},
}

REMOTE_LINK_COLUMNS: TTableSchemaColumns = {
    "id": {"data_type": "bigint", "nullable": False},
    "issue_id": {"data_type": "bigint", "nullable": False},
    "issue_key": {"data_type": "text"},
    "global_id": {"data_type": "text"},
    "url": {"data_type": "text"},
    "title": {"data_type": "text"},
    "relationship": {"data_type": "text"},
    "application_name": {"data_type": "text"},
}

# Vendor keys a projection already covers under another name, or that describe the API.
_ISSUE_IGNORED = ("expand", "self", "fields", "changelog", "renderedFields", "names", "schema")
_HISTORY_IGNORED = ("id", "author", "items", "from", "to", "fromString", "toString", "fieldId")
_LINK_IGNORED = ("id", "self", "type", "inwardIssue", "outwardIssue")
_REMOTE_IGNORED = ("self", "globalId", "application", "object")


@dlt.source(name=SOURCE_NAME, section=SOURCE_NAME, max_table_nesting=1)
def jira(
    base_url: str = dlt.config.value,
    email: str = dlt.config.value,
    api_token: TSecretStrValue = dlt.secrets.value,
    projects: Sequence[str] = dlt.config.value,
    start_date: str | None = None,
    caused_by_field: str = DEFAULT_CAUSED_BY_FIELD,
    lookback_minutes: int = 60,
    max_results: int = MAX_RESULTS,
    concurrency: int = 4,
) -> Sequence[DltResource]:
    """Jira issues with their changelog, issue links and remote links."""
    client = rest_client(
        base_url or "http://jira.invalid",  # checked when the resource runs, see _issues
        HttpBasicAuth(email, api_token),
        headers={"Accept": "application/json"},
        connections=concurrency,
    )
    quarantine = Quarantine(SOURCE_NAME, JIRA_KEYS)
    search = IssueSearch(
        client,
        caused_by_field=caused_by_field,
        max_results=max_results,
        concurrency=concurrency,
        quarantine=quarantine,
    )
    return [
        issues(search, base_url, list(projects), start_date, timedelta(minutes=lookback_minutes)),
        quarantine.resource(),
    ]


def issues(
    search: IssueSearch,
    base_url: str,
    projects: list[str],
    start_date: str | None,
    lookback: timedelta,
) -> DltResource:
    @dlt.resource(
        name="issues",
        primary_key="id",
        write_disposition="merge",
        columns=ISSUE_COLUMNS,
        nested_hints={
            "changelog": {"columns": _named(CHANGELOG_COLUMNS)},
            "links": {"columns": _named(LINK_COLUMNS)},
            "remote_links": {"columns": _named(REMOTE_LINK_COLUMNS)},
        },
        schema_contract=SCHEMA_CONTRACT,
    )
    def _issues() -> Iterator[list[dict[str, Any]]]:
        """Issues updated since their project's cursor, oldest update first."""
        if not base_url:
            raise ValueError(
                "SOURCES__JIRA__BASE_URL is not set (e.g. https://your-domain.atlassian.net)"
            )
        if not projects:
            raise ValueError("SOURCES__JIRA__PROJECTS is empty: nothing to load")
        state = dlt.current.resource_state()
        cursors: dict[str, str] = state.setdefault("updated", {})
        # issue id -> `updated` as loaded, for issues inside the look-back overlap only
        loaded: dict[str, str] = state.setdefault("recent", {})
        zone: ZoneInfo | None = None
        if start_date or any(cursors.get(p) for p in projects):
            zone = search.user_zone()
        overlap = lookback if zone is not None else lookback + UNKNOWN_ZONE_MARGIN
        newest: str | None = None
        for cursor, group in _cursor_groups(projects, cursors):
            since = window_start(cursor, start_date, overlap)
            for rows in search.issues(group, since, zone, loaded):
                for row in rows:
                    loaded[str(row["id"])] = row["updated"].isoformat()
                newest = later(newest, *(r["updated"].isoformat() for r in rows))
                yield rows
            newest = later(newest, cursor)
        yield from search.quarantined_before()
        # Every project was searched up to the same moment: one cursor again for all.
        if newest is not None:
            for project in projects:
                cursors[project] = newest
            _forget_before(loaded, window_start(newest, None, overlap))

    return _issues()


# The nested tables read with each issue: a record of them quarantined has its issue read again.
CHILDREN = ("issues__changelog", "issues__links", "issues__remote_links")


def _issue_of(record: dict[str, Any]) -> str:
    """A child's parent key: its issue's id (set by the loader, so never broken)."""
    return str(record["issue_id"])


def _named(columns: TTableSchemaColumns) -> TTableSchemaColumns:
    """Columns with their names inside: nested table hints are taken as they are."""
    return {name: {**column, "name": name} for name, column in columns.items()}


def _cursor_groups(
    projects: list[str], cursors: dict[str, str]
) -> list[tuple[str | None, list[str]]]:
    """Projects grouped by cursor (None first: projects never loaded), one search each."""
    groups: dict[str | None, list[str]] = {}
    for project in projects:
        groups.setdefault(cursors.get(project), []).append(project)
    return sorted(groups.items(), key=lambda kv: (kv[0] is not None, kv[0] or ""))


def _forget_before(loaded: dict[str, str], start: datetime | None) -> None:
    """Drop the issues the next run's window (floored to the minute) no longer reaches."""
    if start is None:
        return
    floor = start.replace(second=0, microsecond=0)
    for issue_id in [i for i, updated in loaded.items() if to_timestamp(updated) < floor]:
        del loaded[issue_id]


class IssueSearch:
    """The requests of one run: searches, long changelogs and remote links."""

    def __init__(
        self,
        client: RESTClient,
        *,
        caused_by_field: str,
        max_results: int,
        concurrency: int,
        quarantine: Quarantine,
    ) -> None:
        self.client = client
        self.concurrency = max(1, concurrency)
        self.caused_by_field = caused_by_field
        self.max_results = max_results
        self.quarantine = quarantine
        # Ids of the issues whose children this run read.
        self.attached: set[str] = set()
        self.issue_rows = Conformer(
            "issues", ISSUE_COLUMNS, self._project_issue, quarantine, ignored=_ISSUE_IGNORED
        )
        self.change_rows = Conformer(
            "issues__changelog",
            CHANGELOG_COLUMNS,
            _project_change,
            quarantine,
            ignored=_HISTORY_IGNORED,
            parent_of=_issue_of,
        )
        self.link_rows = Conformer(
            "issues__links",
            LINK_COLUMNS,
            _project_link,
            quarantine,
            ignored=_LINK_IGNORED,
            parent_of=_issue_of,
        )
        self.remote_rows = Conformer(
            "issues__remote_links",
            REMOTE_LINK_COLUMNS,
            _project_remote_link,
            quarantine,
            ignored=_REMOTE_IGNORED,
            parent_of=_issue_of,
        )

    def user_zone(self) -> ZoneInfo | None:
        """The time zone JQL dates are read in: the API user's profile time zone."""
        name = get_json(self.client, f"{API}/myself").get("timeZone")
        try:
            return ZoneInfo(name) if name else None
        except (ZoneInfoNotFoundError, ValueError):
            return None

    def issues(
        self,
        projects: list[str],
        since: datetime | None,
        zone: ZoneInfo | None,
        loaded: dict[str, str],
    ) -> Iterator[list[dict[str, Any]]]:
        """Pages of issue rows (children attached), skipping issues loaded as they are."""
        params = {
            "jql": jql(projects, since, zone),
            "maxResults": self.max_results,
            "fields": ",".join((*ISSUE_FIELDS, self.caused_by_field)),
            "expand": "changelog",
        }
        paginator = JSONResponseCursorPaginator(
            cursor_path="nextPageToken", cursor_param="nextPageToken"
        )
        for page in self.client.paginate(
            f"{API}/search/jql", params=params, paginator=paginator, data_selector="issues"
        ):
            fresh = [issue for issue in page if not _unchanged(issue, loaded)]
            if rows := self._issue_rows(fresh):
                yield rows

    def quarantined_before(self) -> Iterator[list[dict[str, Any]]]:
        """Issues an earlier load quarantined that this run's searches did not read (their
        update lies behind the window), and issues with a changelog item or link quarantined
        that the searches did not read, read again by id: a record rejected once is not lost
        when its window passes. Those that conform now load with their children."""
        own = [key for key, _ in self.quarantine.unread("issues") if key.isdigit()]
        parents = [
            issue_id
            for child in CHILDREN
            for issue_id in self.quarantine.parents(child)
            if issue_id.isdigit() and issue_id not in self.attached
        ]
        ids = sorted(set(own + parents), key=int)
        params = {"fields": ",".join((*ISSUE_FIELDS, self.caused_by_field)), "expand": "changelog"}
        issues = fetch_each(ids, lambda i: self._issue(i, params), self.concurrency)
        if rows := self._issue_rows([issue for issue in issues if issue is not None]):
            yield rows

    def _issue(self, issue_id: str, params: dict[str, Any]) -> Any:
        response = self.client.get(f"{API}/issue/{issue_id}", params=params)
        if response.status_code == 404:
            return None
        response.raise_for_status()
        return response.json()

    def _issue_rows(self, issues: list[Any]) -> list[dict[str, Any]]:
        """The rows of the issues that conform, with their children attached."""
        fresh = [
            (issue, row) for issue in issues if (row := self.issue_rows.row(issue)) is not None
        ]
        # Each issue needs its own requests (remote links, long changelogs): a few at a
        # time, or a backfill of many issues takes hours. Rows are built here, in order.
        children = fetch_each(fresh, self._fetch_children, self.concurrency)
        return [
            self._with_children(issue, row, *fetched)
            for (issue, row), fetched in zip(fresh, children, strict=True)
        ]

    def _fetch_children(self, pair: tuple[dict[str, Any], dict[str, Any]]) -> tuple[list, list]:
        """An issue's histories and remote links (requests only; runs on the fan-out pool)."""
        issue, row = pair
        return self._histories(issue, row["id"]), self._remote_links(row["id"])

    def _with_children(
        self,
        issue: dict[str, Any],
        row: dict[str, Any],
        histories: list[dict[str, Any]],
        remote_links: list[Any],
    ) -> dict[str, Any]:
        parent = {"issue_id": row["id"], "issue_key": row["key"]}
        fields = issue.get("fields") or {}
        self.attached.add(str(row["id"]))
        row["changelog"] = self.change_rows.rows(
            {**parent, **{k: v for k, v in history.items() if k != "items"}, **item}
            for history in histories
            for item in history.get("items") or []
            if isinstance(item, dict)
        )
        row["links"] = self.link_rows.rows(
            {**parent, **link} for link in fields.get("issuelinks") or [] if isinstance(link, dict)
        )
        row["remote_links"] = self.remote_rows.rows(
            {**parent, **link} for link in remote_links if isinstance(link, dict)
        )
        for child in CHILDREN:  # every list of the issue was read whole
            self.quarantine.children_read(child, str(row["id"]))
        return row

    def _histories(self, issue: dict[str, Any], issue_id: int) -> list[dict[str, Any]]:
        """All histories, oldest first. The search inlines the newest ones only; the rest come
        from the changelog endpoint, which pages from the oldest."""
        changelog = issue.get("changelog") or {}
        inline = [h for h in changelog.get("histories") or [] if isinstance(h, dict)]
        missing = (changelog.get("total") or 0) - len(inline)
        older: list[dict[str, Any]] = []
        if missing > 0:
            paginator = OffsetPaginator(
                limit=CHANGELOG_PAGE,
                offset_param="startAt",
                limit_param="maxResults",
                total_path="total",
                maximum_offset=missing,
            )
            for page in self.client.paginate(
                f"{API}/issue/{issue_id}/changelog", paginator=paginator, data_selector="values"
            ):
                older.extend(h for h in page if isinstance(h, dict))
        seen: set[Any] = set()
        histories = []
        for history in [*older, *reversed(inline)]:
            hid = history.get("id")
            if hid is not None and hid in seen:
                continue
            seen.add(hid)
            histories.append(history)
        return histories

    def _remote_links(self, issue_id: int) -> list[Any]:
        response = self.client.get(f"{API}/issue/{issue_id}/remotelink")
        if response.status_code == 404:  # deleted or moved out of reach since the search
            return []
        response.raise_for_status()
        links = response.json()
        return links if isinstance(links, list) else []

    def _project_issue(self, issue: dict[str, Any]) -> dict[str, Any]:
        fields = issue.get("fields") or {}
        issuetype = fields.get("issuetype") or {}
        status = fields.get("status") or {}
        parent = fields.get("parent") or {}
        return {
            "id": issue["id"],
            "key": issue["key"],
            "project_id": (fields.get("project") or {}).get("id"),
            "project_key": (fields.get("project") or {}).get("key"),
            "issuetype_id": issuetype.get("id"),
            "issuetype_name": issuetype.get("name"),
            "issuetype_subtask": issuetype.get("subtask"),
            "issuetype_hierarchy_level": issuetype.get("hierarchyLevel"),
            "parent_id": parent.get("id"),
            "parent_key": parent.get("key"),
            "summary": fields.get("summary"),
            "description": adf_text(fields.get("description")),
            "status_id": status.get("id"),
            "status_name": status.get("name"),
            "status_category_key": (status.get("statusCategory") or {}).get("key"),
            "statuscategorychangedate": fields.get("statuscategorychangedate"),
            "resolution_name": (fields.get("resolution") or {}).get("name"),
            "resolutiondate": fields.get("resolutiondate"),
            "priority_name": (fields.get("priority") or {}).get("name"),
            "assignee_account_id": (fields.get("assignee") or {}).get("accountId"),
            "reporter_account_id": (fields.get("reporter") or {}).get("accountId"),
            "labels": [str(label) for label in fields.get("labels") or []],
            "caused_by_pr": field_text(fields.get(self.caused_by_field)),
            "created": fields.get("created"),
            "updated": fields["updated"],
        }


def jql(projects: list[str], since: datetime | None, zone: ZoneInfo | None) -> str:
    """The search for these projects' issues updated since `since` (minute-granular, in the
    API user's time zone; the caller's look-back covers the minute floored away)."""
    keys = ", ".join(json.dumps(p) for p in projects)
    clauses = [f"project in ({keys})"]
    if since is not None:
        local = since.astimezone(zone) if zone is not None else since
        clauses.append(f'updated >= "{local.strftime(JQL_TIME)}"')
    return " AND ".join(clauses) + " ORDER BY updated ASC"


def _unchanged(issue: Any, loaded: dict[str, str]) -> bool:
    """An issue the look-back re-read, loaded before with this same `updated`."""
    if not isinstance(issue, dict):
        return False
    before = loaded.get(str(issue.get("id")))
    updated = (issue.get("fields") or {}).get("updated")
    if before is None or not updated:
        return False
    try:
        return to_timestamp(updated) == to_timestamp(before)
    except (TypeError, ValueError):
        return False


def _project_change(record: dict[str, Any]) -> dict[str, Any]:
    """One changed field of a history, the history's id, author and time merged in."""
    return {
        "history_id": record["id"],
        "issue_id": record["issue_id"],
        "issue_key": record["issue_key"],
        "author_account_id": (record.get("author") or {}).get("accountId"),
        "created": record["created"],
        "field": record.get("field"),
        "fieldtype": record.get("fieldtype"),
        "field_id": record.get("fieldId"),
        "from_value": record.get("from"),
        "from_string": record.get("fromString"),
        "to_value": record.get("to"),
        "to_string": record.get("toString"),
    }


def _project_link(link: dict[str, Any]) -> dict[str, Any]:
    link_type = link.get("type") or {}
    inward = link.get("inwardIssue")
    other = inward if inward is not None else link.get("outwardIssue")
    other = other or {}
    this, that = link["issue_key"], other.get("key")
    return {
        "link_id": link["id"],
        "issue_id": link["issue_id"],
        "issue_key": this,
        "type_id": link_type.get("id"),
        "type_name": link_type.get("name"),
        "inward_description": link_type.get("inward"),
        "outward_description": link_type.get("outward"),
        "direction": "inward" if inward is not None else "outward",
        "other_issue_id": other.get("id"),
        "other_issue_key": that,
        # On an issue's view, {inwardIssue: X} reads "this <inward> X", i.e. "X <outward> this".
        "outward_issue_key": that if inward is not None else this,
        "inward_issue_key": this if inward is not None else that,
    }


def _project_remote_link(link: dict[str, Any]) -> dict[str, Any]:
    target = link.get("object") or {}
    return {
        "id": link["id"],
        "issue_id": link["issue_id"],
        "issue_key": link["issue_key"],
        "global_id": link.get("globalId"),
        "url": target.get("url"),
        "title": target.get("title"),
        "relationship": link.get("relationship"),
        "application_name": (link.get("application") or {}).get("name"),
    }


# --- Atlassian Document Format -> text ---------------------------------------------------

# Blocks whose children are blocks again, separated by a blank line; other containers
# (lists, table rows) put one child per line.
_PARAGRAPH_CONTAINERS = ("doc", "blockquote", "panel", "expand", "nestedExpand", "layoutColumn")


def adf_text(value: Any) -> str | None:
    """Plain text of a description: ADF flattened (paragraphs split by a blank line, hard
    breaks kept, link and card URLs kept), a plain string as it is."""
    if value is None or isinstance(value, str):
        return value
    if not isinstance(value, dict):
        return str(value)
    return _render(value)


def _render(node: dict[str, Any]) -> str:
    kind = node.get("type")
    attrs = node.get("attrs") or {}
    if kind == "text":
        return _text(node)
    if kind == "hardBreak":
        return "\n"
    if kind in ("inlineCard", "blockCard", "embedCard"):
        return str(attrs.get("url") or "")
    if kind in ("mention", "status"):
        return str(attrs.get("text") or "")
    if kind == "emoji":
        return str(attrs.get("text") or attrs.get("shortName") or "")
    children = [c for c in node.get("content") or [] if isinstance(c, dict)]
    if kind == "listItem" or kind == "tableCell" or kind == "tableHeader":
        return "\n".join(filter(None, map(_render, children)))
    if children and all(_is_inline(c) for c in children):
        return "".join(map(_render, children))
    if kind == "tableRow":
        return " | ".join(map(_render, children))
    if kind == "bulletList":
        return "\n".join(f"- {_render(c)}" for c in children)
    if kind == "orderedList":
        first = int(attrs.get("order") or 1)
        return "\n".join(f"{first + i}. {_render(c)}" for i, c in enumerate(children))
    separator = "\n\n" if kind in _PARAGRAPH_CONTAINERS else "\n"
    return separator.join(filter(None, map(_render, children)))


def _is_inline(node: dict[str, Any]) -> bool:
    return node.get("type") in (
        "text",
        "hardBreak",
        "inlineCard",
        "mention",
        "emoji",
        "status",
        "date",
    )


def _text(node: dict[str, Any]) -> str:
    """A text node; a link's target is appended when the text does not show it."""
    text = str(node.get("text") or "")
    for mark in node.get("marks") or []:
        if not isinstance(mark, dict) or mark.get("type") != "link":
            continue
        href = (mark.get("attrs") or {}).get("href")
        if href and href not in text:
            text = f"{text} ({href})"
    return text


def field_text(value: Any) -> str | None:
    """A custom field's value as text: URL and text fields as they are, ADF flattened,
    options by their value, lists joined by ", "."""
    if value is None or isinstance(value, str):
        return value
    if isinstance(value, list):
        parts = [field_text(v) for v in value]
        return ", ".join(p for p in parts if p) or None
    if isinstance(value, dict):
        if value.get("type") == "doc":
            return adf_text(value)
        for key in ("value", "url", "name", "key"):
            if isinstance(value.get(key), str):
                return value[key]
        return json.dumps(value, ensure_ascii=False, sort_keys=True)
    return str(value)
