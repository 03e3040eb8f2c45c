"""The dbt project as a contract: every mart exists where BI tools expect it, documented."""

from __future__ import annotations

import json

import pytest

from pipelines.transform.dbt_runner import DBT_PROJECT_DIR, docs_generate

# The marts BI tools and analysts build on (issue contract): schema `marts`, stable names.
CONTRACT_MARTS = {
    "mart_delivery_funnel",
    "mart_bugs_per_shipped_pr",
    "mart_review_hours",
    "mart_production_survival",
    "mart_survival_curve",
    "mart_cost_per_outcome",
    "mart_spend_vs_output",
    "mart_model_mix",
    "mart_agentic_work_units",
    "mart_dora",
    "mart_budget_runway",
    "mart_identity_coverage",
    "mart_outcome_board",
}


def test_the_build_succeeds_with_every_test(built_org):
    build = built_org.build
    assert build.error is None
    assert [(n.unique_id, n.status, n.message) for n in build.failed] == []
    statuses = {n.status for n in build.nodes}
    assert statuses <= {"success", "pass"}
    kinds = {n.unique_id.split(".")[0] for n in build.nodes}
    assert {"model", "seed", "test", "unit_test"} <= kinds


def test_every_contract_mart_is_a_table_in_the_marts_schema(built_org):
    tables = {
        name
        for (name,) in built_org.rows(
            "select table_name from information_schema.tables "
            "where table_schema = 'marts' and table_type = 'BASE TABLE' "
            "and table_catalog = current_database()"
        )
    }
    assert CONTRACT_MARTS - tables == set()


@pytest.fixture(scope="module")
def docs(built_org) -> tuple[dict, dict]:
    org = built_org.settings
    target = docs_generate(built_org.warehouse, org.seeds_dir, org.as_of)
    manifest = json.loads((target / "manifest.json").read_text())
    catalog = json.loads((target / "catalog.json").read_text())
    return manifest, catalog


def test_docs_generate_documents_every_mart_and_column(docs):
    manifest, catalog = docs
    marts = {
        n["name"]: n
        for n in manifest["nodes"].values()
        if n["resource_type"] == "model" and n["schema"] == "marts"
    }
    assert CONTRACT_MARTS - set(marts) == set()
    undocumented = []
    for name, node in marts.items():
        if not node["description"].strip():
            undocumented.append(name)
        built = catalog["nodes"][node["unique_id"]]["columns"]
        described = {c.lower() for c, col in node["columns"].items() if col["description"]}
        undocumented += [f"{name}.{c}" for c in built if c.lower() not in described]
    assert undocumented == []


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
