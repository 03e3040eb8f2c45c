"""Resources shared by the Dagster definitions."""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import dagster as dg
import duckdb

from pipelines.project_files import REPO_ROOT
from pipelines.warehouse.lock import writer_lock

DUCKDB_PATH_ENV = "AOW_DUCKDB_PATH"
DEFAULT_DUCKDB_PATH = REPO_ROOT / "warehouse.duckdb"

# DuckDB allows one writer per file. Every op that opens the warehouse runs in this pool;
# the job also runs in-process (one step at a time). Give the pool a limit of 1 in the
# instance's dagster.yaml (concurrency: pools) so separate runs queue too.
DUCKDB_POOL = "duckdb_warehouse"


def default_duckdb_path() -> Path:
    """$AOW_DUCKDB_PATH, else warehouse.duckdb at the repository root."""
    return Path(os.environ.get(DUCKDB_PATH_ENV) or DEFAULT_DUCKDB_PATH).resolve()


class WarehouseResource(dg.ConfigurableResource):
    """The DuckDB warehouse file. Left unset, the path is read from $AOW_DUCKDB_PATH at run
    time (not at definitions load), falling back to <repo>/warehouse.duckdb."""

    duckdb_path: str | None = None

    @property
    def path(self) -> Path:
        return Path(self.duckdb_path).resolve() if self.duckdb_path else default_duckdb_path()

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

    @contextmanager
    def exported_path(self) -> Iterator[Path]:
        """Export the path as $AOW_DUCKDB_PATH for a subprocess (dbt's profile reads it)."""
        previous = os.environ.get(DUCKDB_PATH_ENV)
        os.environ[DUCKDB_PATH_ENV] = str(self.path)
        try:
            yield self.path
        finally:
            if previous is None:
                os.environ.pop(DUCKDB_PATH_ENV, None)
            else:
                os.environ[DUCKDB_PATH_ENV] = previous
