"""Resources shared by the Dagster definitions."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import dagster as dg

from pipelines.warehouse.engines import DEFAULT_ENGINE, Warehouse, connect
from pipelines.warehouse.lock import warehouse_writer

# DuckDB allows one writer per file. Every op that opens the warehouse runs in this pool;
# the job also runs in-process (one step at a time). Give the pool a limit of 1 in the
# instance's dagster.yaml (concurrency: pools) so separate runs queue too.
DUCKDB_POOL = "duckdb_warehouse"


class WarehouseResource(dg.ConfigurableResource):
    """The warehouse: its engine (AOW_WAREHOUSE) and, for DuckDB, its file (AOW_DUCKDB_PATH).
    A server's connection settings (AOW_POSTGRES_*, AOW_SPARK_*) are read from the run's
    environment, never kept in the run's configuration, where a password would show."""

    duckdb_path: str
    engine: str = DEFAULT_ENGINE

    @property
    def path(self) -> Path:
        return Path(self.duckdb_path).resolve()

    @property
    def target(self) -> Warehouse:
        """What loads, builds and checks write or read (pipelines.warehouse.engines)."""
        if self.engine == DEFAULT_ENGINE:
            return self.path
        from pipelines.settings import read_settings

        server = read_settings().server
        if server is None or server.engine != self.engine:
            raise dg.Failure(description=f"AOW_WAREHOUSE is not {self.engine} in this process")
        return server

    @property
    def is_duckdb(self) -> bool:
        return self.engine == DEFAULT_ENGINE

    @contextmanager
    def connect(self, read_only: bool = True) -> Iterator[Any]:
        """A connection closed on exit, so a DuckDB file's lock is released before the next
        step."""
        with connect(self.target, read_only=read_only) as con:
            yield con

    @contextmanager
    def writer(self, holder: str) -> Iterator[Warehouse]:
        """Hold a DuckDB warehouse's writer lock (pipelines.warehouse.lock) for the block: a
        second writer, in this run or any other process, fails at once with WarehouseBusy."""
        target = self.target
        with warehouse_writer(target, holder):
            yield target
