"""The per-record contract: typed projection, quarantine, new fields, frozen types."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import dlt
import duckdb
import pytest

from pipelines.loads import with_file_formats
from pipelines.sources.arrow_rows import to_table
from pipelines.sources.contract import SCHEMA_CONTRACT, Conformer, Quarantine
from pipelines.sources.failures import describe

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


def test_new_scalar_fields_pass_through_but_links_and_objects_do_not():
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
    assert row["severity"] == "high" and row["score"] == 3
    assert not {"html_url", "node_id", "owner", "tags", "gone"} & set(row)
    assert row["created_at"] == datetime(2026, 10, 1, 8, tzinfo=UTC)


@pytest.mark.parametrize(
    "record, reason",
    [
        ({"id": None, "created_at": "2026-10-01T00:00:00Z"}, "id: required"),
        ({"id": 1, "created_at": "not-a-timestamp"}, "created_at: 'not-a-timestamp' is not valid"),
        ({"id": True, "created_at": "2026-10-01T00:00:00Z"}, "id: True is not valid"),
        ({"created_at": "2026-10-01T00:00:00Z"}, "missing field 'id'"),
        ("a string", "expected an object, got str"),
    ],
)
def test_broken_records_are_quarantined_with_their_reason(record, reason):
    conformer = _conformer()
    good = {"id": 2, "created_at": "2026-10-01T00:00:00Z"}
    assert [r["id"] for r in conformer.rows([record, good])] == [2]
    (kept,) = conformer.quarantine.rows
    assert kept["source"] == "test" and kept["resource"] == "things"
    assert reason in kept["reason"]
    assert kept["payload"].startswith(("{", '"'))


def _run(warehouse: Path, records: list[dict], arrow: bool) -> None:
    """Load `records` as dict rows, or as an Arrow table (as the billing reports do)."""
    quarantine = Quarantine("test")
    conformer = Conformer("things", COLUMNS, _project, quarantine)

    @dlt.resource(
        name="things",
        primary_key="id",
        write_disposition="merge",
        columns=COLUMNS,
        schema_contract=SCHEMA_CONTRACT,
        file_format="parquet" if arrow else None,
    )
    def things():
        rows = conformer.rows(records)
        yield to_table(rows, COLUMNS) if arrow else rows

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
def test_a_new_field_becomes_a_column_and_a_type_change_fails_clearly(tmp_path: Path, arrow: bool):
    warehouse = tmp_path / "w.duckdb"
    _run(warehouse, [{"id": 1, "created_at": "2026-10-01T00:00:00Z", "score": 3}], arrow)
    with duckdb.connect(str(warehouse), read_only=True) as con:
        assert con.execute("select score from raw_test.things").fetchall() == [(3,)]

    with pytest.raises(Exception) as excinfo:
        _run(warehouse, [{"id": 2, "created_at": "2026-10-02T00:00:00Z", "score": "x"}], arrow)
    message = describe(excinfo.value, "test")
    assert "schema contract violated" in message and "'things'" in message
    assert "score" in message
    with duckdb.connect(str(warehouse), read_only=True) as con:
        assert con.execute("select count(*) from raw_test.things").fetchone()[0] == 1
