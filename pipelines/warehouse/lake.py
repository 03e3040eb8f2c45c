"""Spark's raw tables: the Parquet files dlt writes into the lake, as the tables dlt would merge.

dlt's filesystem destination lays a dataset out as `<lake>/<dataset>/<table>/<load id>.*.parquet`
(one folder per table, nested tables and dlt's own included), and on plain Parquet its `merge`
becomes `append`: every load adds the records it read again, as new files. So each folder is
registered twice over:

- `<dataset>__files.<table>`: an external table `using parquet` over the folder, every version
  of every record (re-registered after each load that wrote it, so a column a vendor adds
  reaches Spark: `mergeSchema` joins the files' schemas; dropping it leaves its files);
- `<dataset>.<table>`: a view of what dlt's merge would have left, the rule the DuckDB loads
  apply too (pipelines.ingest.staged_loads.MergeRules): a row is replaced by a row of a later
  load with the same primary key (or merge key), and a nested table keeps the rows written
  with the root rows that remain (same parent row id, same load: the load id of a nested
  row is its file's, which dlt names `<load id>.<file id>.parquet`). Append tables show
  every row.

So the models, the quality suites and an analyst read the same raw tables on every engine.
dlt writes its record of completed loads (`_dlt_loads`, which the source-availability models
read) as JSON lines whatever the format of the data: it is registered with its columns typed.
"""

from __future__ import annotations

from pathlib import Path

from dlt.common.schema import Schema

from pipelines.ingest.staged_loads import LOAD_ID, ROW_ID, Merge, MergeRules
from pipelines.warehouse.engines import Spark, connect, quote

PARQUET = "*.parquet"
PARENT_ID = "_dlt_parent_id"
FILES_SUFFIX = "__files"  # the database of a dataset's external tables
# dlt's `_dlt_loads` files: JSON lines, registered with their columns (JSON has no types).
LOADS_TABLE = "_dlt_loads"
LOADS_COLUMNS = (
    "load_id string, schema_name string, status bigint, inserted_at timestamp, "
    "schema_version_hash string"
)


def _q(name: str) -> str:
    return quote("spark", name)


def table_folders(lake: Path, dataset: str) -> dict[str, Path]:
    """The dataset's tables that hold files (Parquet, or dlt's list of loads), by name."""
    root = Path(lake) / dataset
    if not root.is_dir():
        return {}
    return {
        folder.name: folder
        for folder in sorted(root.iterdir())
        if folder.is_dir()
        and (folder.name == LOADS_TABLE or next(folder.glob(PARQUET), None) is not None)
    }


def register_tables(warehouse: Spark, dataset: str, schema: Schema) -> list[str]:
    """(Re-)register each table of `dataset` in the lake, and its merged view, for the dlt
    `schema` that wrote it; returns the tables' names."""
    folders = table_folders(warehouse.lake, dataset)
    if not folders:
        return []
    files, merged = _q(dataset + FILES_SUFFIX), _q(dataset)
    rules = MergeRules.of(schema)
    with connect(warehouse) as con:
        con.execute(f"create database if not exists {files}")
        con.execute(f"create database if not exists {merged}")
        for name, folder in folders.items():
            table = f"{files}.{_q(name)}"
            location = str(folder.resolve()).replace("'", "\\'")
            con.execute(f"drop table if exists {table}")
            if name == LOADS_TABLE:
                con.execute(
                    f"create table {table} ({LOADS_COLUMNS}) using json location '{location}'"
                )
            else:
                con.execute(
                    f"create table {table} using parquet location '{location}' "
                    "options (mergeSchema 'true')"
                )
        parents = {name: schema.tables.get(name, {}).get("parent") for name in folders}
        for name in sorted(folders, key=lambda n: parents[n] is not None):  # roots first
            select = _merged_select(dataset, name, rules.get(name), parents[name], schema)
            con.execute(f"create or replace view {merged}.{_q(name)} as {select}")
    return sorted(folders)


def _merged_select(
    dataset: str, name: str, merge: Merge | None, parent: str | None, schema: Schema
) -> str:
    """The rows of `name` that dlt's merge would have kept."""
    files = f"{_q(dataset + FILES_SUFFIX)}.{_q(name)}"
    if parent is not None:  # a nested table: the rows written with root rows that remain
        if schema.tables[parent].get("parent"):
            raise ValueError(
                f"table {name!r}: Spark's raw views follow tables nested one level, not more"
            )
        file_load_id = "substring_index(_metadata.file_name, '.', 2)"
        return (
            f"select * from {files} where ({_q(PARENT_ID)}, {file_load_id}) in "
            f"(select {_q(ROW_ID)}, {_q(LOAD_ID)} from {_q(dataset)}.{_q(parent)})"
        )
    if merge is None or not merge.keys:  # appended, or dlt's own tables
        return f"select * from {files}"
    replaced = " or ".join(
        "(" + " and ".join(f"later.{_q(c)} = kept.{_q(c)}" for c in key) + ")" for key in merge.keys
    )
    # Load ids are epoch seconds as text of one length: their text order is their time order.
    return (
        f"select * from {files} as kept where not exists (select 1 from {files} as later "
        f"where later.{_q(LOAD_ID)} > kept.{_q(LOAD_ID)} and ({replaced}))"
    )
