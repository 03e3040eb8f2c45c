"""The dbt project on PostgreSQL 15, without the other engines' servers (docs/warehouses.md).

The organisation of `built_org` (tiny; demo with `-m slow`) is loaded by the real loaders (dlt's
postgres destination) into a database of its own on a throwaway server and built with
`dbt build --target postgres`: every seed, model, data test and unit test passes, and every
staging view, intermediate table and mart equals the DuckDB build's (tests/engines/compare.py:
floats within 1e-9 relative, exact numbers exactly; what records when a load ran left out).
An incremental build on top of it changes nothing.

A scale run (`pytest -m slow tests/engines/test_postgres_build.py`: tiny and demo): in CI the
tiny organisation's Postgres build is tests/engines/test_across_engines.py's.
"""

from __future__ import annotations

import pytest

from pipelines.transform.dbt_runner import BuildResult, build_models
from tests.conftest import BuiltOrg, load_org
from tests.engines.compare import (
    LOAD_RECORD_COLUMNS,
    assert_same_warehouses,
    duckdb_warehouse,
    postgres_warehouse,
)
from tests.engines.postgres_server import PostgresServer, missing_reason

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(missing_reason() is not None, reason=str(missing_reason())),
]


@pytest.fixture(scope="module")
def postgres_org(
    built_org: BuiltOrg, postgres: PostgresServer
) -> tuple[PostgresServer, BuildResult]:
    """The organisation loaded into a database of its own and built there, with every test."""
    server = postgres.create_database(f"org_{built_org.size}")
    load_org(built_org.store, server.warehouse())
    org = built_org.settings
    build = build_models(server.warehouse(), seeds_dir=org.seeds_dir, as_of=org.as_of, quiet=True)
    return server, build


def test_the_build_succeeds_with_every_test(postgres_org):
    _, build = postgres_org
    assert build.error is None
    assert [(n.unique_id, n.status, n.message) for n in build.failed] == []
    kinds = {n.unique_id.split(".")[0] for n in build.nodes}
    assert {"model", "seed", "test", "unit_test"} <= kinds


def test_every_table_equals_the_duckdb_builds(built_org, postgres_org):
    server, _ = postgres_org
    assert_same_warehouses(
        duckdb_warehouse(built_org.warehouse),
        postgres_warehouse(server.connect),
        ignore_columns=LOAD_RECORD_COLUMNS,
    )


def test_an_incremental_build_changes_nothing(built_org, postgres_org):
    server, _ = postgres_org
    org = built_org.settings
    again = build_models(
        server.warehouse(), seeds_dir=org.seeds_dir, as_of=org.as_of, tests=False, quiet=True
    )
    assert [(n.unique_id, n.status, n.message) for n in again.failed] == []
    incremental = {"int_ai_spend", "int_review_events"}
    assert {n.unique_id.split(".")[-1] for n in again.nodes} >= incremental
    assert_same_warehouses(
        duckdb_warehouse(built_org.warehouse),
        postgres_warehouse(server.connect),
        schemas=("intermediate", "marts"),
        ignore_columns=LOAD_RECORD_COLUMNS,
    )
