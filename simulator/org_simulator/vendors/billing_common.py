"""What the Anthropic and OpenAI billing APIs share: time buckets, aggregation and prices.

Both vendors report usage and cost in time buckets, page by bucket with an opaque token, and
group daily facts by a chosen set of dimensions. The store keeps one row per day at the finest
grain, so the rules here are:

- Buckets are snapped to the start of their width in UTC. A bucket is returned when it overlaps
  the asked range and starts before the server clock (`now`): "today" comes back as a bucket.
- Usage of a day is visible only once the day is over (`bucket_date < now`'s date): the
  partial bucket of today is empty, and fills in when the clock passes midnight. (The real
  APIs show today's usage with a lag of minutes; a loader that re-reads a trailing window sees
  the same totals either way.)
- Sub-day widths (`1h`, `1m`) split each day's totals evenly over the day's buckets, the
  remainder going to the earliest ones: totals are exact, the shape within a day is not.
- Costs are tokens x `llm_model_prices` (USD per million tokens, the price valid on the day)
  in exact decimal arithmetic.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any

from org_simulator.http import ApiError, Request, decode_token, encode_token

DAY = timedelta(days=1)
WIDTHS = {"1d": DAY, "1h": timedelta(hours=1), "1m": timedelta(minutes=1)}
# (default, max) buckets per page, as both vendors document them.
BUCKET_LIMITS = {"1d": (7, 31), "1h": (24, 168), "1m": (60, 1440)}
EPOCH = datetime(1970, 1, 1)
MILLION = Decimal(1_000_000)


# --- time buckets ------------------------------------------------------------------------


def snap(ts: datetime, width: timedelta) -> datetime:
    """The start of the bucket of `width` that holds `ts` (buckets are aligned to the epoch)."""
    step = int(width.total_seconds())
    seconds = int((ts - EPOCH).total_seconds())
    return EPOCH + timedelta(seconds=seconds - seconds % step)


def to_unix(ts: datetime) -> int:
    return int((ts - EPOCH).total_seconds())


def from_unix(raw: str | None, name: str) -> datetime:
    try:
        return EPOCH + timedelta(seconds=int(raw or ""))
    except (ValueError, OverflowError) as exc:
        raise ApiError(400, f"{name} must be a Unix timestamp in seconds") from exc


@dataclass(frozen=True)
class BucketPage:
    """The buckets one page answers, and where the next page starts (None: the last page)."""

    width: timedelta
    starts: list[datetime]
    next_start: datetime | None

    @property
    def has_more(self) -> bool:
        return self.next_start is not None

    @property
    def next_page(self) -> str | None:
        return (
            None
            if self.next_start is None
            else encode_token({"start": self.next_start.isoformat()})
        )

    @property
    def days(self) -> tuple[date, date] | None:
        """The store days [first, last] the page's buckets cover."""
        if not self.starts:
            return None
        return self.starts[0].date(), (self.starts[-1] + self.width - timedelta(seconds=1)).date()


def plan_buckets(
    req: Request,
    start: datetime,
    end: datetime | None,
    width: timedelta,
    limit: int,
) -> BucketPage:
    """The page of buckets from `start` (or from the `page` token) to `end`, at most `limit`."""
    first = snap(start, width)
    token = req.arg("page")
    if token:
        state = decode_token(token)
        try:
            first = snap(datetime.fromisoformat(state["start"]), width)
        except (KeyError, TypeError, ValueError) as exc:
            raise ApiError(400, "invalid page token") from exc
    stop = req.now if end is None else min(end, req.now)  # buckets start before this
    starts: list[datetime] = []
    cursor = first
    while cursor < stop and len(starts) < limit:
        starts.append(cursor)
        cursor += width
    return BucketPage(width, starts, cursor if cursor < stop else None)


def width_arg(req: Request, allowed: Sequence[str]) -> str:
    width = req.arg("bucket_width", "1d") or "1d"
    if width not in allowed:
        raise ApiError(400, f"bucket_width must be one of {', '.join(allowed)}; got {width!r}")
    return width


def split_day(values: Sequence[int], parts: int) -> list[list[int]]:
    """Split each of a day's totals over `parts` buckets: even shares, remainder first."""
    out = [[0] * len(values) for _ in range(parts)]
    for j, total in enumerate(values):
        share, rest = divmod(int(total), parts)
        for i in range(parts):
            out[i][j] = share + (1 if i < rest else 0)
    return out


def bucketed(
    page: BucketPage, rows: Iterable[dict[str, Any]], metrics: Sequence[str]
) -> dict[datetime, list[dict[str, Any]]]:
    """Daily aggregate rows (with `bucket_date`) spread into the page's buckets.

    Rows keep their order within a bucket; a row whose split leaves all metrics zero in a
    bucket is left out of that bucket.
    """
    out: dict[datetime, list[dict[str, Any]]] = {s: [] for s in page.starts}
    parts = int(DAY / page.width)
    for row in rows:
        day = datetime.combine(row["bucket_date"], datetime.min.time())
        if parts == 1:
            if day in out:
                out[day].append(row)
            continue
        shares = split_day([row[m] or 0 for m in metrics], parts)
        for i, values in enumerate(shares):
            start = day + i * page.width
            if start in out and any(values):
                out[start].append({**row, **dict(zip(metrics, values, strict=True))})
    return out


# --- aggregation -------------------------------------------------------------------------


def visible_before(req: Request) -> date:
    """Store days before this one are complete as of the server clock."""
    return req.now.date()


def aggregate(
    req: Request,
    table: str,
    dims: dict[str, str],
    grouped: Sequence[str],
    sums: dict[str, str],
    day_range: tuple[date, date],
    filters: dict[str, Sequence[Any]],
    extra_where: str = "",
) -> list[dict[str, Any]]:
    """Sum `sums` per day and `grouped` dimensions; dimensions not grouped come back null.

    `dims` maps each dimension to its SQL type, `sums` an output name to a SQL expression,
    `filters` a column to the values it must be one of (empty: no filter).
    """
    select = ["bucket_date"]
    for dim, sql_type in dims.items():
        select.append(dim if dim in grouped else f"cast(null as {sql_type}) as {dim}")
    select += [f"coalesce(sum({expr}), 0) as {name}" for name, expr in sums.items()]
    where = ["bucket_date >= ?", "bucket_date <= ?", "bucket_date < ?"]
    params: list[Any] = [day_range[0], day_range[1], visible_before(req)]
    for column, values in filters.items():
        if values:
            where.append(f"{column} in ({', '.join('?' for _ in values)})")
            params += list(values)
    if extra_where:
        where.append(extra_where)
    keys = ["bucket_date", *[d for d in dims if d in grouped]]
    order = ", ".join(f"{k} asc nulls first" for k in keys)
    sql = (
        f"select {', '.join(select)} from {table} where {' and '.join(where)} "
        f"group by {', '.join(keys)} order by {order}"
    )
    return req.rows(sql, params)


def group_by_arg(req: Request, allowed: Sequence[str], name: str = "group_by") -> list[str]:
    chosen = req.args(name)
    for value in chosen:
        if value not in allowed:
            raise ApiError(400, f"{name} must be among {', '.join(allowed)}; got {value!r}")
    return list(dict.fromkeys(chosen))


# --- prices ------------------------------------------------------------------------------


class PriceBook:
    """`llm_model_prices` of one provider: USD per million tokens by model, kind and day.

    A price applies from `valid_from` through `valid_to` (null: open); where two rows both
    apply on a boundary day, the later `valid_from` wins, so inclusive and exclusive `valid_to`
    conventions give the same answer for contiguous periods.
    """

    def __init__(self, req: Request, provider: str):
        rows = req.rows(
            "select model, token_kind, usd_per_mtok, valid_from, valid_to from llm_model_prices "
            "where provider = ? order by model, token_kind, valid_from desc",
            [provider],
        )
        self._rows: dict[tuple[str, str], list[dict[str, Any]]] = {}
        for row in rows:
            self._rows.setdefault((row["model"], row["token_kind"]), []).append(row)

    def usd_per_mtok(self, model: str, kind: str, day: date) -> Decimal | None:
        for row in self._rows.get((model, kind), []):  # latest valid_from first
            if row["valid_from"] <= day and (row["valid_to"] is None or day <= row["valid_to"]):
                return Decimal(row["usd_per_mtok"])
        return None

    def cost_usd(self, model: str, kind: str, day: date, tokens: int) -> Decimal | None:
        """Exact USD cost of `tokens`, or None when the model has no price for the day."""
        price = self.usd_per_mtok(model, kind, day)
        return None if price is None else Decimal(int(tokens)) * price / MILLION


def decimal_text(value: Decimal) -> str:
    """A Decimal as plain text without exponent or trailing zeros ("12.5", "0", "300")."""
    text = format(value, "f")
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return text if text not in ("", "-0") else "0"


# --- id lists ----------------------------------------------------------------------------


def id_page(
    rows: list[dict[str, Any]], after: str | None, limit: int, key: str = "id"
) -> tuple[list[dict[str, Any]], bool]:
    """Rows sorted by `key` after the cursor id, at most `limit`, and whether more follow."""
    if after is not None:
        rows = [r for r in rows if r[key] > after]
    return rows[:limit], len(rows) > limit


def opaque(prefix: str, *parts: Any, length: int = 24) -> str:
    """A deterministic id-like string derived from `parts` (base62-ish, fixed length)."""
    alphabet = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
    digest = int.from_bytes(hashlib.sha256("|".join(map(str, parts)).encode()).digest(), "big")
    chars = []
    for _ in range(length):
        digest, r = divmod(digest, len(alphabet))
        chars.append(alphabet[r])
    return prefix + "".join(chars)


def org_meta(req: Request, key: str, default: str | None = None) -> str | None:
    rows = req.rows("select value from org_meta where key = ?", [key])
    return rows[0]["value"] if rows else default


def org_start(req: Request) -> datetime:
    """When the simulated organisation's history begins: creation time of its admin objects."""
    for key in ("start", "history_start", "starts_at", "start_date"):
        value = org_meta(req, key)
        if value:
            try:
                return datetime.fromisoformat(value)
            except ValueError:
                continue
    return datetime(2025, 1, 1)
