"""Reading the publication: a fresh read-only connection for each page render.

A connection held between renders would keep reading the file it first opened after the
publish step replaced it, and would make the publisher's writer wait: each render opens the
file, runs its queries and closes it.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import duckdb
import pandas as pd

from pipelines.serving.dashboard.queries import Query

MAKE_ONE = "`make demo` builds the demo organisation's publication (.data/demo.serving.duckdb)"


@contextmanager
def reading(path: Path) -> Iterator[duckdb.DuckDBPyConnection]:
    con = duckdb.connect(str(path), read_only=True)
    try:
        yield con
    finally:
        con.close()


def frame(con: duckdb.DuckDBPyConnection, query: Query, given: dict[str, Any]) -> pd.DataFrame:
    """The query's rows, with the filter values it names bound. pandas makes DATE columns
    midnight timestamps: their names are kept (`attrs["dates"]`) so tables show dates."""
    cursor = con.execute(query.sql, query.parameters(given))
    dates = [name for name, kind, *_ in cursor.description if str(kind) == "DATE"]
    rows = cursor.df()
    rows.attrs["dates"] = dates
    return rows


class Render:
    """One page render: its connection and the sidebar's filter values."""

    def __init__(self, con: duckdb.DuckDBPyConnection, filters: Any) -> None:
        self.con = con
        self.filters = filters

    def frame(self, query: Query) -> pd.DataFrame:
        return frame(self.con, query, self.filters.parameters())
