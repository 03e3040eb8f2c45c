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
from pipelines.sources.record_keys import JIRA_KEYS
from pipelines.sources.rest import get_json, rest_client
from pipelines.sources.tables import RECORD, Column, Table

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


# --- tables ------------------------------------------------------------------------------


def issues_table(caused_by_field: str) -> Table:
    """The issues, their "Caused by PR" read from this site's custom field."""
    return Table(
        "issues",
        [
            Column("id", "bigint", nullable=False),
            Column("key", nullable=False),
            Column("project_id", path="fields.project.id"),
            Column("project_key", path="fields.project.key"),
            # Type names are in the project's language (缺陷 for Bug): models map on the id.
            Column(
                "issuetype_id",
                path="fields.issuetype.id",
                required_for=DEFECT_MARTS,
                required_field="fields.issuetype",
            ),
            Column("issuetype_name", path="fields.issuetype.name"),
            Column("issuetype_subtask", "bool", path="fields.issuetype.subtask"),
            Column("issuetype_hierarchy_level", "bigint", path="fields.issuetype.hierarchyLevel"),
            Column("parent_id", "bigint", path="fields.parent.id"),
            Column("parent_key", path="fields.parent.key"),
            Column("summary", path="fields.summary"),
            # Plain text flattened from the ADF document; link targets kept (PR URLs live here).
            Column("description", path="fields.description", derive=adf_text),
            Column("status_id", path="fields.status.id"),
            Column("status_name", path="fields.status.name"),
            # new / indeterminate / done
            Column(
                "status_category_key",
                path="fields.status.statusCategory.key",
                required_for=DEFECT_MARTS,
                required_field="fields.status",
            ),
            Column("statuscategorychangedate", "timestamp", path="fields.statuscategorychangedate"),
            Column("resolution_name", path="fields.resolution.name"),
            Column("resolutiondate", "timestamp", path="fields.resolutiondate"),
            Column("priority_name", path="fields.priority.name"),
            Column("assignee_account_id", path="fields.assignee.accountId"),
            Column("reporter_account_id", path="fields.reporter.accountId"),
            Column("labels", "json", path="fields.labels", derive=_texts),
            Column("caused_by_pr", path=("fields", caused_by_field), derive=field_text),
            Column("created", "timestamp", path="fields.created", required_for=DEFECT_MARTS),
            Column("updated", "timestamp", nullable=False, path="fields.updated"),
        ],
        ignored=("expand", "self", "fields", "changelog", "renderedFields", "names", "schema"),
    )


def _texts(values: list[Any] | None) -> list[str]:
    return [str(value) for value in values or []]


# The issue a child record belongs to, merged into the record by the loader (see
# `IssueSearch._with_children`).
CHILD_OF = (Column("issue_id", "bigint", nullable=False), Column("issue_key", strict=True))

# One changed field of a history, the history's id, author and time merged in.
CHANGELOG = Table(
    "issues__changelog",
    [
        Column("history_id", "bigint", nullable=False, path="id"),
        *CHILD_OF,
        Column("author_account_id", path="author.accountId"),
        Column("created", "timestamp", nullable=False),
        Column("field"),
        Column("fieldtype"),
        Column("field_id", path="fieldId"),
        Column("from_value", path="from"),
        Column("from_string", path="fromString"),
        Column("to_value", path="to"),
        Column("to_string", path="toString"),
    ],
    ignored=("id", "author", "items", "from", "to", "fromString", "toString", "fieldId"),
)


def _other_issue(link: dict[str, Any]) -> dict[str, Any]:
    """The issue at the other end of a link, as this issue's view shows it."""
    inward = link.get("inwardIssue")
    return (inward if inward is not None else link.get("outwardIssue")) or {}


def _direction(link: dict[str, Any]) -> str:
    return "inward" if link.get("inwardIssue") is not None else "outward"


# On an issue's view, {inwardIssue: X} reads "this <inward> X", i.e. "X <outward> this".
def _outward_issue_key(link: dict[str, Any]) -> Any:
    inward = _direction(link) == "inward"
    return _other_issue(link).get("key") if inward else link["issue_key"]


def _inward_issue_key(link: dict[str, Any]) -> Any:
    inward = _direction(link) == "inward"
    return link["issue_key"] if inward else _other_issue(link).get("key")


LINKS = Table(
    "issues__links",
    [
        Column("link_id", "bigint", nullable=False, path="id"),
        *CHILD_OF,
        Column("type_id", path="type.id"),
        Column("type_name", path="type.name"),
        Column("inward_description", path="type.inward"),  # e.g. "is caused by"
        Column("outward_description", path="type.outward"),  # e.g. "causes"
        # "inward": this issue <inward_description> the other one; "outward": <outward_...>.
        Column("direction", path=RECORD, derive=_direction),
        Column(
            "other_issue_id",
            "bigint",
            path=RECORD,
            derive=lambda link: _other_issue(link).get("id"),
        ),
        Column("other_issue_key", path=RECORD, derive=lambda link: _other_issue(link).get("key")),
        Column("outward_issue_key", path=RECORD, derive=_outward_issue_key),
        Column("inward_issue_key", path=RECORD, derive=_inward_issue_key),
    ],
    ignored=("id", "self", "type", "inwardIssue", "outwardIssue"),
)

REMOTE_LINKS = Table(
    "issues__remote_links",
    [
        Column("id", "bigint", nullable=False),
        *CHILD_OF,
        Column("global_id", path="globalId"),
        Column("url", path="object.url"),
        Column("title", path="object.title"),
        Column("relationship"),
        Column("application_name", path="application.name"),
    ],
    ignored=("self", "globalId", "application", "object"),
)


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


# --- resources ---------------------------------------------------------------------------


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
        columns=search.issues_table.hints,
        nested_hints={
            "changelog": CHANGELOG.nested_hints(),
            "links": LINKS.nested_hints(),
            "remote_links": REMOTE_LINKS.nested_hints(),
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
CHILDREN = (CHANGELOG.name, LINKS.name, REMOTE_LINKS.name)


def _issue_of(record: dict[str, Any]) -> str:
    """A child's parent key: its issue's id (set by the loader, so never broken)."""
    return str(record["issue_id"])


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


# --- requests ----------------------------------------------------------------------------


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
        self.issues_table = issues_table(caused_by_field)
        self.issue_rows = Conformer.of(self.issues_table, quarantine)
        self.change_rows = Conformer.of(CHANGELOG, quarantine, parent_of=_issue_of)
        self.link_rows = Conformer.of(LINKS, quarantine, parent_of=_issue_of)
        self.remote_rows = Conformer.of(REMOTE_LINKS, quarantine, parent_of=_issue_of)

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
