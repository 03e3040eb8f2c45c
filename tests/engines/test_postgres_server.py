"""The throwaway PostgreSQL server starts, answers and goes away."""

from __future__ import annotations

import pytest

from tests.engines.postgres_server import missing_reason, postgres_server

pytestmark = pytest.mark.skipif(missing_reason() is not None, reason=str(missing_reason()))


def test_server_starts_answers_and_stops() -> None:
    with postgres_server("probe") as server:
        with server.connect() as con, con.cursor() as cur:
            cur.execute("select 1, current_database(), current_setting('TimeZone')")
            assert cur.fetchone() == (1, "probe", "UTC")
        con.close()
        root = server.socket_dir.parent
        assert server.env()["AOW_POSTGRES_PORT"] == str(server.port)
    assert not root.exists()
    with pytest.raises(Exception):  # noqa: B017 (psycopg2's OperationalError)
        server.connect()
