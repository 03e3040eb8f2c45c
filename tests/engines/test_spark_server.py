"""The local Spark Thrift Server of the Spark warehouse's tests starts, answers through
PyHive, and stops with nothing left behind."""

from __future__ import annotations

import socket

import pytest

from tests.engines.spark_server import (
    JavaMissing,
    java_executable,
    spark_thrift_server,
    spark_unavailable,
)


def _listening(host: str, port: int) -> bool:
    try:
        socket.create_connection((host, port), timeout=1).close()
    except OSError:
        return False
    return True


def test_starts_answers_and_stops(tmp_path):
    reason = spark_unavailable()
    if reason:
        pytest.skip(reason)
    with spark_thrift_server(tmp_path) as server:
        assert server.host == "127.0.0.1"
        assert server.query("select 1") == [(1,)]
        # Timestamps are UTC and casts are strict, whatever the host's settings.
        assert server.query("select current_timezone()") == [("UTC",)]
        assert server.query("set spark.sql.ansi.enabled") == [("spark.sql.ansi.enabled", "true")]
        assert server.lake.is_dir()
        assert server.env()["AOW_SPARK_PORT"] == str(server.port)
        workdir, port = server.workdir, server.port
        print(f"Spark Thrift Server answered after {server.start_seconds:.1f} s")
    assert not _listening("127.0.0.1", port)
    assert not workdir.exists()
    assert not any(p.name.startswith("aow-spark-") for p in tmp_path.iterdir())


def test_java_missing_is_reported(monkeypatch):
    monkeypatch.delenv("JAVA_HOME", raising=False)
    monkeypatch.setattr("shutil.which", lambda name: None)
    with pytest.raises(JavaMissing, match="Java"):
        java_executable()
