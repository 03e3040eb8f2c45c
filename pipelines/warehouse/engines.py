"""The warehouse engines: DuckDB (the default), PostgreSQL and Apache Spark.

One setting chooses the engine (AOW_WAREHOUSE, read by pipelines.settings), and everything
that touches the warehouse follows the `Warehouse` it gives:

    DuckDB      a file (a `Path`). dlt loads into a stage that is swapped in whole
                (pipelines.ingest.staged_loads); dbt's `dev` target.
    PostgreSQL  a server (`Postgres`). dlt's postgres destination writes the raw schemas
                directly, in its own transactions; dbt's `postgres` target.
    Spark       a Spark Thrift Server over a lake directory (`Spark`). dlt's filesystem
                destination writes each raw table as Parquet files under
                `<lake>/<dataset>/<table>/`, which are registered as external tables of a
                database named like the dataset (pipelines.warehouse.lake); dbt's `spark`
                target (dbt-spark, method thrift).

`connect(warehouse)` gives a connection with DuckDB's small interface (`execute(sql, params)`
then `fetchone`, `fetchall`, `df`), with `?` placeholders on every engine, so the readers
(the quality suites, the load log, the tests) are written once.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any, ClassVar

from pipelines.warehouse.sql import quoted

ENGINES = ("duckdb", "postgres", "spark")
DEFAULT_ENGINE = "duckdb"


@dataclass(frozen=True)
class Postgres:
    """A PostgreSQL database (15 or newer: the incremental models merge)."""

    engine: ClassVar[str] = "postgres"  # also the dbt profile's output
    # Each field's setting (pipelines.settings reads them, dbt's profile reads them too).
    SETTINGS: ClassVar[dict[str, str]] = {
        "host": "AOW_POSTGRES_HOST",
        "port": "AOW_POSTGRES_PORT",
        "user": "AOW_POSTGRES_USER",
        "database": "AOW_POSTGRES_DATABASE",
        "password": "AOW_POSTGRES_PASSWORD",
    }

    host: str = "127.0.0.1"
    port: int = 5432
    user: str = "postgres"
    database: str = "ai_outcomes"
    password: str = field(default="", repr=False)

    def dlt_credentials(self) -> Any:
        from dlt.destinations.impl.postgres.configuration import PostgresCredentials

        credentials = PostgresCredentials()
        credentials.host, credentials.port = self.host, self.port
        credentials.username, credentials.database = self.user, self.database
        credentials.password = self.password or None
        credentials.resolve()
        return credentials

    def env(self) -> dict[str, str]:
        return settings_env(self)

    def __str__(self) -> str:
        return f"postgres://{self.user}@{self.host}:{self.port}/{self.database}"


@dataclass(frozen=True)
class Spark:
    """A Spark Thrift Server whose tables live in (or point into) the lake directory."""

    engine: ClassVar[str] = "spark"  # also the dbt profile's output
    SETTINGS: ClassVar[dict[str, str]] = {
        "lake": "AOW_SPARK_LAKE",
        "host": "AOW_SPARK_HOST",
        "port": "AOW_SPARK_PORT",
    }

    lake: Path
    host: str = "127.0.0.1"
    port: int = 10000

    def env(self) -> dict[str, str]:
        return settings_env(self)

    def __str__(self) -> str:
        return f"spark://{self.host}:{self.port} (lake {self.lake})"


# A DuckDB warehouse is its file.
Warehouse = Path | Postgres | Spark
SERVERS: dict[str, type[Postgres] | type[Spark]] = {"postgres": Postgres, "spark": Spark}


def settings_env(server: Postgres | Spark) -> dict[str, str]:
    """The AOW_* settings that name `server`: what the dbt profile's output reads, and what
    points a process's settings at it."""
    return {name: str(getattr(server, field)) for field, name in server.SETTINGS.items()}


def engine_of(warehouse: Warehouse | str) -> str:
    return getattr(warehouse, "engine", DEFAULT_ENGINE)


def is_duckdb(warehouse: Warehouse | str) -> bool:
    return engine_of(warehouse) == DEFAULT_ENGINE


def dbt_target(warehouse: Warehouse | str) -> str:
    """The output of dbt_project/profiles.yml for the warehouse: a server's is its engine."""
    return "dev" if is_duckdb(warehouse) else engine_of(warehouse)


def dbt_env(warehouse: Warehouse | str) -> dict[str, str]:
    """The environment the dbt profile's output reads (none for DuckDB: the file is a var)."""
    return {} if is_duckdb(warehouse) else settings_env(warehouse)


def quote(engine: str, identifier: str) -> str:
    """`identifier` quoted for the engine: Spark quotes with backticks."""
    if engine == "spark":
        return "`" + identifier.replace("`", "``") + "`"
    return quoted(identifier)


class WarehouseQueryError(RuntimeError):
    """A statement the server refused, with the server's own message."""


class WarehouseUnreachable(RuntimeError):
    """The warehouse's server did not accept a connection."""


def _server_message(exc: Exception) -> str:
    """The server's message alone: the Thrift Server's error carries the whole Java stack."""
    response = exc.args[0] if exc.args else None
    status = getattr(response, "status", None)
    return getattr(status, "errorMessage", None) or str(exc).strip()


class Result:
    """A query's rows, read the way DuckDB's connection gives them."""

    def __init__(self, description: Sequence[Any] | None, rows: list[tuple[Any, ...]]):
        self.description = description
        self._rows = rows

    def fetchall(self) -> list[tuple[Any, ...]]:
        return self._rows

    def fetchone(self) -> tuple[Any, ...] | None:
        return self._rows[0] if self._rows else None

    def df(self) -> Any:
        """A DataFrame as DuckDB's gives it: decimals as floats (the drivers give Decimals)."""
        import pandas as pd

        names = [d[0] for d in self.description or ()]
        frame = pd.DataFrame.from_records(self._rows, columns=names)
        for name in frame.columns:
            values = frame[name].dropna()
            if (
                len(values)
                and isinstance(values.iloc[0], Decimal)
                and all(isinstance(v, Decimal) for v in values)
            ):
                frame[name] = frame[name].astype(float)
        return frame


class Connection:
    """A DB-API connection to a server engine behind DuckDB's `execute` interface."""

    _PLACEHOLDER = re.compile(r"\?")

    def __init__(self, engine: str, dbapi: Any) -> None:
        self.engine = engine
        self._dbapi = dbapi

    def execute(self, sql: str, parameters: Sequence[Any] | None = None) -> Result:
        cursor = self._dbapi.cursor()
        try:
            if parameters:
                # Both drivers take pyformat's %s; a literal % must then be doubled.
                text = self._PLACEHOLDER.sub("%s", sql.replace("%", "%%"))
                cursor.execute(text, tuple(parameters))
            else:
                cursor.execute(sql)
            rows = cursor.fetchall() if cursor.description else []
            return Result(cursor.description, self._typed(cursor.description, rows))
        except Exception as exc:
            raise WarehouseQueryError(_server_message(exc)) from None
        finally:
            cursor.close()

    def _typed(self, description: Any, rows: list[Any]) -> list[tuple[Any, ...]]:
        """The rows as tuples; the Thrift driver gives dates as ISO text: dates again."""
        dates = [i for i, d in enumerate(description or ()) if d[1] == "DATE_TYPE"]
        if not dates:
            return [tuple(r) for r in rows]
        typed = []
        for row in rows:
            values = list(row)
            for i in dates:
                if isinstance(values[i], str):
                    values[i] = date.fromisoformat(values[i])
            typed.append(tuple(values))
        return typed

    def quote(self, identifier: str) -> str:
        return quote(self.engine, identifier)

    def relation_exists(self, schema: str, name: str) -> bool:
        if self.engine == "spark":
            if not self.execute("show databases like ?", [schema]).fetchall():
                return False
            return bool(
                self.execute(f"show tables in {self.quote(schema)} like ?", [name]).fetchall()
            )
        return _in_information_schema(self, schema, name)

    def close(self) -> None:
        self._dbapi.close()

    def __enter__(self) -> Connection:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


@contextmanager
def connect(warehouse: Warehouse, read_only: bool = True) -> Iterator[Any]:
    """A connection to the warehouse, closed on exit: DuckDB's own for a file (read-only
    unless asked), else a `Connection`. Server engines take every statement in autocommit."""
    if is_duckdb(warehouse):
        import duckdb

        con = duckdb.connect(str(Path(warehouse).resolve()), read_only=read_only)
    else:
        try:
            con = _server_connection(warehouse)
        except Exception as exc:  # noqa: BLE001 - each driver raises its own kind
            reason = " ".join(str(exc).split()) or type(exc).__name__
            raise WarehouseUnreachable(f"cannot connect to {warehouse}: {reason}") from None
    try:
        yield con
    finally:
        con.close()


class WarehouseNotReady(RuntimeError):
    """The warehouse is reachable but set up so that the marts would come out otherwise."""


def require_build_settings(warehouse: Warehouse) -> None:
    """The server settings the models' results depend on, checked before a build; raises
    WarehouseNotReady saying what to change.

    Postgres: the database sorts text by bytes (collation C, as DuckDB and Spark do) and knows
    every script's letters (a UTF-8 character type): ordering, lower() and the regular
    expressions' word characters depend on both. Spark: the session time zone is UTC (a
    timestamp is shown, and truncated to days, in it), and an insert_overwrite replaces only
    the partitions it writes (dynamic partition overwrite; static would empty the table)."""
    if isinstance(warehouse, Postgres):
        with connect(warehouse) as con:
            collate, ctype = con.execute(
                "select datcollate, datctype from pg_database where datname = current_database()"
            ).fetchone()
        if collate not in ("C", "POSIX") or "utf8" not in ctype.lower().replace("-", ""):
            raise WarehouseNotReady(
                f"the database {warehouse.database} has LC_COLLATE {collate!r} and LC_CTYPE "
                f"{ctype!r}: the models need 'C' and a UTF-8 one. Create it with: create "
                f"database {warehouse.database} template template0 lc_collate 'C' "
                "lc_ctype 'C.UTF-8'"
            )
    elif isinstance(warehouse, Spark):
        wanted = {
            "spark.sql.session.timeZone": "UTC",
            "spark.sql.sources.partitionOverwriteMode": "dynamic",
        }
        with connect(warehouse) as con:
            found = {key: str(con.execute(f"set {key}").fetchone()[1]) for key in wanted}
        wrong = [f"{k}={v} (needs {wanted[k]})" for k, v in found.items() if v != wanted[k]]
        if wrong:
            raise WarehouseNotReady(
                f"the Spark Thrift Server at {warehouse.host}:{warehouse.port} runs with "
                + ", ".join(wrong)
                + ": start it with these settings (docs/warehouses.md)"
            )


def _server_connection(warehouse: Postgres | Spark) -> Connection:
    if isinstance(warehouse, Postgres):
        import psycopg2

        dbapi = psycopg2.connect(
            host=warehouse.host,
            port=warehouse.port,
            user=warehouse.user,
            password=warehouse.password or None,
            dbname=warehouse.database,
            options="-c TimeZone=UTC",
        )
        dbapi.autocommit = True
        return Connection("postgres", dbapi)
    from pyhive import hive

    return Connection("spark", hive.connect(host=warehouse.host, port=warehouse.port))


def relation_exists(con: Any, schema: str, name: str) -> bool:
    """Whether `schema.name` is a table or view, on any engine's connection."""
    if isinstance(con, Connection):
        return con.relation_exists(schema, name)
    return _in_information_schema(con, schema, name)


def _in_information_schema(con: Any, schema: str, name: str) -> bool:
    return bool(
        con.execute(
            "select count(*) from information_schema.tables "
            "where table_schema = ? and table_name = ?",
            [schema, name],
        ).fetchone()[0]
    )


def identifier_quote(con: Any) -> Any:
    """The function quoting identifiers for the connection's engine."""
    return con.quote if isinstance(con, Connection) else quoted
