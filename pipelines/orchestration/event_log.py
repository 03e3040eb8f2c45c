"""The instance's event log: Dagster's SQLite storage with its connections kept open.

Dagster's `SqliteEventLogStorage` makes an engine, opens a connection and disposes of both for
every event it writes, and a run writes about 1,400 (a step's start and end, each output,
materialization and check, and each one planned at the run's start); asset and check events
are written to the run's file and to the index, so twice or three times. Closing a file's last
connection also checkpoints its write-ahead log into the file and deletes the log, so each
event paid a few fsyncs: 7 to 9 s of a 30 s daily run on the demo organisation.

This storage keeps an engine and one open connection per file instead (the index and the
runs used last), in the same files with the same schema: an instance can move between it and
Dagster's own. A run's file is checkpointed (`PRAGMA wal_checkpoint(PASSIVE)`) after each
use, because the webserver follows a run's events by watching that file, not its log.
"""

from __future__ import annotations

import os
from collections import OrderedDict
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from dagster._config import StringSource
from dagster._core.storage.event_log.sqlite.sqlite_event_log import (
    INDEX_SHARD_NAME,
    SqliteEventLogStorage,
)
from dagster._core.storage.sql import create_engine
from dagster._core.storage.sqlite import SQLITE_BUSY_TIMEOUT_SECONDS
from dagster._core.storage.sqlite_storage import _event_logs_directory
from dagster._serdes import ConfigurableClassData
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.pool import QueuePool

# Engines kept besides the index's: a run's process writes one run's file; the webserver reads
# a few recent runs at a time. Older ones are disposed of, so open files stay bounded.
KEPT_RUN_FILES = 8


class KeptOpenSqliteEventLogStorage(SqliteEventLogStorage):
    """Configured in dagster.yaml under `event_log_storage`, with `instance_dir` the instance's
    directory (DAGSTER_HOME); events go where Dagster's default SQLite storage puts them."""

    def __init__(self, base_dir: str, inst_data: ConfigurableClassData | None = None):
        self._engines: OrderedDict[str, Engine] = OrderedDict()
        self._engines_pid = os.getpid()
        super().__init__(base_dir, inst_data)

    @classmethod
    def config_type(cls) -> dict[str, Any]:
        return {"instance_dir": StringSource}

    @classmethod
    def from_config_value(  # type: ignore[override]
        cls, inst_data: ConfigurableClassData | None, config_value: dict[str, str]
    ) -> KeptOpenSqliteEventLogStorage:
        return cls(_event_logs_directory(config_value["instance_dir"]), inst_data=inst_data)

    @contextmanager
    def _connect(self, shard: str) -> Iterator[Connection]:
        # Dagster's own lock: one connection in use at a time, so one per file suffices.
        with self._db_lock:
            engine = self._engine(shard)
            with engine.connect() as conn:
                with conn.begin():
                    yield conn
                if shard != INDEX_SHARD_NAME:
                    conn.exec_driver_sql("PRAGMA wal_checkpoint(PASSIVE)")

    def _engine(self, shard: str) -> Engine:
        if os.getpid() != self._engines_pid:
            # A forked process must not use its parent's connections, nor close them.
            for engine in self._engines.values():
                engine.dispose(close=False)
            self._engines.clear()
            self._engines_pid = os.getpid()
        engine = self._engines.pop(shard, None)
        if engine is None:
            engine = create_engine(
                self.conn_string_for_shard(shard),
                poolclass=QueuePool,
                pool_size=1,
                connect_args={"timeout": SQLITE_BUSY_TIMEOUT_SECONDS},
            )
            if shard not in self._initialized_dbs:
                self._initdb(engine)
                self._initialized_dbs.add(shard)
            if shard != INDEX_SHARD_NAME:  # room for it among the runs kept
                runs = [name for name in self._engines if name != INDEX_SHARD_NAME]
                for name in runs[: max(0, len(runs) + 1 - KEPT_RUN_FILES)]:
                    self._engines.pop(name).dispose()
        self._engines[shard] = engine  # the most recently used last
        return engine

    def _dispose_engines(self) -> None:
        with self._db_lock:
            for engine in self._engines.values():
                engine.dispose()
            self._engines.clear()

    def wipe(self) -> None:
        # Wiping deletes the runs' files: no connection may stay open on a deleted file.
        self._dispose_engines()
        super().wipe()

    def dispose(self) -> None:
        self._dispose_engines()
        super().dispose()
