"""Reading the publication: a fresh read-only connection for each page render.

A connection held between renders would keep reading the file it first opened after the
publish step replaced it: each render opens the file (`duckdb.connect(path, read_only=True)`,
closed when its `with` block ends), runs its queries and closes it.
"""

from __future__ import annotations

from typing import Any

import duckdb
import pandas as pd

from pipelines.serving.dashboard.queries import Query

MAKE_ONE = "`make demo` builds the demo organisation's publication (.data/demo.serving.duckdb)"


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
