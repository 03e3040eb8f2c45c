"""What the Anthropic and OpenAI billing loaders share: report windows, buckets and row keys.

Both vendors answer usage and cost reports as pages of daily buckets (`{start, end,
results}`), linked by `next_page` while `has_more`, and group results by dimensions that are
often null (a dimension not grouped by, a key in the default workspace, a service account
without a user). So:

- Window: a run reads from its cursor, the start of the newest bucket the API returned last
  time, minus LOOKBACK (3 days: usage and cost are restated late), never before START_DATE.
  A first run without START_DATE reads DEFAULT_HISTORY (90 days; the APIs need a start). The
  end is the wall clock: the API answers buckets up to its own clock and publishes a day's
  totals once the day is over, so the loader never has to know what day the vendor thinks
  it is, and the newest bucket it returns is the vendor's current day.
- A run given END_DATE as well reads exactly the days [START_DATE, END_DATE), whatever the
  cursor: a backfill, or one daily partition of the Dagster job. The cursor only moves
  forward, so re-reading an old day never makes the next incremental run start over.
- Keys: dlt primary keys cannot be null, so every row carries `row_key`, the md5 of its natural
  key (bucket start and the group-by values, as a JSON array, so null and "" differ); merging
  on it makes a re-read bucket replace its rows exactly.
- A bucket whose own times do not parse is quarantined whole, as one record; the rest loads.
- A result quarantined by an earlier load keeps its bucket's day as its parent: the next
  load reads that day again on its own when its window does not reach it (a result rejected
  once is not lost when the look-back passes it), and resolves it when the day reads clean.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Generator, Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal, InvalidOperation
from functools import partial
from typing import Any

import dlt
import orjson
import pyarrow as pa
from dlt.common.data_types import TDataType
from dlt.sources import DltResource
from dlt.sources.helpers.rest_client import RESTClient
from dlt.sources.helpers.rest_client.paginators import JSONResponseCursorPaginator

from pipelines.sources.arrow_rows import batched_tables
from pipelines.sources.contract import SCHEMA_CONTRACT, Conformer, Quarantine, to_timestamp
from pipelines.sources.cursors import later, window_start
from pipelines.sources.tables import RECORD, Column, Table

DAY = timedelta(days=1)
LOOKBACK = timedelta(days=3)
DEFAULT_HISTORY = timedelta(days=90)
CURSOR = "newest_bucket"  # resource-state key: start of the newest bucket the API returned


def column(name: str, data_type: TDataType = "text", nullable: bool = True, **more: Any) -> Column:
    """A column of a billing table: these say whether they are nullable either way, as the
    schemas dlt stored for them do."""
    return Column(name, data_type, nullable=nullable, **more)


def bucket_columns(key_dims: Sequence[str]) -> list[Column]:
    """The columns every report table starts with: `row_key`, the md5 of the bucket's start
    and of the result's `key_dims` (its natural key), and the bucket's times, which
    `report_rows` sets on each result."""
    return [
        column("row_key", nullable=False, path=RECORD, derive=partial(_bucket_key, key_dims)),
        column("bucket_start", "timestamp", nullable=False),
        column("bucket_end", "timestamp", nullable=False),
    ]


def _bucket_key(key_dims: Sequence[str], result: dict[str, Any]) -> str:
    return row_key(result["bucket_start"].isoformat(), *(result.get(dim) for dim in key_dims))


def usd_decimal(name: str, nullable: bool = True, **more: Any) -> Column:
    """Exact money: the reports' amounts have at most 10 decimals in USD."""
    return column(name, "decimal", nullable, precision=38, scale=12, **more)


def exact_decimal(value: Any) -> Decimal:
    """A finite Decimal of a number or numeric string (a float through its shortest repr);
    anything else raises ValueError or TypeError, which quarantine the record."""
    if isinstance(value, bool) or not isinstance(value, str | int | float):
        raise TypeError(f"{value!r:.40} is not a number")
    try:
        number = Decimal(str(value).strip())
    except InvalidOperation:
        raise ValueError(f"{value!r:.40} is not a number") from None
    if not number.is_finite():
        raise ValueError(f"{value!r:.40} is not a finite number")
    return number


def report_paginator() -> JSONResponseCursorPaginator:
    """Both vendors' report pages: `page=<next_page>` until `has_more` is false."""
    return JSONResponseCursorPaginator(
        cursor_path="next_page", cursor_param="page", has_more_path="has_more"
    )


def list_paginator(cursor_param: str) -> JSONResponseCursorPaginator:
    """Id-ordered lists: `<cursor_param>=<last_id>` until `has_more` is false."""
    return JSONResponseCursorPaginator(
        cursor_path="last_id", cursor_param=cursor_param, has_more_path="has_more"
    )


def row_key(*parts: Any) -> str:
    """The md5 of a natural key whose parts may be null (JSON keeps null apart from ""):
    of the compact UTF-8 JSON array of the parts, other types as their `str`."""
    return hashlib.md5(orjson.dumps(parts, default=str)).hexdigest()


def utc_midnight(value: datetime | date) -> datetime:
    day = value.astimezone(UTC).date() if isinstance(value, datetime) else value
    return datetime.combine(day, time(), UTC)


def first_bucket(
    cursor: str | None,
    start_date: str | None,
    now: datetime,
    lookback: timedelta = LOOKBACK,
) -> datetime:
    """Where a run starts reading: see the module docstring."""
    start = window_start(cursor, start_date, lookback)
    return utc_midnight(start if start is not None else now - DEFAULT_HISTORY)


@dataclass(frozen=True)
class ReportWindow:
    """The days a run reads (see the module docstring): incremental from the cursor up to
    the wall clock, or, with `end_date`, exactly [start_date, end_date)."""

    start_date: str | None = None
    end_date: str | None = None

    def __post_init__(self) -> None:
        if self.end_date is not None:
            if self.start_date is None:
                raise ValueError("end_date needs a start_date: the window is [start, end)")
            if self.end() <= self.start(None):
                raise ValueError(f"empty window [{self.start_date}, {self.end_date})")

    @property
    def fixed(self) -> bool:
        return self.end_date is not None

    def start(self, cursor: str | None, lookback: timedelta = LOOKBACK) -> datetime:
        if self.fixed:
            return utc_midnight(to_timestamp(self.start_date))
        return first_bucket(cursor, self.start_date, wall_clock(), lookback)

    def end(self) -> datetime:
        return utc_midnight(to_timestamp(self.end_date)) if self.fixed else wall_clock()


def wall_clock() -> datetime:
    return datetime.now(UTC).replace(microsecond=0)


def rfc3339(ts: datetime) -> str:
    return ts.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


@dataclass(frozen=True)
class Bucket:
    start: datetime
    end: datetime
    results: list[Any]


def report_rows(
    pages: Iterable[list[Any]],
    conformer: Conformer,
    state: dict[str, Any],
    start_field: str,
    end_field: str,
) -> Generator[list[dict[str, Any]], None, datetime | None]:
    """The conforming rows of every bucket, one list per bucket; moves the cursor in `state`.

    Each result is projected with its bucket's `bucket_start` and `bucket_end`. Returns the
    start of the newest bucket the API answered (its current day), or None.
    """
    newest: datetime | None = None
    for raw in (bucket for page in pages for bucket in page):
        bucket = _bucket(raw, conformer, start_field, end_field)
        if bucket is None:
            continue
        newest = bucket.start if newest is None else max(newest, bucket.start)
        rows = conformer.rows(
            {**result, "bucket_start": bucket.start, "bucket_end": bucket.end}
            if isinstance(result, dict)
            else result
            for result in bucket.results
        )
        if rows:
            yield rows
    if newest is not None:
        state[CURSOR] = later(state.get(CURSOR), newest.isoformat())
    return newest


@dataclass(frozen=True)
class Report:
    """One report endpoint: its table, the request parameters of a window, the bucket's fields."""

    table: Table
    path: str
    params: Callable[[datetime, datetime], dict[str, Any]]  # window -> query parameters
    start_field: str
    end_field: str


def report_resource(
    report: Report,
    client: RESTClient,
    window: ReportWindow,
    quarantine: Quarantine,
    on_newest: Callable[[datetime | None], None] | None = None,
) -> DltResource:
    """A report table: its window, its pages, rows merged on `row_key`.
    `on_newest` hears the newest bucket the API answered (the vendor's current day)."""
    table = report.table
    conformer = Conformer.of(table, quarantine, parent_of=bucket_day)

    @dlt.resource(
        name=table.name,
        primary_key="row_key",
        write_disposition="merge",
        columns=table.hints,
        schema_contract=SCHEMA_CONTRACT,
        file_format="parquet",  # Arrow tables, written as they come (pipelines.sources.arrow_rows)
    )
    def _report() -> Iterator[pa.Table]:
        state = dlt.current.resource_state()
        start, end = window.start(state.get(CURSOR)), window.end()
        rows = _window_rows(report, client, conformer, state, start, end)
        newest = yield from batched_tables(rows, table.hints)
        # Days holding results an earlier load quarantined: read alone when the window
        # did not read them, then resolved but for the results rejected again.
        for day in quarantine.parents(table.name):
            midnight = utc_midnight(date.fromisoformat(day))
            if not start <= midnight < end:
                rows = _window_rows(report, client, conformer, state, midnight, midnight + DAY)
                yield from batched_tables(rows, table.hints)
            quarantine.children_read(table.name, day)
        if on_newest is not None:
            on_newest(newest)

    return _report()


def _window_rows(
    report: Report,
    client: RESTClient,
    conformer: Conformer,
    state: dict[str, Any],
    start: datetime,
    end: datetime,
) -> Generator[list[dict[str, Any]], None, datetime | None]:
    """The rows of the report's buckets in [start, end); see `report_rows`."""
    params = report.params(start, end)
    pages = client.paginate(report.path, params=params, paginator=report_paginator())
    return report_rows(pages, conformer, state, report.start_field, report.end_field)


def bucket_day(result: dict[str, Any]) -> str:
    """A result's parent key in the quarantine: its bucket's UTC day (`2026-11-03`)."""
    return utc_midnight(result["bucket_start"]).date().isoformat()


@dataclass(frozen=True)
class ReferenceList:
    """An id-ordered reference list (workspaces, API keys, projects, users): small, re-read
    whole every run and merged on `id`."""

    table: Table
    path: str
    cursor_param: str  # the vendor's `<cursor_param>=<last_id>`
    params: dict[str, Any]  # page size and filters


def reference_resource(
    listing: ReferenceList, client: RESTClient, quarantine: Quarantine
) -> DltResource:
    conformer = Conformer.of(listing.table, quarantine)

    @dlt.resource(
        name=listing.table.name,
        primary_key="id",
        write_disposition="merge",
        columns=listing.table.hints,
        schema_contract=SCHEMA_CONTRACT,
    )
    def _reference() -> Iterator[list[dict[str, Any]]]:
        # A copy: the paginator writes its cursor into the parameters it is given.
        params = dict(listing.params)
        paginator = list_paginator(listing.cursor_param)
        for page in client.paginate(listing.path, params=params, paginator=paginator):
            rows = conformer.rows(page)
            if rows:
                yield rows

    return _reference()


def _bucket(raw: Any, conformer: Conformer, start_field: str, end_field: str) -> Bucket | None:
    """The bucket, or None after quarantining it when its own fields are unusable."""
    try:
        results = raw.get("results")
        if results is None:
            results = []
        if not isinstance(results, list):
            raise TypeError("results is not a list")
        return Bucket(to_timestamp(raw[start_field]), to_timestamp(raw[end_field]), results)
    except (AttributeError, KeyError, TypeError, ValueError) as exc:
        conformer.quarantine.add(conformer.resource, raw, f"unusable bucket: {exc!r:.200}")
        return None
