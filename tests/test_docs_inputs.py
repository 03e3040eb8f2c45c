"""What makes the dbt docs out of date (pipelines.serving.dbt_docs.docs_inputs): the code and
the tables' columns, never the moment a parse ran."""

from __future__ import annotations

import json
from pathlib import Path

import duckdb

from pipelines.serving.dbt_docs import docs_inputs
from pipelines.transform.dbt_runner import MANIFEST


def _warehouse(path: Path) -> Path:
    with duckdb.connect(str(path)) as con:
        con.execute("create schema marts")
        con.execute("create table marts.board (team_id varchar, prs integer)")
    return path


def _manifest(path: Path, change) -> Path:
    content = json.loads(MANIFEST.read_text(encoding="utf-8"))
    change(content)
    path.write_text(json.dumps(content), encoding="utf-8")
    return path


def test_a_new_parse_of_the_same_code_leaves_the_docs_current(tmp_path: Path):
    warehouse = _warehouse(tmp_path / "w.duckdb")
    first = _manifest(tmp_path / "first.json", lambda m: None)

    def parsed_again(m):
        m["metadata"]["generated_at"] = "2031-01-01T00:00:00Z"
        m["metadata"]["invocation_id"] = "another"
        for node in m["nodes"].values():
            node["created_at"] = node["created_at"] + 3600

    again = _manifest(tmp_path / "again.json", parsed_again)
    assert docs_inputs(warehouse, first) == docs_inputs(warehouse, again)


def test_changed_code_or_columns_make_the_docs_stale(tmp_path: Path):
    warehouse = _warehouse(tmp_path / "w.duckdb")
    manifest = _manifest(tmp_path / "first.json", lambda m: None)
    before = docs_inputs(warehouse, manifest)

    def described(m):
        node = next(n for n in m["nodes"].values() if n["resource_type"] == "model")
        node["description"] = node["description"] + " Now said differently."

    assert docs_inputs(warehouse, _manifest(tmp_path / "described.json", described)) != before
    with duckdb.connect(str(warehouse)) as con:
        con.execute("alter table marts.board add column reviews integer")
    assert docs_inputs(warehouse, manifest) != before
