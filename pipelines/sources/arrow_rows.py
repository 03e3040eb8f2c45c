"""Conformed rows as Arrow tables, typed by their table's dlt columns.

dlt normalizes a Python dict row by row (flatten, coerce every value against the schema,
write it out again); an Arrow table it takes as a whole, written as parquet that DuckDB reads
natively. For the billing reports, hundreds of thousands of flat rows whose values the
`Conformer` has already checked and converted, that roughly halves the load (see
docs/ingestion.md). Resources with nested rows stay dicts: dlt's nesting needs them.

The declared columns get their declared Arrow types; any other column (the `Conformer`'s
`_extra`, the undeclared fields as JSON text) is typed by Arrow from its values.
"""

from __future__ import annotations

from collections.abc import Generator
from decimal import Decimal
from typing import Any, TypeVar

import pyarrow as pa
from dlt.common.schema.typing import TColumnSchema, TTableSchemaColumns

# Rows gathered into one table: fewer, larger parquet files and row groups.
BATCH_ROWS = 5_000

R = TypeVar("R")


def arrow_type(column: TColumnSchema) -> pa.DataType:
    data_type = column.get("data_type", "text")
    if data_type == "decimal":
        return pa.decimal128(column.get("precision", 38), column.get("scale", 9))
    return _TYPES[data_type]


def to_table(rows: list[dict[str, Any]], columns: TTableSchemaColumns) -> pa.Table:
    """The rows as one table: the declared columns in their order, then any others."""
    extra = list(dict.fromkeys(key for row in rows for key in row if key not in columns))
    arrays, fields = [], []
    for name, column in columns.items():
        typ = arrow_type(column)
        arrays.append(_array([row.get(name) for row in rows], typ))
        fields.append(pa.field(name, typ, nullable=column.get("nullable", True)))
    for name in extra:
        array = pa.array([row.get(name) for row in rows])
        arrays.append(array)
        fields.append(pa.field(name, array.type))
    return pa.Table.from_arrays(arrays, schema=pa.schema(fields))


def batched_tables(
    row_lists: Generator[list[dict[str, Any]], None, R], columns: TTableSchemaColumns
) -> Generator[pa.Table, None, R]:
    """The lists of rows regrouped into tables of about BATCH_ROWS rows; returns what the
    lists' generator returns."""
    batch: list[dict[str, Any]] = []
    while True:
        try:
            batch.extend(next(row_lists))
        except StopIteration as done:
            if batch:
                yield to_table(batch, columns)
            return done.value
        if len(batch) >= BATCH_ROWS:
            yield to_table(batch, columns)
            batch = []


def _array(values: list[Any], typ: pa.DataType) -> pa.Array:
    try:
        return pa.array(values, type=typ)
    except pa.ArrowInvalid:
        if not pa.types.is_decimal(typ):
            raise
    # A decimal with more places than the column keeps: rounded to its scale, as a cast
    # would (the billing columns keep 12 places of a dollar).
    quantum = Decimal(1).scaleb(-typ.scale)
    return pa.array([None if v is None else v.quantize(quantum) for v in values], type=typ)


_TYPES: dict[str, pa.DataType] = {
    "text": pa.string(),
    "timestamp": pa.timestamp("us", tz="UTC"),
    "date": pa.date32(),
    "bigint": pa.int64(),
    "double": pa.float64(),
    "bool": pa.bool_(),
}
