"""Loads that readers see whole: each checkpoint is loaded into a stage, then swapped into the
warehouse by one DuckDB transaction.

dlt commits a load package piece by piece: every load job is its own transaction, every
merge (delete the old versions, insert the new, child tables included) another, and the
package's row in `_dlt_loads` comes last. A process killed in between leaves the warehouse
half-applied (deployments updated, pull requests not yet) until the next run merges the
same window again. Reading only rows of completed packages (`_dlt_loads.status = 0`) does
not help: a merge has already deleted the old versions of the rows it replaces, so a
reader filtering out the new ones would see those records vanish.

So dlt never writes the warehouse. A load copies its source's dataset (`raw_<source>`, dlt's
own tables and state included) into a stage file in its throwaway pipelines folder, and dlt
loads each checkpoint there. When a checkpoint's package has loaded, `swap_in` applies the
difference to the warehouse in one transaction: a reader (dbt, a BI tool) sees the source as
it was before the checkpoint or after it, never between; a process killed before the commit
leaves no trace in the warehouse (DuckDB drops an uncommitted transaction on recovery). The
cursors travel in the same transaction (`_dlt_pipeline_state`), so the next load goes on from
the last checkpoint swapped in, and merges on natural keys keep reruns idempotent.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

import duckdb

from pipelines.ingest.memory_bounds import DUCKDB_MEMORY_LIMIT
from pipelines.warehouse.sql import quoted

STAGE_FILE = "stage.duckdb"
STAGE = "aow_load_stage"  # the stage's catalog name while attached to the warehouse (not a
# warehouse file's stem, which names its own catalog)
# dlt's row id, unique per row of every data table; dlt's own load and version tables lack it.
ROW_ID, LOAD_ID = "_dlt_id", "_dlt_load_id"


def stage_dataset(warehouse: Path | str, stage: Path | str, dataset: str) -> None:
    """A new stage file holding a copy of the warehouse's `dataset` (tables created by the
    same DDL, so types and NOT NULLs match). The caller holds the writer lock."""
    Path(stage).unlink(missing_ok=True)
    with _warehouse_with_stage(warehouse, stage, read_only=False) as con:
        home = con.execute("select current_database()").fetchone()[0]
        tables = _table_ddl(con, home, dataset)
        if not tables:
            return  # a first load: dlt creates the tables
        con.execute(f"create schema {STAGE}.{quoted(dataset)}")
        con.execute(f"use {STAGE}")
        for ddl in tables.values():
            con.execute(ddl)
        con.execute(f"use {quoted(home)}")
        for table in tables:
            con.execute(f"insert into {STAGE}.{_name(dataset, table)} from {_name(dataset, table)}")


def swap_in(warehouse: Path | str, stage: Path | str, dataset: str) -> None:
    """Make the warehouse's `dataset` equal to the stage's, in one transaction: new tables
    created, new columns added, rows the stage no longer has deleted, rows it gained
    inserted. The caller holds the writer lock; dlt has closed the stage."""
    with _warehouse_with_stage(warehouse, stage, read_only=True) as con:
        home = con.execute("select current_database()").fetchone()[0]
        staged = _table_ddl(con, STAGE, dataset)
        present = _table_ddl(con, home, dataset)
        con.execute("begin transaction")
        con.execute(f"create schema if not exists {quoted(dataset)}")
        for table, ddl in staged.items():
            if table not in present:
                con.execute(ddl)  # the DDL names the schema, not the catalog: the warehouse
            columns = _add_new_columns(con, home, dataset, table)
            _sync_rows(con, dataset, table, columns)
        con.execute("commit")


@contextmanager
def _warehouse_with_stage(
    warehouse: Path | str, stage: Path | str, read_only: bool
) -> Iterator[duckdb.DuckDBPyConnection]:
    """The warehouse with the stage attached; closed however the block ends (closing rolls
    back a transaction left open and detaches the stage)."""
    con = duckdb.connect(str(Path(warehouse).resolve()))
    try:
        # A setting, not a connect config, which another connection to the warehouse in
        # this process would have to repeat (pipelines.ingest.memory_bounds).
        con.execute(f"set memory_limit = '{DUCKDB_MEMORY_LIMIT}'")
        mode = " (read_only)" if read_only else ""
        con.execute(f"attach {_literal(Path(stage).resolve())} as {STAGE}{mode}")
        yield con
    finally:
        con.close()


def _table_ddl(con: duckdb.DuckDBPyConnection, catalog: str, dataset: str) -> dict[str, str]:
    rows = con.execute(
        "select table_name, sql from duckdb_tables() "
        "where database_name = ? and schema_name = ? order by table_name",
        [catalog, dataset],
    ).fetchall()
    return dict(rows)


def _columns(con: duckdb.DuckDBPyConnection, catalog: str, dataset: str, table: str):
    return con.execute(
        "select column_name, data_type from duckdb_columns() "
        "where database_name = ? and schema_name = ? and table_name = ? order by column_index",
        [catalog, dataset, table],
    ).fetchall()


def _add_new_columns(
    con: duckdb.DuckDBPyConnection, home: str, dataset: str, table: str
) -> list[str]:
    """Columns dlt added to the staged table (a vendor's new field), added to the
    warehouse's as nullable as dlt adds them; returns the staged table's columns."""
    staged = _columns(con, STAGE, dataset, table)
    present = {name for name, _type in _columns(con, home, dataset, table)}
    for name, data_type in staged:
        if name not in present:
            con.execute(
                f"alter table {_name(dataset, table)} add column {quoted(name)} {data_type}"
            )
    return [name for name, _type in staged]


def _sync_rows(
    con: duckdb.DuckDBPyConnection, dataset: str, table: str, columns: Sequence[str]
) -> None:
    """Delete the rows the stage no longer has and insert those it gained. A row of a root
    table is its dlt row id with its load id (a merge strategy that hashes the key keeps the
    id of a record it rewrites, never its load id); a child table's row, without a load id,
    is all of its values. dlt's own tables without a row id (the list of load packages, the
    schema versions: small) are replaced whole."""
    target, source = _name(dataset, table), f"{STAGE}.{_name(dataset, table)}"
    if ROW_ID not in columns:
        _replace(con, target, source)
        return
    keys = [ROW_ID, LOAD_ID] if LOAD_ID in columns else columns
    same = " and ".join(f"s.{quoted(k)} is not distinct from w.{quoted(k)}" for k in keys)
    con.execute(f"delete from {target} w where not exists (from {source} s where {same})")
    con.execute(
        f"insert into {target} by name "
        f"select * from {source} s where not exists (from {target} w where {same})"
    )
    # The row id is dlt's unique key; should a table ever hold it twice, copy the table
    # whole rather than leave the warehouse different from what dlt loaded.
    counts = f"(select count(*) from {target}) = (select count(*) from {source})"
    if not con.execute(f"select {counts}").fetchone()[0]:
        _replace(con, target, source)


def _replace(con: duckdb.DuckDBPyConnection, target: str, source: str) -> None:
    con.execute(f"delete from {target}")
    con.execute(f"insert into {target} by name from {source}")


def _name(dataset: str, table: str) -> str:
    return f"{quoted(dataset)}.{quoted(table)}"


def _literal(path: Path) -> str:
    return "'" + str(path).replace("'", "''") + "'"
