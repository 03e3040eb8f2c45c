"""Incremental windows: where a daily run starts reading, given its cursor and a look-back.

Cursors live in dlt resource state, which dlt stores in the warehouse in the same load package
as the data. A run cut off before its load commits leaves the old cursor, so the next run
reads the same window again (merge keys make that idempotent): no gaps, no duplicates.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from pipelines.sources.contract import to_timestamp


def window_start(
    cursor: Any, start_date: Any = None, lookback: timedelta = timedelta(0)
) -> datetime | None:
    """The earliest time to read from: the cursor minus the look-back, never before the
    configured start date. None (read everything) when there is neither."""
    floor = to_timestamp(start_date) if start_date else None
    if cursor is None:
        return floor
    start = to_timestamp(cursor) - lookback
    return max(start, floor) if floor is not None else start


def later(current: str | None, *candidates: str | None) -> str | None:
    """The latest of ISO timestamps (kept as the API's own strings, for readable state)."""
    values = [v for v in (current, *candidates) if v is not None]
    return max(values, key=to_timestamp) if values else None
