"""Resources shared by the Dagster definitions."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import dagster as dg
import duckdb

from pipelines.warehouse.lock import writer_lock

# DuckDB allows one writer per file. Every op that opens the warehouse runs in this pool;
# the job also runs in-process (one step at a time). Give the pool a limit of 1 in the
# instance's dagster.yaml (concurrency: pools) so separate runs queue too.
DUCKDB_POOL = "duckdb_warehouse"


class WarehouseResource(dg.ConfigurableResource):
    """The DuckDB warehouse file (the definitions give it the setting AOW_DUCKDB_PATH)."""

    duckdb_path: str

    @property
    def path(self) -> Path:
        return Path(self.duckdb_path).resolve()

    @contextmanager
    def connect(self, read_only: bool = True) -> Iterator[duckdb.DuckDBPyConnection]:
        """A connection closed on exit, so the file lock is released before the next step."""
        con = duckdb.connect(str(self.path), read_only=read_only)
        try:
            yield con
        finally:
            con.close()

    @contextmanager
    def writer(self, holder: str) -> Iterator[Path]:
        """Hold the warehouse's writer lock (pipelines.warehouse.lock) for the block: a
        second writer, in this run or any other process, fails at once with WarehouseBusy."""
        with writer_lock(self.path, holder):
            yield self.path
