"""The per-record contract: typed projection, required fields and invariants, quarantine
naming the vendor field, undeclared fields kept as JSON text."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import dlt
import duckdb
import pytest

from pipelines.ingest.loads import with_file_formats
from pipelines.sources import SOURCES
from pipelines.sources.arrow_rows import to_table
from pipelines.sources.contract import EXTRA_COLUMN, SCHEMA_CONTRACT, Conformer, Quarantine
from pipelines.sources.field_rules import REQUIRED_FOR, required_for, set_when
from pipelines.transform.dbt_runner import DBT_PROJECT_DIR

COLUMNS = {
    "id": {"data_type": "bigint", "nullable": False},
    "title": {"data_type": "text"},
    "created_at": {"data_type": "timestamp", "nullable": False},
}


def _project(record: dict) -> dict:
    return {"id": record["id"], "title": record.get("title"), "created_at": record["created_at"]}


def _conformer() -> Conformer:
    return Conformer("things", COLUMNS, _project, Quarantine("test"))


def test_rows_are_converted_to_their_declared_types():
    (row,) = _conformer().rows([{"id": "42", "title": 7, "created_at": "2026-10-01T10:00:00Z"}])
    assert row == {"id": 42, "title": "7", "created_at": datetime(2026, 10, 1, 10, tzinfo=UTC)}


def test_undeclared_scalar_fields_are_kept_as_json_text_but_links_and_objects_are_not():
    record = {
        "id": 1,
        "created_at": "2026-10-01T10:00:00+02:00",
        "severity": "high",  # a field the vendor added
        "score": 3,
        "html_url": "https://example.com/1",
        "node_id": "MDQ6",
        "owner": {"login": "a"},
        "tags": ["x"],
        "gone": None,
    }
    (row,) = _conformer().rows([record])
    assert json.loads(row[EXTRA_COLUMN]) == {"severity": "high", "score": 3}
    assert set(row) == {*COLUMNS, EXTRA_COLUMN}
    assert row["created_at"] == datetime(2026, 10, 1, 8, tzinfo=UTC)
    (plain,) = _conformer().rows([{"id": 2, "created_at": "2026-10-01T00:00:00Z"}])
    assert EXTRA_COLUMN not in plain


@pytest.mark.parametrize(
    "record, field, expected, seen",
    [
        ({"id": None, "created_at": "2026-10-01T00:00:00Z"}, "id", "bigint", "null"),
        (
            {"id": 1, "created_at": "not-a-timestamp"},
            "created_at",
            "timestamp",
            "str 'not-a-timestamp'",
        ),
        ({"id": True, "created_at": "2026-10-01T00:00:00Z"}, "id", "bigint", "bool True"),
        ({"created_at": "2026-10-01T00:00:00Z"}, "id", "present", "absent"),
        ("a string", "record", "object", "str 'a string'"),
    ],
)
def test_broken_records_are_quarantined_naming_field_expected_and_seen(
    record, field, expected, seen
):
    conformer = _conformer()
    good = {"id": 2, "created_at": "2026-10-01T00:00:00Z"}
    assert [r["id"] for r in conformer.rows([record, good])] == [2]
    (kept,) = conformer.quarantine.rows
    assert kept["source"] == "test" and kept["resource"] == "things"
    assert (kept["field"], kept["expected_type"], kept["seen_type"]) == (field, expected, seen)
    assert kept["reason"].startswith(f"{field}: expected {expected}, seen {seen}")
    assert kept["payload"].startswith(("{", '"'))
    assert kept["record_key"] == (
        str(record["id"]) if isinstance(record, dict) and record.get("id") else None
    )


NESTED_COLUMNS = {
    "id": {"data_type": "bigint", "nullable": False},
    "state": {"data_type": "text", **required_for("mart_a")},
    "user_login": {"data_type": "text", **required_for("mart_b", field="user.login")},
    "repo_full_name": {"data_type": "text"},
    "draft": {"data_type": "bool"},
    "merged": {"data_type": "bool"},
    "merged_at": {"data_type": "timestamp", **required_for("mart_a"), **set_when(merged=True)},
}


def _project_nested(record: dict) -> dict:
    return {
        "id": record["id"],
        "state": record.get("state"),
        "user_login": (record.get("user") or {}).get("login"),
        "repo_full_name": record["base"]["repo"]["full_name"],
        "draft": record.get("draft"),
        "merged": record.get("merged"),
        "merged_at": record.get("merged_at"),
    }


def _nested(**changes) -> dict:
    record = {
        "id": 7,
        "state": "closed",
        "user": {"login": "ada"},
        "base": {"repo": {"full_name": "acme/api"}},
        "draft": False,
        "merged": True,
        "merged_at": "2026-10-01T00:00:00Z",
    }
    record.update(changes)
    return {k: v for k, v in record.items() if v != "<absent>"}


@pytest.mark.parametrize(
    "record, reason",
    [
        (_nested(), None),
        (_nested(user=None), None),  # a deleted account: a documented null, not a gap
        (_nested(merged=False, merged_at=None), None),
        (_nested(draft="false"), "draft: expected bool, seen str 'false'"),
        (_nested(merged_at="<absent>"), "merged_at: expected present, seen absent"),
        (_nested(user={"id": 1}), "user.login: expected present, seen absent"),
        (_nested(state="<absent>"), "state: expected present, seen absent (needed by mart_a)"),
        (
            _nested(merged_at=None),
            "merged_at: expected timestamp, seen null (required when merged is True)",
        ),
    ],
)
def test_required_fields_and_invariants(record, reason):
    conformer = Conformer(
        "pulls", NESTED_COLUMNS, _project_nested, Quarantine("test"), key=lambda r: f"pr {r['id']}"
    )
    rows = conformer.rows([record])
    if reason is None:
        assert len(rows) == 1 and conformer.quarantine.rows == []
        return
    (kept,) = conformer.quarantine.rows
    assert rows == [] and kept["reason"].startswith(reason), kept["reason"]
    assert kept["record_key"] == (None if record["id"] is None else "pr 7")


def test_a_type_change_is_named_by_the_vendor_field_not_the_column():
    columns = {"id": {"data_type": "bigint"}, "repo_full_name": {"data_type": "bigint"}}
    conformer = Conformer("pulls", columns, _project_nested_repo, Quarantine("test"))
    conformer.rows([{"id": 1, "base": {"repo": {"full_name": "acme/api"}}}])
    (kept,) = conformer.quarantine.rows
    assert kept["field"] == "base.repo.full_name"
    assert (kept["expected_type"], kept["seen_type"]) == ("bigint", "str 'acme/api'")


def _project_nested_repo(record: dict) -> dict:
    return {"id": record["id"], "repo_full_name": record["base"]["repo"]["full_name"]}


def _run(
    warehouse: Path, records: list[dict], arrow: bool, columns=COLUMNS, project=_project
) -> None:
    """Load `records` as dict rows, or as an Arrow table (as the billing reports do)."""
    quarantine = Quarantine("test")
    conformer = Conformer("things", columns, project, quarantine)

    @dlt.resource(
        name="things",
        primary_key="id",
        write_disposition="merge",
        columns=columns,
        schema_contract=SCHEMA_CONTRACT,
        file_format="parquet" if arrow else None,
    )
    def things():
        rows = conformer.rows(records)
        yield to_table(rows, columns) if arrow else rows

    @dlt.source(name="test")
    def source():
        return [things(), quarantine.resource()]

    pipeline = dlt.pipeline(
        pipeline_name="contract_test",
        destination=dlt.destinations.duckdb(str(warehouse)),
        dataset_name="raw_test",
        pipelines_dir=str(warehouse.parent / "pipelines"),
    )
    pipeline.run(with_file_formats(source()))


@pytest.mark.parametrize("arrow", [False, True], ids=["dict rows", "arrow tables"])
def test_an_undeclared_field_may_change_type_a_declared_one_is_quarantined(
    tmp_path: Path, arrow: bool
):
    warehouse = tmp_path / "w.duckdb"
    _run(warehouse, [{"id": 1, "created_at": "2026-10-01T00:00:00Z", "score": 3}], arrow)
    # The vendor's new field turns to text: no type conflict, the load goes on.
    _run(warehouse, [{"id": 2, "created_at": "2026-10-02T00:00:00Z", "score": "x"}], arrow)
    # A declared column's type changes: that record is quarantined, naming the field.
    _run(warehouse, [{"id": 3, "created_at": "yesterday", "score": 4}], arrow)
    with duckdb.connect(str(warehouse), read_only=True) as con:
        rows = con.execute("select id, _extra from raw_test.things order by id").fetchall()
        quarantined = con.execute(
            "select field, expected_type, seen_type, record_key from raw_test.quarantine"
        ).fetchall()
        columns = {
            c
            for (c,) in con.execute(
                "select column_name from information_schema.columns "
                "where table_schema = 'raw_test' and table_name = 'things'"
            ).fetchall()
        }
    assert [(i, json.loads(extra)) for i, extra in rows] == [(1, {"score": 3}), (2, {"score": "x"})]
    assert quarantined == [("created_at", "timestamp", "str 'yesterday'", "3")]
    assert not {c for c in columns if c.startswith("score")}


def test_a_new_type_is_accepted_by_declaring_a_column_for_it(tmp_path: Path):
    """docs/ingestion.md's way out of a declared column's type change: dlt cannot change a
    loaded column's type, so the field gets a new column of the new type, and the records
    quarantined meanwhile load from their payloads."""
    warehouse = tmp_path / "w.duckdb"
    typed = {**COLUMNS, "score": {"data_type": "bigint"}}
    _run(warehouse, [{"id": 1, "created_at": "2026-10-01T00:00:00Z", "score": 3}], False, typed,
         lambda r: {**_project(r), "score": r.get("score")})  # fmt: skip
    _run(warehouse, [{"id": 2, "created_at": "2026-10-02T00:00:00Z", "score": "high"}], False,
         typed, lambda r: {**_project(r), "score": r.get("score")})  # fmt: skip
    with duckdb.connect(str(warehouse), read_only=True) as con:
        (reason, payload), *_ = con.execute(
            "select reason, payload from raw_test.quarantine"
        ).fetchall()
    assert reason.startswith("score: expected bigint, seen str 'high'")

    # The declaration: `score` stays (its history), `score_label` takes the text.
    relabelled = {**typed, "score_label": {"data_type": "text"}}
    _run(warehouse, [json.loads(payload)], False, relabelled,
         lambda r: {**_project(r), **_score(r.get("score"))})  # fmt: skip
    with duckdb.connect(str(warehouse), read_only=True) as con:
        rows = con.execute("select id, score, score_label from raw_test.things order by id")
        assert rows.fetchall() == [(1, 3, None), (2, None, "high")]


def _score(value: object) -> dict:
    return {"score_label": value} if isinstance(value, str) else {"score": value}


def test_the_marts_the_declarations_name_exist():
    """Every field declared as needed names marts that are models of the dbt project."""
    marts = {p.stem for p in (DBT_PROJECT_DIR / "models" / "marts").rglob("*.sql")}
    named = {}
    for spec in SOURCES.values():
        schema = spec.factory(**spec.spec_args).discover_schema()
        for table in schema.data_tables():
            for name, column in table["columns"].items():
                for mart in column.get(REQUIRED_FOR, []):
                    named.setdefault(mart, []).append(f"{spec.name}.{table['name']}.{name}")
    assert {"merged_at", "closed_at", "state"} <= {c.rsplit(".", 1)[1] for c in named["mart_dora"]}
    assert {m: where for m, where in named.items() if m not in marts} == {}
