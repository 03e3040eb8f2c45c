"""One writer at a time per warehouse file, with an error that says who holds it.

DuckDB allows a single writing process per database file; a second one fails deep inside
dlt or dbt with "Could not set lock on file". Every writer (a dlt load, a dbt build, the
check-results history) first takes an advisory lock on `<warehouse>.writer.lock` and
records who it is there, so a second writer stops at once with WarehouseBusy naming the
holder. Dagster runs queue on the `duckdb_warehouse` pool before they get here; this is
the guard for everything else (a second `dagster dev`, the command line, a cron job).

The lock is an flock on an open file: the kernel drops it when the holder exits, however
it exits, so a crashed run never leaves a stale lock behind.
"""

from __future__ import annotations

import fcntl
import json
import os
import socket
from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager, nullcontext
from datetime import UTC, datetime
from pathlib import Path

from pipelines.warehouse.path import require_directory


class WarehouseBusy(RuntimeError):
    """Another process is writing the warehouse file."""


def lock_path(warehouse: Path | str) -> Path:
    path = Path(warehouse).resolve()
    return path.with_name(path.name + ".writer.lock")


@contextmanager
def writer_lock(warehouse: Path | str, holder: str) -> Iterator[Path]:
    """Hold the warehouse's writer lock for the block; `holder` says who (a run id, a
    command). Raises WarehouseBusy without waiting if another process holds it."""
    require_directory(warehouse)  # a mistyped path is an error, not a new directory
    path = lock_path(warehouse)
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise WarehouseBusy(_busy_message(warehouse, _read_holder(fd))) from None
        _write_holder(fd, holder)
        try:
            yield path
        finally:
            os.ftruncate(fd, 0)
            fcntl.flock(fd, fcntl.LOCK_UN)
    finally:
        os.close(fd)


def _write_holder(fd: int, holder: str) -> None:
    record = {
        "holder": holder,
        "pid": os.getpid(),
        "host": socket.gethostname(),
        "since": datetime.now(UTC).isoformat(timespec="seconds"),
    }
    os.ftruncate(fd, 0)
    os.pwrite(fd, json.dumps(record).encode(), 0)


def _read_holder(fd: int) -> dict[str, object]:
    try:
        return json.loads(os.pread(fd, 4096, 0) or b"{}")
    except ValueError:
        return {}


def _busy_message(warehouse: Path | str, holder: dict[str, object]) -> str:
    who = (
        f"{holder.get('holder', 'another process')} (pid {holder.get('pid', '?')} on "
        f"{holder.get('host', '?')}, since {holder.get('since', '?')})"
        if holder
        else "another process"
    )
    return (
        f"the warehouse {Path(warehouse).resolve()} is being written by {who}. DuckDB allows "
        "one writer per file: wait for that run to finish (Dagster queues runs on the "
        "duckdb_warehouse pool), or point AOW_DUCKDB_PATH at another file."
    )


def warehouse_writer(warehouse: object, holder: str) -> AbstractContextManager[object]:
    """The writer lock of a DuckDB file; a server engine (pipelines.warehouse.engines) takes
    concurrent writers itself, so there is nothing to hold."""
    from pipelines.warehouse.engines import is_duckdb

    return writer_lock(warehouse, holder) if is_duckdb(warehouse) else nullcontext()
