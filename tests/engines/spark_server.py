"""A local Spark Thrift Server for the Spark warehouse's tests: pyspark's own Spark (the
package `make spark` installs in .tools/spark is SPARK_HOME), Hive support with a Derby
metastore, everything in a temporary directory that goes with the server.

`spark_thrift_server()` starts one and yields its connection facts (`SparkServer`: host, port,
the lake directory where raw Parquet lands); the session fixture `spark_server` does the same
for pytest and points the project's settings (AOW_SPARK_HOST, AOW_SPARK_PORT, AOW_SPARK_LAKE)
at it. Offline by design: no jar is fetched at run time (no Delta, no Iceberg), so tables are
plain Parquet. The server binds to loopback only, runs without its UI, and is stopped (its
whole process group) on every way out: the context's exit, an exception, the interpreter's
exit (atexit) when a run is cut short, or the death of the process that started it (the
kernel's parent-death signal, for a run killed outright).

Start time on the project's 2-core machine: about 8 s from launch to the first answered query
(the JVM, the Derby metastore's creation, the first session) when idle, 15-30 s beside a
load or a build.
"""

from __future__ import annotations

import atexit
import ctypes
import functools
import importlib.util
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from contextlib import closing, contextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest

HOST = "127.0.0.1"
# pyspark's distribution as `make spark` installs it.
SPARK_DISTRIBUTION = Path(__file__).resolve().parents[2] / ".tools" / "spark" / "pyspark"
THRIFT_SERVER_CLASS = "org.apache.spark.sql.hive.thriftserver.HiveThriftServer2"
START_TIMEOUT_SECONDS = 180.0
STOP_TIMEOUT_SECONDS = 20.0
PR_SET_PDEATHSIG = 1  # prctl(2)


# Spark's INFO log writes hundreds of thousands of lines over one dbt build: warnings only.
LOG_CONFIG = """\
rootLogger.level = warn
rootLogger.appenderRef.stdout.ref = console
appender.console.type = Console
appender.console.name = console
appender.console.target = SYSTEM_ERR
appender.console.layout.type = PatternLayout
appender.console.layout.pattern = %d{yy/MM/dd HH:mm:ss} %p %c{1}: %m%n
"""


class SparkUnavailable(RuntimeError):
    """Spark cannot start on this machine (the reason says what is missing)."""


class JavaMissing(SparkUnavailable):
    """No Java runtime."""


class SparkMissing(SparkUnavailable):
    """No Spark distribution."""


@dataclass(frozen=True)
class SparkServer:
    host: str
    port: int
    lake: Path  # raw Parquet, <lake>/<dataset>/<table>/
    workdir: Path  # the server's temporary directory (metastore, warehouse, logs)
    start_seconds: float  # launch to the first answered query

    @property
    def log(self) -> Path:
        return self.workdir / "thriftserver.log"

    def env(self) -> dict[str, str]:
        """The project's settings that point dbt and the loaders at this server."""
        from pipelines.warehouse.engines import Spark

        return Spark(self.lake, self.host, self.port).env()

    def connect(self):
        """A PyHive connection to the server (close it when done)."""
        from pyhive import hive

        return hive.connect(host=self.host, port=self.port, username="spark")

    def query(self, sql: str) -> list[tuple]:
        """Run one statement; its rows (none for a statement without a result)."""
        with closing(self.connect()) as con, closing(con.cursor()) as cur:
            cur.execute(sql)
            return cur.fetchall() if cur.description else []


def spark_home() -> Path:
    """pyspark's package directory, a complete Spark distribution (bin/, jars/): the one
    `make spark` installs in .tools/spark (apart from .venv, where Great Expectations would
    import it), else an importable pyspark's."""
    if (SPARK_DISTRIBUTION / "bin" / "spark-submit").exists():
        return SPARK_DISTRIBUTION
    spec = importlib.util.find_spec("pyspark")  # found, not imported
    if spec is not None and spec.origin is not None:
        return Path(spec.origin).parent
    raise SparkMissing(f"no Spark distribution in {SPARK_DISTRIBUTION}: run `make spark`")


def spark_unavailable() -> str | None:
    """Why a local Spark Thrift Server cannot start here (no Java, no Spark), or None."""
    try:
        java_executable()
        spark_home()
    except SparkUnavailable as e:
        return str(e)
    return None


def java_executable() -> str:
    """The `java` Spark's launcher will run (JAVA_HOME's, else the PATH's)."""
    java_home = os.environ.get("JAVA_HOME")
    if java_home and (Path(java_home) / "bin" / "java").exists():
        return str(Path(java_home) / "bin" / "java")
    found = shutil.which("java")
    if found is None:
        raise JavaMissing("no Java runtime (java on PATH or JAVA_HOME): Spark needs one")
    return found


def free_port() -> int:
    with closing(socket.socket(socket.AF_INET, socket.SOCK_STREAM)) as s:
        s.bind((HOST, 0))
        return s.getsockname()[1]


def server_conf(workdir: Path) -> dict[str, str]:
    """Spark's settings for the server: loopback, no UI, every file under `workdir`, UTC,
    dynamic partition overwrite (insert_overwrite replaces only the partitions it writes)."""
    metastore = workdir / "metastore_db"
    java_opts = f"-Dderby.system.home={workdir} -Duser.timezone=UTC -Djava.io.tmpdir={workdir}"
    return {
        "spark.master": "local[2]",
        "spark.driver.host": HOST,
        "spark.driver.bindAddress": HOST,
        "spark.ui.enabled": "false",
        "spark.local.dir": str(workdir / "local"),
        "spark.sql.warehouse.dir": str(workdir / "warehouse"),
        "spark.sql.catalogImplementation": "hive",
        "spark.hadoop.javax.jdo.option.ConnectionURL": (
            f"jdbc:derby:;databaseName={metastore};create=true"
        ),
        "spark.driver.extraJavaOptions": java_opts,
        "spark.driver.memory": "2g",
        "spark.sql.session.timeZone": "UTC",
        # ANSI SQL: a malformed cast fails the statement instead of giving null. (dbt-spark
        # asks for it off as a session setting, which the Thrift Server does not apply.)
        "spark.sql.ansi.enabled": "true",
        "spark.sql.sources.partitionOverwriteMode": "dynamic",
        # A small warehouse: a handful of shuffle partitions, not 200 tasks per join.
        "spark.sql.shuffle.partitions": "2",
        "spark.sql.adaptive.enabled": "true",
        # Statements run in the caller's request: dbt-spark polls an asynchronous one only
        # every poll_interval (whole) seconds.
        "spark.sql.hive.thriftServer.async": "false",
        "spark.eventLog.enabled": "false",
    }


def _command(home: Path, workdir: Path, port: int) -> list[str]:
    cmd = [str(home / "bin" / "spark-submit"), "--class", THRIFT_SERVER_CLASS]
    for key, value in server_conf(workdir).items():
        cmd += ["--conf", f"{key}={value}"]
    cmd += ["--name", "aow-thriftserver", "spark-internal"]
    for key, value in {
        "hive.server2.thrift.bind.host": HOST,
        "hive.server2.thrift.port": str(port),
        "hive.server2.transport.mode": "binary",
        "hive.server2.authentication": "NONE",
    }.items():
        cmd += ["--hiveconf", f"{key}={value}"]
    return cmd


def _environment(home: Path, workdir: Path, java: str) -> dict[str, str]:
    env = dict(os.environ)
    env.update(
        SPARK_HOME=str(home),
        SPARK_LOCAL_IP=HOST,
        SPARK_LOCAL_DIRS=str(workdir / "local"),
        SPARK_CONF_DIR=str(workdir / "conf"),
        SPARK_LOG_DIR=str(workdir),
        HADOOP_USER_NAME="spark",
        TZ="UTC",
    )
    env.setdefault("JAVA_HOME", str(Path(java).resolve().parent.parent))
    # The server must not pick up a Python-side Spark session's settings.
    env.pop("PYSPARK_SUBMIT_ARGS", None)
    return env


def _die_with_parent() -> None:
    """In the server's process (Linux): the kernel sends it SIGTERM when the process that
    started it dies, even by SIGKILL, where neither `finally` nor atexit runs."""
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(PR_SET_PDEATHSIG, signal.SIGTERM)
    except (OSError, AttributeError):
        pass


def _answers(port: int) -> bool:
    """True when the server runs a real query."""
    from pyhive import hive

    try:  # nothing listens yet: no need for Thrift (which logs every refused connection)
        socket.create_connection((HOST, port), timeout=1).close()
    except OSError:
        return False
    try:
        with (
            closing(hive.connect(host=HOST, port=port, username="spark")) as con,
            closing(con.cursor()) as cur,
        ):
            cur.execute("select 1")
            return cur.fetchall() == [(1,)]
    except Exception:
        return False


def _stop(process: subprocess.Popen) -> None:
    """Stop the server's process group: SIGTERM, then SIGKILL when it lingers."""
    if process.poll() is not None:
        return
    try:
        os.killpg(process.pid, signal.SIGTERM)
        process.wait(timeout=STOP_TIMEOUT_SECONDS)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=STOP_TIMEOUT_SECONDS)
    except ProcessLookupError:
        pass


@contextmanager
def spark_thrift_server(base_dir: Path | str | None = None) -> Iterator[SparkServer]:
    """A Spark Thrift Server on a free loopback port, answering queries, until the context
    exits; its temporary directory (under `base_dir`, default the system's) goes with it."""
    java = java_executable()
    home = spark_home()
    workdir = Path(tempfile.mkdtemp(prefix="aow-spark-", dir=base_dir))
    process: subprocess.Popen | None = None
    stopper = None
    try:
        for sub in ("local", "warehouse", "conf", "lake"):
            (workdir / sub).mkdir()
        (workdir / "conf" / "log4j2.properties").write_text(LOG_CONFIG)
        port = free_port()
        started = time.monotonic()
        with (workdir / "thriftserver.log").open("wb") as log:
            process = subprocess.Popen(
                _command(home, workdir, port),
                cwd=workdir,
                env=_environment(home, workdir, java),
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,  # its own process group: killed whole
                preexec_fn=_die_with_parent,
            )
        stopper = functools.partial(_stop, process)
        atexit.register(stopper)
        while not _answers(port):
            if process.poll() is not None:
                raise RuntimeError(
                    f"the Spark Thrift Server exited ({process.returncode}) before answering:"
                    f"\n{_tail(workdir / 'thriftserver.log')}"
                )
            if time.monotonic() - started > START_TIMEOUT_SECONDS:
                raise RuntimeError(
                    f"the Spark Thrift Server did not answer within {START_TIMEOUT_SECONDS:.0f} s:"
                    f"\n{_tail(workdir / 'thriftserver.log')}"
                )
            time.sleep(0.5)
        yield SparkServer(HOST, port, workdir / "lake", workdir, time.monotonic() - started)
    finally:
        if process is not None:
            _stop(process)
            if stopper is not None:
                atexit.unregister(stopper)
        shutil.rmtree(workdir, ignore_errors=True)


def _tail(path: Path, lines: int = 40) -> str:
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return "(no log)"


@pytest.fixture(scope="session")
def spark_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SparkServer]:
    """One Spark Thrift Server per test session, with AOW_SPARK_HOST / AOW_SPARK_PORT /
    AOW_SPARK_LAKE pointing at it for the session; skipped when Java is missing."""
    reason = spark_unavailable()
    if reason:
        pytest.skip(f"Spark warehouse tests need a local Spark: {reason}")
    with (
        spark_thrift_server(tmp_path_factory.getbasetemp()) as server,
        pytest.MonkeyPatch.context() as mp,
    ):
        for key, value in server.env().items():
            mp.setenv(key, value)
        yield server
