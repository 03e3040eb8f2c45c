"""The loaders' declared columns, exported for dbt (pipelines/sources/raw_columns.py).

The generated macro must equal the declarations, and the empty relation dbt builds from it for
a missing raw table must have exactly the columns and types dlt creates: compared here with a
warehouse the real loaders filled (the tiny organisation).
"""

from __future__ import annotations

from pathlib import Path

import duckdb
import pytest

from pipelines.sources import SOURCES
from pipelines.sources import raw_columns as rc

# Raw tables the tiny organisation's loads leave absent: nothing was quarantined and no issue
# has a remote link. The empty-warehouse build (tests/transform/test_optional_sources.py)
# covers them.
ABSENT_IN_TINY = {
    ("anthropic", "quarantine"),
    ("github", "quarantine"),
    ("jira", "quarantine"),
    ("jira", "issues__remote_links"),
    ("openai", "quarantine"),
    ("pagerduty", "quarantine"),
}


@pytest.fixture(scope="module")
def declared() -> rc.RawColumns:
    return rc.declared_columns()


def test_the_macro_file_equals_the_declarations(declared):
    assert rc.MACRO_PATH.read_text() == rc.render(declared)
    assert rc.main(["--check"]) == 0


def test_check_reports_a_stale_file(tmp_path: Path, monkeypatch, capsys):
    stale = tmp_path / "raw_columns.sql"
    stale.write_text(rc.MACRO_PATH.read_text().replace('"check_suite_id"', '"check_suite"'))
    monkeypatch.setattr(rc, "MACRO_PATH", stale)
    assert rc.main(["--check"]) == 1
    assert "stale" in capsys.readouterr().out
    assert rc.main([]) == 0
    assert stale.read_text() == rc.MACRO_PATH.read_text() == rc.render(rc.declared_columns())


def test_every_source_and_child_table_is_declared_with_dlt_columns(declared):
    assert set(declared) == set(SOURCES)
    assert {spec["schema"] for spec in declared.values()} == {s.dataset for s in SOURCES.values()}
    tables = {(source, t) for source, spec in declared.items() for t in spec["tables"]}
    assert {("jira", "issues__changelog"), ("jira", "issues__links")} <= tables
    assert ("anthropic", "claude_code_usage__model_breakdown") in tables
    changelog = dict(declared["jira"]["tables"]["issues__changelog"])
    # A child row carries its root's, its parent's and its own id and its list position;
    # dlt gives child tables no load id.
    assert [c for c in changelog if c.startswith("_dlt")] == [
        "_dlt_root_id",
        "_dlt_parent_id",
        "_dlt_list_idx",
        "_dlt_id",
    ]
    issues = dict(declared["jira"]["tables"]["issues"])
    assert [c for c in issues if c.startswith("_dlt")] == ["_dlt_load_id", "_dlt_id"]


def test_optional_vendor_fields_that_staging_reads_are_declared_nullable():
    from pipelines.sources.github.tables import WORKFLOW_RUNS
    from pipelines.sources.pagerduty import INCIDENTS

    for table, name in (
        (WORKFLOW_RUNS, "check_suite_id"),
        (INCIDENTS, "assigned_via"),
        (INCIDENTS, "is_mergeable"),
    ):
        assert table.hints[name].get("nullable", True), name


def test_the_empty_relations_are_typed_as_dlt_creates_the_tables(declared, tiny_raw_warehouse):
    """For every raw table the loaders created, the empty relation source_or_empty builds from
    the declarations (a `cast(null as <type>)` per column, in DuckDB) has each declared column
    with the type of the loaded table's column."""
    compared = set()
    mismatched = []
    with duckdb.connect(str(tiny_raw_warehouse), read_only=True) as loaded, duckdb.connect() as mem:
        for source, spec in declared.items():
            for table, columns in spec["tables"].items():
                actual = dict(
                    loaded.execute(
                        "select column_name, data_type from information_schema.columns "
                        "where table_schema = ? and table_name = ?",
                        [spec["schema"], table],
                    ).fetchall()
                )
                if not actual:
                    continue
                compared.add((source, table))
                empty_types = _empty_relation_types(mem, columns)
                for column, _ in columns:
                    if empty_types[column] != actual.get(column):
                        mismatched.append((table, column, empty_types[column], actual.get(column)))
    assert mismatched == []
    everything = {(s, t) for s, spec in declared.items() for t in spec["tables"]}
    assert everything - compared == ABSENT_IN_TINY


def _empty_relation_types(con: duckdb.DuckDBPyConnection, columns: list) -> dict[str, str]:
    """The types DuckDB gives the empty relation source_or_empty builds from `columns`."""
    casts = ", ".join(f'cast(null as {data_type}) as "{name}"' for name, data_type in columns)
    con.execute(f"create or replace table empty_relation as select {casts} where 1 = 0")
    return dict(
        con.execute(
            "select column_name, data_type from information_schema.columns "
            "where table_name = 'empty_relation'"
        ).fetchall()
    )


def test_optional_fields_a_vendor_leaves_out_still_get_their_declared_columns(
    tiny_store: Path, tmp_path: Path, monkeypatch
):
    """A PagerDuty or GitHub that omits assigned_via, is_mergeable and check_suite_id (the
    simulator told to leave them out): the loaders still create the columns staging reads,
    typed as declared, all null."""
    from org_simulator.options import OPTIONAL_FIELDS
    from org_simulator.server import SimulatorServer
    from org_simulator.sources_env import simulator_sources_env
    from pipelines.ingest.loads import load_checkpoints, run_load

    warehouse = tmp_path / "sparse.duckdb"
    with SimulatorServer(tiny_store, absent_fields=OPTIONAL_FIELDS) as sim:
        for key, value in simulator_sources_env(sim, vendors=("github", "pagerduty")).items():
            monkeypatch.setenv(key, value)
        monkeypatch.setenv("SOURCES__GITHUB__REPOSITORIES", f'["{sim.repositories()[0]}"]')
        run_load("pagerduty", warehouse)
        for _ in load_checkpoints("github", warehouse, resources=["workflow_runs"]):
            pass
    with duckdb.connect(str(warehouse), read_only=True) as con:
        for table, column, data_type in (
            ("raw_pagerduty.incidents", "assigned_via", "VARCHAR"),
            ("raw_pagerduty.incidents", "is_mergeable", "BOOLEAN"),
            ("raw_github.workflow_runs", "check_suite_id", "BIGINT"),
        ):
            schema, name = table.split(".")
            assert con.execute(
                "select data_type from information_schema.columns "
                "where table_schema = ? and table_name = ? and column_name = ?",
                [schema, name, column],
            ).fetchall() == [(data_type,)], (table, column)
            rows, non_null = con.execute(
                f"select count(*), count({column}) from {table}"
            ).fetchone()
            assert rows > 0 and non_null == 0, (table, column)
