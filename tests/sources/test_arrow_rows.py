"""Conformed rows as Arrow tables: declared types, extra columns, batches."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal

import pyarrow as pa

from pipelines.sources import arrow_rows
from pipelines.sources.arrow_rows import batched_tables, to_table

COLUMNS = {
    "key": {"data_type": "text", "nullable": False},
    "at": {"data_type": "timestamp", "nullable": False},
    "day": {"data_type": "date"},
    "tokens": {"data_type": "bigint"},
    "usd": {"data_type": "decimal", "precision": 38, "scale": 12},
}


def test_declared_columns_get_their_types_and_new_fields_follow():
    rows = [
        {"key": "a", "at": datetime(2026, 10, 1, tzinfo=UTC), "tokens": 5, "tier": "batch"},
        {"key": "b", "at": datetime(2026, 10, 2, tzinfo=UTC), "day": date(2026, 10, 2)},
    ]
    table = to_table(rows, COLUMNS)
    assert table.column_names == ["key", "at", "day", "tokens", "usd", "tier"]
    assert table.schema.field("at").type == pa.timestamp("us", tz="UTC")
    assert table.schema.field("usd").type == pa.decimal128(38, 12)
    assert not table.schema.field("key").nullable
    assert table.column("tokens").to_pylist() == [5, None]
    assert table.column("tier").to_pylist() == ["batch", None]


def test_a_decimal_finer_than_its_column_is_rounded_to_the_scale():
    rows = [
        {"key": "a", "at": datetime(2026, 10, 1, tzinfo=UTC), "usd": Decimal("0.1234567890127")}
    ]
    assert to_table(rows, COLUMNS).column("usd").to_pylist() == [Decimal("0.123456789013")]


def test_lists_are_regrouped_into_batches_and_the_return_value_kept(monkeypatch):
    monkeypatch.setattr(arrow_rows, "BATCH_ROWS", 3)
    at = datetime(2026, 10, 1, tzinfo=UTC)

    def lists():
        for i in range(4):
            yield [{"key": f"{i}-{j}", "at": at} for j in range(2)]
        return "newest"

    gen = batched_tables(lists(), COLUMNS)
    sizes = []
    while True:
        try:
            sizes.append(next(gen).num_rows)
        except StopIteration as done:
            assert done.value == "newest"
            break
    assert sizes == [4, 4]
