"""The dbt project as a contract: every mart exists where BI tools expect it, with the columns
and types its enforced dbt contract declares, documented; a change to a mart's columns that
its contract does not make fails the build."""

from __future__ import annotations

import json
import shutil

import duckdb
import pytest

from pipelines.cli import main
from pipelines.transform.dbt_runner import DBT_PROJECT_DIR, docs_generate
from tests.definition_keys import SNAPSHOT


def test_the_build_succeeds_with_every_test(built_org):
    build = built_org.build
    assert build.error is None
    assert [(n.unique_id, n.status, n.message) for n in build.failed] == []
    statuses = {n.status for n in build.nodes}
    assert statuses <= {"success", "pass"}
    kinds = {n.unique_id.split(".")[0] for n in build.nodes}
    assert {"model", "seed", "test", "unit_test"} <= kinds


@pytest.fixture(scope="module")
def docs(built_org) -> tuple[dict, dict]:
    org = built_org.settings
    target = docs_generate(built_org.warehouse, org.seeds_dir, org.as_of)
    manifest = json.loads((target / "manifest.json").read_text())
    catalog = json.loads((target / "catalog.json").read_text())
    return manifest, catalog


@pytest.fixture(scope="module")
def contracts(docs) -> dict[str, dict[str, str]]:
    """The marts BI tools and analysts build on, from dbt: each model with an enforced
    contract, its columns in order with their declared data types."""
    manifest, _ = docs
    return {
        n["name"]: {c["name"]: c["data_type"] for c in n["columns"].values()}
        for n in manifest["nodes"].values()
        if n["resource_type"] == "model" and n["config"]["contract"]["enforced"]
    }


def test_every_mart_and_only_a_mart_has_an_enforced_contract(docs, contracts):
    manifest, _ = docs
    marts = {
        n["name"]: n["original_file_path"]
        for n in manifest["nodes"].values()
        if n["resource_type"] == "model" and n["schema"] == "marts"
    }
    assert set(contracts) == set(marts)
    assert [path for path in marts.values() if not path.startswith("models/marts/")] == []
    # dbt refuses a contract column without a type; this names them all at once.
    assert [(m, c) for m, cols in contracts.items() for c, t in cols.items() if not t] == []
    # A mart that disappears changes the Dagster definitions snapshot too: reviewed there.
    snapshot = SNAPSHOT.read_text(encoding="utf-8").splitlines()
    prefix = "asset marts/"
    assert {line.removeprefix(prefix) for line in snapshot if line.startswith(prefix)} == set(marts)


def test_every_contract_mart_is_a_table_in_the_marts_schema_as_its_contract_says(
    built_org, contracts
):
    """The built tables have exactly the contract's columns, in its order, of its types (each
    declared type read back through DuckDB, so `float8` would equal `double`)."""
    with duckdb.connect(str(built_org.warehouse), read_only=True) as con:
        built: dict[str, list[tuple[str, str]]] = {}
        for table, column, data_type in con.execute(
            "select table_name, column_name, data_type from information_schema.columns "
            "where table_schema = 'marts' and table_catalog = current_database() "
            "order by table_name, ordinal_position"
        ).fetchall():
            built.setdefault(table, []).append((column, data_type))
        kinds = dict(
            con.execute(
                "select table_name, table_type from information_schema.tables "
                "where table_schema = 'marts' and table_catalog = current_database()"
            ).fetchall()
        )
        declared = {
            mart: [
                (column, con.execute(f"select typeof(cast(null as {data_type}))").fetchone()[0])
                for column, data_type in columns.items()
            ]
            for mart, columns in contracts.items()
        }
    assert {mart: kinds.get(mart) for mart in contracts} == dict.fromkeys(contracts, "BASE TABLE")
    assert {mart: built[mart] for mart in contracts} == declared


def test_docs_generate_documents_every_mart_and_column(docs, contracts):
    manifest, catalog = docs
    marts = {
        n["name"]: n
        for n in manifest["nodes"].values()
        if n["resource_type"] == "model" and n["schema"] == "marts"
    }
    assert set(contracts) <= set(marts)
    undocumented = []
    for name, node in marts.items():
        if not node["description"].strip():
            undocumented.append(name)
        built = catalog["nodes"][node["unique_id"]]["columns"]
        described = {c.lower() for c, col in node["columns"].items() if col["description"]}
        undocumented += [f"{name}.{c}" for c in built if c.lower() not in described]
    assert undocumented == []


def test_the_docs_command_prints_the_page_kept_beside_the_warehouse(built_org, docs, capsys):
    """The docs the fixture generated are where the command says, and it does not generate
    them again."""
    page = built_org.warehouse.with_name(f"{built_org.warehouse.stem}_docs") / "static_index.html"
    generated = page.stat().st_mtime_ns
    assert main(["docs", "--duckdb", str(built_org.warehouse)]) == 0
    assert capsys.readouterr().out == f"dbt docs of {built_org.warehouse}: {page.as_uri()}\n"
    assert page.stat().st_mtime_ns == generated


def test_every_model_has_a_primary_key_test(docs):
    """Grain: every intermediate and mart model has a uniqueness test on its key."""
    manifest, _ = docs
    models = {
        n["unique_id"]
        for n in manifest["nodes"].values()
        if n["resource_type"] == "model" and n["schema"] in ("intermediate", "marts")
    }
    keyed = {
        n["attached_node"]
        for n in manifest["nodes"].values()
        if n["resource_type"] == "test"
        and n.get("test_metadata", {}).get("name") in ("unique", "unique_key")
    }
    assert sorted(models - keyed) == []


def test_every_grain_is_tested_one_way(docs):
    """A one-column key is `unique` on that column, a compound key `unique_key` on its
    columns: never `unique` on an expression (a concatenation with a null part is null, and
    the test skips it)."""
    manifest, _ = docs
    nodes = manifest["nodes"]
    expressions = []
    for test in nodes.values():
        if test["resource_type"] != "test":
            continue
        name = test.get("test_metadata", {}).get("name")
        model = nodes.get(test.get("attached_node") or "", {})
        columns = set(model.get("columns", {}))
        if name == "unique" and test["column_name"] not in columns:
            expressions.append((model["name"], test["column_name"]))
        if name == "unique_key":
            key = test["test_metadata"]["kwargs"]["columns"]
            assert len(key) > 1 and set(key) <= columns, (model["name"], key)
    assert expressions == []


def test_project_dir_is_the_repository_one():
    assert (DBT_PROJECT_DIR / "dbt_project.yml").exists()


def test_committed_seeds_are_the_demo_organisations(tmp_path):
    """dbt_project/seeds holds what the demo organisation's admins would write; it must not
    drift from the simulator's, or `make demo` would compare against other people."""
    from org_simulator.demo import store_path
    from org_simulator.seeds import DEFAULT_SEEDS_DIR, STORE_SEEDS, export_seeds

    exported = export_seeds(store_path("demo", 42), tmp_path / "seeds")
    for name in STORE_SEEDS:
        committed = (DEFAULT_SEEDS_DIR / f"{name}.csv").read_text()
        assert committed == (exported / f"{name}.csv").read_text(), name


def test_the_organisation_seeds_come_from_outside_the_project_and_stay_as_they_were(
    built_org, tmp_path
):
    """The organisation's seeds live beside its store, outside the dbt project (an absolute
    path), and the build leaves them byte for byte as a fresh export writes them."""
    from org_simulator.seeds import export_seeds
    from pipelines.transform.dbt_runner import DBT_PROJECT_DIR

    seeds_dir = built_org.settings.seeds_dir
    assert seeds_dir.is_absolute() and not seeds_dir.is_relative_to(DBT_PROJECT_DIR)
    assert built_org.build.success
    fresh = export_seeds(built_org.store, tmp_path / "seeds")
    assert sorted(p.name for p in seeds_dir.iterdir()) == sorted(p.name for p in fresh.iterdir())
    for path in fresh.iterdir():
        assert (seeds_dir / path.name).read_bytes() == path.read_bytes(), path.name


# A mart whose column changes type and one whose column is renamed, their contracts unchanged
# (a copy of the project): each SQL wrapped in a select that makes the change.
BROKEN_CONTRACTS = {
    "mart_identity_coverage": (
        "identity/mart_identity_coverage.sql",
        "* replace (cast(items as integer) as items)",
        ["items", "INTEGER", "BIGINT", "data type mismatch"],
    ),
    "mart_ai_assisted_outcomes": (
        "board/mart_ai_assisted_outcomes.sql",
        "* rename (survived_share as survival_share)",
        ["survival_share", "missing in contract", "survived_share", "missing in definition"],
    ),
}


def test_a_mart_column_retyped_or_renamed_without_its_contract_fails_the_build(built_org, tmp_path):
    """dbt checks a mart's columns and types against its contract before it replaces the
    table: the changed marts fail, naming the contract and the column, and their tables stay
    as they were; an unchanged mart built beside them succeeds. Run on a copy of the project
    and of the built warehouse."""
    from dbt.cli.main import dbtRunner

    from pipelines.transform.dbt_runner import _close_duckdb, run_vars

    project = tmp_path / "dbt_project"
    # The organisation's seeds come along: the run's vars point at their staged copy inside.
    shutil.copytree(DBT_PROJECT_DIR, project, ignore=shutil.ignore_patterns("target", "logs"))
    for path, select, _ in BROKEN_CONTRACTS.values():
        model = project / "models" / "marts" / path
        model.write_text(f"select {select} from (\n{model.read_text()}\n) as changed\n")
    warehouse = shutil.copyfile(built_org.warehouse, tmp_path / "warehouse.duckdb")
    unchanged = "mart_review_hours"
    args = ["run", "--project-dir", str(project), "--profiles-dir", str(project)]
    args += ["--target-path", str(tmp_path / "target"), "--select", *BROKEN_CONTRACTS, unchanged]
    org = built_org.settings
    args += ["--vars", json.dumps(run_vars(warehouse, org.seeds_dir, org.as_of))]
    try:
        result = dbtRunner().invoke(args)
    finally:
        _close_duckdb()
    outcome = {r.node.name: (str(r.status), r.message or "") for r in result.result.results}
    assert outcome.pop(unchanged)[0] == "success"
    for mart, (_, _, named) in BROKEN_CONTRACTS.items():
        status, message = outcome[mart]
        assert status == "error" and "enforced contract that failed" in message, message
        assert all(word in message for word in named), message
    with duckdb.connect(str(warehouse), read_only=True) as con:
        for mart in BROKEN_CONTRACTS:
            before = built_org.rows(f"describe marts.{mart}")
            assert con.execute(f"describe marts.{mart}").fetchall() == before, mart
