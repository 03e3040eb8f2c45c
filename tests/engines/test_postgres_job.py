"""The Dagster job on PostgreSQL: a real run of `daily_warehouse_job` over a range of days, its
resources following AOW_WAREHOUSE=postgres (docs/warehouses.md).

The loads, the three dbt ops and every check run against a database of their own on the
throwaway server; the publication and the docs page, which are DuckDB files, are not part of
the definitions there.
"""

from __future__ import annotations

import io
from collections.abc import Iterator
from dataclasses import dataclass, replace
from pathlib import Path

import dagster as dg
import pytest

from org_simulator.server import SimulatorServer
from org_simulator.sources_env import simulator_sources_env
from pipelines.orchestration.definitions import build_definitions
from pipelines.progress import Console
from pipelines.warehouse.engines import connect
from tests.daily_job import org_settings, run_daily_job
from tests.engines.postgres_server import PostgresServer, missing_reason

pytestmark = pytest.mark.skipif(missing_reason() is not None, reason=str(missing_reason()))
FIRST_DAY, LAST_DAY = "2026-10-26", "2026-10-30"


@dataclass
class Run:
    result: dg.ExecuteInProcessResult
    defs: dg.Definitions
    server: PostgresServer

    def rows(self, sql: str) -> list[tuple]:
        with connect(self.server.warehouse()) as con:
            return con.execute(sql).fetchall()


@pytest.fixture(scope="module")
def postgres_job(
    tiny_store: Path, postgres: PostgresServer, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Run]:
    server = postgres.create_database("dagster_job")
    unused = tmp_path_factory.mktemp("postgres-job") / "unused.duckdb"
    settings = replace(
        org_settings(tiny_store, unused), engine="postgres", server=server.warehouse()
    )
    with SimulatorServer(tiny_store) as sim, pytest.MonkeyPatch.context() as mp:
        for key, value in {"AOW_WAREHOUSE": "postgres", **server.env()}.items():
            mp.setenv(key, value)  # what the run's warehouse resource reads
        console = Console(io.StringIO(), io.StringIO(), tty=False)
        result = run_daily_job(settings, simulator_sources_env(sim), FIRST_DAY, LAST_DAY, console)
    yield Run(result, build_definitions(settings), server)
    assert not unused.exists()  # nothing was written to a DuckDB file


def test_the_run_succeeds_and_materializes_the_whole_graph(postgres_job: Run):
    assert postgres_job.result.success
    graph = postgres_job.defs.resolve_asset_graph().get_all_asset_keys()
    materialized = {e.asset_key for e in postgres_job.result.get_asset_materialization_events()}
    assert materialized == set(graph)
    assert not {key for key in graph if key.path[-1] in ("publication", "dbt_docs")}
    failed = [
        e.asset_check_key for e in postgres_job.result.get_asset_check_evaluations() if not e.passed
    ]
    assert failed == []
    assert len(postgres_job.result.get_asset_check_evaluations()) > 50


def test_the_marts_are_in_the_postgres_database(postgres_job: Run):
    coverage = postgres_job.rows(
        "select source, is_available, last_load_status from marts.mart_source_coverage "
        "order by source"
    )
    assert coverage == [
        (source, True, "loaded")
        for source in ("anthropic", "github", "jira", "openai", "pagerduty")
    ]
    (prs,) = postgres_job.rows("select count(*) from marts.fct_pull_requests")[0]
    assert prs > 0
