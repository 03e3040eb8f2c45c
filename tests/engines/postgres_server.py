"""A throwaway PostgreSQL 15 server for the tests, from the machine's own packages.

`postgres_server()` initialises a cluster in a private temporary directory (trust
authentication, a private unix socket directory, TCP on 127.0.0.1 on a free port, durability
off: fsync, full-page writes and synchronous commit), creates one database and yields where
to reach it. The server stops (`pg_ctl stop -m immediate`) and its directory goes on every
way out: the context's exit, and the interpreter's exit should the context never end.

PostgreSQL refuses to run as root: as root, every server binary runs as the `postgres`
system user (created when missing) through `runuser`. The cluster sorts text by its bytes
(LC_COLLATE C), as DuckDB does, and classifies characters as Unicode does (LC_CTYPE C.UTF-8:
lower() and the regular expressions' classes know every script, as DuckDB's do); its time
zone is UTC, as every warehouse's is.
Without the binaries (/usr/lib/postgresql/15/bin) the `postgres` fixture skips, saying why.
"""

from __future__ import annotations

import atexit
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, replace
from pathlib import Path

import pytest

POSTGRES_BIN = Path("/usr/lib/postgresql/15/bin")
SYSTEM_USER = "postgres"  # who runs the server when the tests run as root
SUPERUSER = "postgres"  # the cluster's superuser (initdb -U)
DEFAULT_DATABASE = "ai_outcomes"
# A test server keeps nothing: no durability, and quick to start.
SERVER_SETTINGS = {
    "fsync": "off",
    "full_page_writes": "off",
    "synchronous_commit": "off",
    "timezone": "UTC",
    "log_timezone": "UTC",
}
START_TIMEOUT_SECONDS = 60


@dataclass(frozen=True)
class PostgresServer:
    """Where a running server answers, and its database."""

    host: str
    port: int
    user: str
    database: str
    socket_dir: Path

    def env(self) -> dict[str, str]:
        """The AOW_POSTGRES_* settings that point the project (dbt's postgres target, the
        loaders) at this server's database."""
        return self.warehouse().env()

    def warehouse(self):
        """The project's handle on this database (pipelines.warehouse.engines.Postgres)."""
        from pipelines.warehouse.engines import Postgres

        return Postgres(host=self.host, port=self.port, user=self.user, database=self.database)

    def create_database(self, database: str) -> PostgresServer:
        """A new empty database on the same server (CREATE DATABASE outside a transaction)."""
        con = self.connect()
        try:
            con.autocommit = True
            with con.cursor() as cur:
                cur.execute(f'create database "{database}"')
        finally:
            con.close()
        return replace(self, database=database)

    def connect(self, database: str | None = None):
        """A psycopg2 connection to the server's database (or another one)."""
        import psycopg2

        return psycopg2.connect(
            host=self.host, port=self.port, user=self.user, dbname=database or self.database
        )


def missing_reason() -> str | None:
    """Why no server can start here, or None when one can."""
    if not (POSTGRES_BIN / "postgres").is_file():
        return f"PostgreSQL 15 is not installed ({POSTGRES_BIN} has no postgres binary)"
    return None


@contextmanager
def postgres_server(database: str = DEFAULT_DATABASE) -> Iterator[PostgresServer]:
    """A fresh server with an empty `database`, stopped and removed when the context ends."""
    reason = missing_reason()
    if reason:
        raise RuntimeError(reason)
    cluster = _Cluster()
    atexit.register(cluster.remove)
    try:
        cluster.start()
        cluster.psql(f'create database "{database}"')
        yield PostgresServer(
            host="127.0.0.1",
            port=cluster.port,
            user=SUPERUSER,
            database=database,
            socket_dir=cluster.socket_dir,
        )
    finally:
        cluster.remove()
        atexit.unregister(cluster.remove)


@pytest.fixture(scope="session")
def postgres() -> Iterator[PostgresServer]:
    """One throwaway server per test session (skips when PostgreSQL 15 is not installed)."""
    reason = missing_reason()
    if reason:
        pytest.skip(reason)
    with postgres_server() as server:
        yield server


@pytest.fixture
def postgres_env(postgres: PostgresServer, monkeypatch: pytest.MonkeyPatch) -> PostgresServer:
    """The session's server, with the AOW_POSTGRES_* variables pointing at it for one test."""
    for key, value in postgres.env().items():
        monkeypatch.setenv(key, value)
    return postgres


class _Cluster:
    """One cluster's directory (data, socket, log) and its server process."""

    def __init__(self) -> None:
        self.as_system_user = os.geteuid() == 0
        if self.as_system_user:
            _ensure_system_user()
        # Not under pytest's base temporary directory: root's is private (0700), and the
        # server runs as another user.
        self.root = Path(tempfile.mkdtemp(prefix="aow-postgres-"))
        self.data = self.root / "data"
        self.socket_dir = self.root / "socket"
        self.log = self.root / "server.log"
        self.socket_dir.mkdir()
        if self.as_system_user:
            owner = pwd.getpwnam(SYSTEM_USER)
            for path in (self.root, self.socket_dir):
                os.chown(path, owner.pw_uid, owner.pw_gid)
        self.port = 0
        self.started = False
        self.removed = False

    def run(self, *args: str, check: bool = True) -> subprocess.CompletedProcess:
        """A PostgreSQL binary (by name) with `args`, as the user that may run the server."""
        command = [str(POSTGRES_BIN / args[0]), *args[1:]]
        if self.as_system_user:
            command = ["runuser", "-u", SYSTEM_USER, "--", *command]
        done = subprocess.run(command, capture_output=True, text=True, cwd=self.root)
        if check and done.returncode != 0:
            raise RuntimeError(
                f"{args[0]} failed ({done.returncode}): {done.stderr.strip() or done.stdout}"
                f"{self._log_tail()}"
            )
        return done

    def start(self) -> None:
        self.run(
            "initdb", "-D", str(self.data), "-U", SUPERUSER, "--auth=trust",
            "--encoding=UTF8", "--locale=C", f"--lc-ctype={_utf8_ctype()}", "--no-sync",
        )  # fmt: skip
        options = [
            "-c listen_addresses=127.0.0.1",
            f"-k {self.socket_dir}",
            *(f"-c {name}={value}" for name, value in SERVER_SETTINGS.items()),
        ]
        # A free port can be taken between asking and listening: try a few.
        for attempt in range(5):
            self.port = _free_port()
            self.started = True
            done = self.run(
                "pg_ctl", "start", "-D", str(self.data), "-l", str(self.log), "-w",
                "-t", str(START_TIMEOUT_SECONDS), "-o", " ".join([*options, f"-p {self.port}"]),
                check=attempt == 4,
            )  # fmt: skip
            if done.returncode == 0:
                return
            self.stop()

    def psql(self, statement: str) -> str:
        """One statement through psql on the maintenance database (each in its own
        transaction: CREATE DATABASE refuses to run inside one)."""
        done = self.run(
            "psql", "-X", "-q", "-v", "ON_ERROR_STOP=1", "-h", str(self.socket_dir),
            "-p", str(self.port), "-U", SUPERUSER, "-d", "postgres", "-c", statement,
        )  # fmt: skip
        return done.stdout

    def stop(self) -> None:
        if self.started and (self.data / "postmaster.pid").exists():
            self.run("pg_ctl", "stop", "-D", str(self.data), "-m", "immediate", "-w", check=False)
        self.started = False

    def remove(self) -> None:
        if self.removed:
            return
        try:
            self.stop()
        finally:
            shutil.rmtree(self.root, ignore_errors=True)
            self.removed = True

    def _log_tail(self) -> str:
        try:
            lines = self.log.read_text(errors="replace").splitlines()[-20:]
        except OSError:
            return ""
        return "\nserver log:\n" + "\n".join(lines) if lines else ""


def _ensure_system_user() -> None:
    try:
        pwd.getpwnam(SYSTEM_USER)
    except KeyError:
        subprocess.run(
            ["useradd", "--system", "--no-create-home", "--shell", "/usr/sbin/nologin",
             SYSTEM_USER],
            check=True, capture_output=True,
        )  # fmt: skip


def _utf8_ctype() -> str:
    """The machine's name of the C.UTF-8 locale (glibc lists it as C.utf8)."""
    listed = subprocess.run(["locale", "-a"], capture_output=True, text=True).stdout.split()
    for name in listed:
        if name.lower().replace("-", "") == "c.utf8":
            return name
    raise RuntimeError(
        "the C.UTF-8 locale is missing (locale -a), which the cluster's LC_CTYPE needs"
    )


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]
