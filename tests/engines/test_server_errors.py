"""A server warehouse that cannot serve the models says so in one line, before any work."""

from __future__ import annotations

import pytest

from pipelines.cli import main
from tests.engines.postgres_server import PostgresServer, missing_reason

pytestmark = pytest.mark.skipif(missing_reason() is not None, reason=str(missing_reason()))


def _errors(err: str) -> list[str]:
    return [line for line in err.splitlines() if line.startswith("error:")]


def test_an_unreachable_server_is_named(monkeypatch: pytest.MonkeyPatch, capsys, postgres):
    monkeypatch.setenv("AOW_WAREHOUSE", "postgres")
    monkeypatch.setenv("AOW_POSTGRES_PORT", "1")  # nothing listens there
    assert main(["check"]) == 2
    [line] = _errors(capsys.readouterr().err)
    assert line.startswith("error: cannot connect to postgres://postgres@127.0.0.1:1/ai_outcomes:")
    assert "Connection refused" in line


def test_a_database_sorting_text_by_locale_is_refused(
    monkeypatch: pytest.MonkeyPatch, capsys, postgres: PostgresServer
):
    con = postgres.connect()
    try:
        con.autocommit = True
        with con.cursor() as cur:
            cur.execute(
                "create database by_locale template template0 "
                "lc_collate 'C.UTF-8' lc_ctype 'C.UTF-8'"
            )
    finally:
        con.close()
    monkeypatch.setenv("AOW_WAREHOUSE", "postgres")
    for key, value in postgres.env().items():
        monkeypatch.setenv(key, value)
    monkeypatch.setenv("AOW_POSTGRES_DATABASE", "by_locale")
    assert main(["transform"]) == 2
    [line] = _errors(capsys.readouterr().err)
    assert "LC_COLLATE 'C.UTF-8'" in line
    assert "lc_collate 'C' lc_ctype 'C.UTF-8'" in line
