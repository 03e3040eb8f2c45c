"""The tiny organisation on DuckDB, PostgreSQL and Spark: the same loaders, the same models, the
same marts.

On each engine the real loaders (dlt, through the simulated vendor APIs) load the organisation
as a daily run would: first with the simulator's clock 12 days before its as-of date, then
again at it, a dbt build after each (the second incremental: the large models reprocess only
their look-back window or partitions). Then:

- the marts of the three engines are equal (counts exactly, floats within 1e-9 relative,
  timestamps in UTC: tests/engines/compare.py);
- on each engine a full refresh, with every data and unit test, succeeds and gives the tables
  the incremental build gave.

The engines load separately, so what records when a load ran (dlt's load ids, the load log's
times) differs; the columns that carry it are left out of the comparison, each named in
tests/engines/compare.py (LOAD_RECORD_COLUMNS).
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from org_simulator.demo import store_path
from org_simulator.testing import TINY_SEED
from pipelines.warehouse.engines import Postgres, Spark
from tests.engines.builds import BUILT_SCHEMAS, EngineBuild, build_on
from tests.engines.compare import LOAD_RECORD_COLUMNS, assert_same_warehouses, engine_warehouse
from tests.engines.postgres_server import missing_reason, postgres_server
from tests.engines.spark_server import spark_thrift_server, spark_unavailable

ENGINES = ("duckdb", "postgres", "spark")


@pytest.fixture(scope="module")
def engine_builds(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, EngineBuild]]:
    """The tiny organisation built on each engine (the servers stopped when the module ends)."""
    for reason in (missing_reason(), spark_unavailable()):
        if reason:
            pytest.skip(reason)
    store = store_path("tiny", TINY_SEED)
    work = tmp_path_factory.mktemp("engines")
    builds = {"duckdb": build_on("duckdb", work / "warehouse.duckdb", store)}
    with postgres_server() as pg:
        target = Postgres(host=pg.host, port=pg.port, user=pg.user, database=pg.database)
        builds["postgres"] = build_on("postgres", target, store)
        with spark_thrift_server() as spark:
            builds["spark"] = build_on("spark", Spark(spark.lake, spark.host, spark.port), store)
            for build in builds.values():
                print(
                    f"{build.engine}: "
                    + ", ".join(f"{k} {v:.1f} s" for k, v in build.seconds.items())
                )
            yield builds


@pytest.mark.parametrize("engine", ENGINES)
def test_every_build_succeeds(engine_builds: dict[str, EngineBuild], engine: str):
    build = engine_builds[engine]
    for result in [*build.incremental, build.full_refresh]:
        assert result.error is None
        assert [(n.unique_id, n.message) for n in result.failed] == []
        assert result.success
    # The full refresh ran the data and unit tests.
    kinds = {n.unique_id.split(".")[0] for n in build.full_refresh.nodes}
    assert {"model", "seed", "test", "unit_test"} <= kinds


@pytest.mark.parametrize("engine", ENGINES)
def test_an_incremental_build_equals_a_full_refresh(
    engine_builds: dict[str, EngineBuild], engine: str
):
    build = engine_builds[engine]
    full = engine_warehouse(build.target, f"{engine} (full refresh)")
    assert_same_warehouses(build.incremental_tables, full, schemas=BUILT_SCHEMAS)


@pytest.mark.parametrize("engine", ["postgres", "spark"])
def test_the_marts_equal_duckdbs(engine_builds: dict[str, EngineBuild], engine: str):
    duckdb = engine_warehouse(engine_builds["duckdb"].target, "duckdb")
    other = engine_warehouse(engine_builds[engine].target, engine)
    assert_same_warehouses(
        duckdb,
        other,
        schemas=BUILT_SCHEMAS,
        ignore_columns=LOAD_RECORD_COLUMNS,
    )
