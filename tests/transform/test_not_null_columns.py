"""`not_null_columns`, the project's test of a model's required columns
(dbt_project/tests/generic/not_null_columns.sql): one dbt node per model, whose failing rows
name each column that holds nulls with its count of null rows.

On a copy of the built warehouse, nulls are written into required columns, then `dbt test`
runs the tests of the models changed and of one left alone, storing their failing rows
(`--store-failures`): the changed models' tests fail naming exactly the columns written and
how many rows each, the untouched model's passes, and a test's own `where` and `severity`
still decide which rows count and whether the build fails."""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterator
from dataclasses import dataclass

import duckdb
import pytest

from pipelines.transform.dbt_runner import (
    PROJECT_ARGS,
    _close_duckdb,
    invocation_target,
    prepare_manifest,
    run_vars,
)

TEST = "not_null_columns"
MANY = "int_pull_requests__lifecycle"  # its i-th required column gets i null rows
ONE = "int_deployments"  # one null in one column
UNTOUCHED = "fct_pull_requests"
WHERE = "mart_cost_per_outcome"  # figures required where unavailable_reason is null
WARNED = "int_ai_spend"  # usd_per_mtok: a warning
MODELS = (MANY, ONE, UNTOUCHED, WHERE, WARNED)


@dataclass(frozen=True)
class RequiredColumns:
    """One not_null_columns test, from the project's manifest."""

    name: str
    alias: str  # its table of failing rows in schema dbt_test__audit
    model: str
    columns: list[str]
    where: str | None
    severity: str


def required_columns_tests() -> list[RequiredColumns]:
    manifest = json.loads(prepare_manifest().read_text())
    return [
        RequiredColumns(
            name=node["name"],
            alias=node["alias"],
            model=node["attached_node"].split(".")[-1],
            columns=node["test_metadata"]["kwargs"]["columns"],
            where=node["config"]["where"],
            severity=node["config"]["severity"].lower(),
        )
        for node in manifest["nodes"].values()
        if (node.get("test_metadata") or {}).get("name") == TEST
    ]


TESTS = required_columns_tests()


def required(model: str, where: str | None = None, severity: str = "error") -> RequiredColumns:
    (test,) = [t for t in TESTS if (t.model, t.where, t.severity) == (model, where, severity)]
    return test


def one_column() -> str:
    """The middle one of ONE's required columns."""
    columns = required(ONE).columns
    return columns[len(columns) // 2]


def set_null(con: duckdb.DuckDBPyConnection, table: str, column: str, rows: int) -> None:
    """Nulls in `column` on the table's first `rows` rows, in storage order (which updates
    keep)."""
    con.execute(
        f"update {table} set {column} = null "
        f"where rowid in (select rowid from {table} order by rowid limit {rows})"
    )


@dataclass
class Run:
    statuses: dict[str, str]  # test name -> dbt status
    failing: dict[str, dict[str, int]]  # test name -> its failing rows: column -> null rows


@pytest.fixture(scope="module")
def run(built_org, tmp_path_factory) -> Iterator[Run]:
    from dbt.cli.main import dbtRunner

    warehouse = tmp_path_factory.mktemp("not-null") / "warehouse.duckdb"
    shutil.copyfile(built_org.warehouse, warehouse)
    with duckdb.connect(str(warehouse)) as con:
        schemas = dict(
            con.execute("select table_name, schema_name from duckdb_tables()").fetchall()
        )
        table = {model: f"{schemas[model]}.{model}" for model in MODELS}
        for count, column in enumerate(required(MANY).columns, start=1):
            set_null(con, table[MANY], column, count)
        set_null(con, table[ONE], one_column(), 1)
        # The first row's figure is unavailable and says why; the second's is missing.
        set_null(con, table[WHERE], "shipped_prs", 1)
        con.execute(
            f"update {table[WHERE]} set unavailable_reason = 'no pull request source' "
            f"where rowid = (select min(rowid) from {table[WHERE]})"
        )
        con.execute(
            f"update {table[WHERE]} set surviving_prs = null "
            f"where rowid = (select min(rowid) + 1 from {table[WHERE]})"
        )
        set_null(con, table[WARNED], "usd_per_mtok", 2)
    org = built_org.settings
    # `dbt test`, not `build`: a build skips the tests of the models downstream of a failed
    # test, and the models here read each other.
    args = ["test", *PROJECT_ARGS, "--store-failures", "--log-level", "none"]
    args += ["--select", *(f"test_name:{TEST},{model}" for model in MODELS)]
    args += ["--vars", json.dumps(run_vars(warehouse, org.seeds_dir, org.as_of))]
    with invocation_target() as target:
        try:
            result = dbtRunner().invoke([*args, "--target-path", str(target)])
        finally:
            _close_duckdb()
    assert result.exception is None, result.exception
    statuses = {r.node.name: str(r.status) for r in result.result.results}
    assert set(statuses) == {t.name for t in TESTS if t.model in MODELS}
    failing = {}
    with duckdb.connect(str(warehouse), read_only=True) as con:
        for test in TESTS:
            if statuses.get(test.name) in ("fail", "warn"):
                failing[test.name] = dict(
                    con.execute(
                        f'select column_name, null_rows from dbt_test__audit."{test.alias}"'
                    ).fetchall()
                )
    yield Run(statuses, failing)


def test_the_intact_build_passes_every_one_of_them(built_org):
    statuses = {n.unique_id.split(".")[2]: n.status for n in built_org.build.nodes}
    assert len(TESTS) > 70
    assert {t.name: statuses[t.name] for t in TESTS} == {t.name: "pass" for t in TESTS}


def test_every_column_holding_nulls_is_named_with_its_count(run: Run):
    test = required(MANY)
    assert len(test.columns) >= 5
    assert run.statuses[test.name] == "fail"
    assert run.failing[test.name] == {c: n for n, c in enumerate(test.columns, start=1)}


def test_one_null_in_one_column_fails_and_names_that_column_only(run: Run):
    test = required(ONE)
    assert len(test.columns) >= 3  # a column between two others
    assert run.statuses[test.name] == "fail"
    assert run.failing[test.name] == {one_column(): 1}


def test_a_model_whose_required_columns_hold_values_passes(run: Run):
    assert run.statuses[required(UNTOUCHED).name] == "pass"


def test_a_where_limits_the_rows_and_a_warning_stays_a_warning(run: Run):
    figures = required(WHERE, where="unavailable_reason is null")
    assert {"shipped_prs", "surviving_prs"} <= set(figures.columns)
    assert run.statuses[figures.name] == "fail"
    assert run.failing[figures.name] == {"surviving_prs": 1}
    assert run.statuses[required(WHERE).name] == "pass"

    warned = required(WARNED, severity="warn")
    assert run.statuses[warned.name] == "warn"
    assert run.failing[warned.name] == {"usd_per_mtok": 2}
    assert run.statuses[required(WARNED).name] == "pass"


def test_every_required_column_is_a_documented_column_listed_once():
    manifest = json.loads(prepare_manifest().read_text())
    models = {n["name"]: n for n in manifest["nodes"].values() if n["resource_type"] == "model"}
    listed: dict[str, list[str]] = {}
    for test in TESTS:
        listed.setdefault(test.model, []).extend(test.columns)
    for model, columns in listed.items():
        assert len(columns) == len(set(columns)), model
        assert set(columns) <= set(models[model]["columns"]), model


def test_no_column_carries_a_not_null_test_of_its_own():
    """Required columns are tested one way: listed in their model's not_null_columns."""
    manifest = json.loads(prepare_manifest().read_text())
    generic = [(n.get("test_metadata") or {}).get("name") for n in manifest["nodes"].values()]
    assert "not_null" not in generic
