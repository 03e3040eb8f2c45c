"""What makes the dbt docs out of date (pipelines.serving.dbt_docs.docs_inputs): the project
as the run parsed it and the tables' columns, never the moment a parse ran. That a day's
build leaves them current is tests/test_daily_schedule.py's."""

from __future__ import annotations

import json
from pathlib import Path

import duckdb

from pipelines.serving.dbt_docs import docs_inputs
from pipelines.transform.dbt_runner import MANIFEST, _lasting_digest


def _warehouse(path: Path) -> Path:
    with duckdb.connect(str(path)) as con:
        con.execute("create schema marts")
        con.execute("create table marts.board (team_id varchar, prs integer)")
    return path


def _manifest(change=None) -> dict:
    content = json.loads(MANIFEST.read_text(encoding="utf-8"))
    if change is not None:
        change(content)
    return content


def test_a_new_parse_of_the_same_code_has_the_same_digest():
    def parsed_again(m):
        m["metadata"]["generated_at"] = "2031-01-01T00:00:00Z"
        m["metadata"]["invocation_id"] = "another"
        for node in m["nodes"].values():
            node["created_at"] = node["created_at"] + 3600

    assert _lasting_digest(_manifest()) == _lasting_digest(_manifest(parsed_again))


def test_changed_code_or_columns_make_the_docs_stale(tmp_path: Path):
    warehouse = _warehouse(tmp_path / "w.duckdb")
    project = _lasting_digest(_manifest())
    before = docs_inputs(warehouse, project)

    def described(m):
        node = next(n for n in m["nodes"].values() if n["resource_type"] == "model")
        node["description"] = node["description"] + " Now said differently."

    described_digest = _lasting_digest(_manifest(described))
    assert described_digest != project
    assert docs_inputs(warehouse, described_digest) != before
    with duckdb.connect(str(warehouse)) as con:
        con.execute("alter table marts.board add column reviews integer")
    assert docs_inputs(warehouse, project) != before
