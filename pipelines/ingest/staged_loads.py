"""Loads that readers see whole: each checkpoint is loaded into a stage, then swapped into the
warehouse by one DuckDB transaction.

dlt commits a load package piece by piece: every load job is its own transaction, every
merge (delete the old versions, insert the new, child tables included) another, and the
package's row in `_dlt_loads` comes last. A process killed in between leaves the warehouse
half-applied (deployments updated, pull requests not yet) until the next run merges the
same window again. Reading only rows of completed packages (`_dlt_loads.status = 0`) does
not help: a merge has already deleted the old versions of the rows it replaces, so a
reader filtering out the new ones would see those records vanish.

So dlt never writes the warehouse. A load makes a stage file in its throwaway pipelines
folder holding its source's dataset (`raw_<source>`) as far as the load reads it: every
table, made by the warehouse's DDL, but with rows only where dlt or the source reads them
(`stage_dataset`). dlt loads each checkpoint there, merging into tables that hold only what
this load wrote. When a checkpoint's package has loaded, `swap_in` applies what it wrote to
the warehouse in one transaction, as dlt's merge would have: the rows of the checkpoint's
load ids inserted, and the versions they replace deleted, with their child rows. So a swap
costs what the checkpoint loaded, not the size of the history. A reader (dbt, a BI tool)
sees the source as it was before the checkpoint or after it, never between; a process killed
before the commit leaves no trace in the warehouse (DuckDB drops an uncommitted transaction
on recovery). The cursors travel in the same transaction (`_dlt_pipeline_state`), so the next
load goes on from the last checkpoint swapped in, and merges on natural keys keep reruns
idempotent. A vendor's new column or table reaches the stage through dlt and the warehouse
through the swap, in the same transaction as its rows.

The swap reproduces dlt's `merge` (the delete-insert strategy, on primary and merge keys)
and `append`; any other table hint (another merge strategy, hard deletes, `replace`) is
refused with the table's name (`MergeRules.of`) rather than applied differently.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import duckdb
from dlt.common.schema import Schema
from dlt.common.schema.utils import (
    get_columns_names_with_prop,
    get_first_column_name_with_prop,
    get_merge_strategy,
    get_nested_tables,
)

from pipelines.ingest.memory_bounds import DUCKDB_LOAD_SETTINGS
from pipelines.warehouse.sql import quoted

STAGE_FILE = "stage.duckdb"
STAGE = "aow_load_stage"  # the stage's catalog name while attached to the warehouse (not a
# warehouse file's stem, which names its own catalog)
ROW_ID, LOAD_ID = "_dlt_id", "_dlt_load_id"
# dlt's own tables, as `stage_dataset` copies them: the state dlt restores (each pipeline's
# newest, as dlt's own query picks it), the list of loads it joins to, the schema versions.
STATE_TABLE, LOADS_TABLE, VERSION_TABLE = "_dlt_pipeline_state", "_dlt_loads", "_dlt_version"


@dataclass(frozen=True)
class Merge:
    """How a checkpoint's rows of one root table reach the warehouse: the old versions of
    its records found by each of `keys` (dlt's primary key, its merge key) deleted, with the
    rows of `children` whose `root_key` is theirs; then the new rows inserted. No keys: rows
    are appended."""

    keys: tuple[tuple[str, ...], ...]
    children: tuple[tuple[str, str], ...]  # (child table, its root-key column)


class MergeRules(dict[str, Merge]):
    """Root table -> Merge, for every table of a dlt schema that holds rows with a load id."""

    @classmethod
    def of(cls, schema: Schema) -> MergeRules:
        tables = schema.tables
        rules = cls()
        for name, table in tables.items():
            if table.get("parent") or name in (LOADS_TABLE, VERSION_TABLE):
                continue
            disposition = table.get("write_disposition", "append")
            children = get_nested_tables(tables, name, include_self=False)
            if disposition == "append" and not children:
                rules[name] = Merge((), ())
                continue
            strategy = get_merge_strategy(tables, name) or "delete-insert"
            special = [
                hint
                for hint in ("x-merge-source-filter", "x-merge-destination-scope")
                if table.get(hint)
            ]
            if disposition != "merge" or strategy != "delete-insert" or special:
                found = f"merge ({strategy})" if disposition == "merge" else disposition
                raise ValueError(
                    f"table {name!r}: staged loads apply dlt's merge (delete-insert) and append "
                    f"without child tables, not {' '.join([found, *special])}"
                )
            if get_columns_names_with_prop(table, "hard_delete"):
                raise ValueError(f"table {name!r}: staged loads do not apply hard deletes")
            keys = tuple(
                tuple(columns)
                for prop in ("primary_key", "merge_key")
                if (columns := get_columns_names_with_prop(table, prop))
            )
            # dlt gives a merged root's child rows its row id with the first of them: a child
            # table without that column has never held a row.
            nested = tuple(
                (child["name"], root_key)
                for child in children
                if (root_key := get_first_column_name_with_prop(child, "root_key"))
            )
            rules[name] = Merge(keys, nested)
        return rules


def stage_dataset(
    warehouse: Path | str, stage: Path | str, dataset: str, read: Collection[str] = ()
) -> None:
    """A new stage file for a load of the warehouse's `dataset`: every table of it made by the
    same DDL (types and NOT NULLs match; dlt finds the tables it knows), holding the rows the
    load reads and no others: dlt's schema versions and list of loads, each pipeline's newest
    state (its cursors), and the `read` tables whole (the ones a source consults while it
    extracts). The data tables start empty. The caller holds the writer lock."""
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
        for table in tables.keys() & {*read, LOADS_TABLE, VERSION_TABLE}:
            con.execute(f"insert into {STAGE}.{_name(dataset, table)} from {_name(dataset, table)}")
        if STATE_TABLE in tables:
            con.execute(
                f"insert into {STAGE}.{_name(dataset, STATE_TABLE)} "
                f"select s.* from {_name(dataset, STATE_TABLE)} s "
                f"join {_name(dataset, LOADS_TABLE)} l on l.load_id = s._dlt_load_id "
                "where l.status = 0 "
                "qualify s._dlt_load_id = max(s._dlt_load_id) over (partition by s.pipeline_name)"
            )


def swap_in(
    warehouse: Path | str,
    stage: Path | str,
    dataset: str,
    load_ids: Iterable[str],
    rules: Mapping[str, Merge],
) -> None:
    """Apply to the warehouse's `dataset`, in one transaction, what the loads `load_ids` wrote
    to the stage: new tables created, new columns added, each root table's rows of those
    loads merged by its `rules` (child rows following their root), and dlt's lists of loads
    and schema versions given the rows they gained. The caller holds the writer lock; dlt
    has closed the stage."""
    load_ids = sorted(load_ids)
    with _warehouse_with_stage(warehouse, stage, read_only=True) as con:
        home = con.execute("select current_database()").fetchone()[0]
        staged = _table_ddl(con, STAGE, dataset)
        present = _table_ddl(con, home, dataset)
        con.execute("begin transaction")
        con.execute(f"create schema if not exists {quoted(dataset)}")
        for table, ddl in staged.items():
            if table not in present:
                con.execute(ddl)  # the DDL names the schema, not the catalog: the warehouse
        staged_columns = _columns(con, STAGE, dataset)
        _add_new_columns(con, dataset, staged_columns, _columns(con, home, dataset))
        con.execute("create temp table aow_swap_loads (load_id varchar)")
        con.executemany("insert into aow_swap_loads values (?)", [[i] for i in load_ids])
        if LOADS_TABLE in staged:
            loads = "where load_id in (from aow_swap_loads)"
            _add_missing_rows(con, dataset, LOADS_TABLE, staged_columns[LOADS_TABLE], loads)
        if VERSION_TABLE in staged:
            _add_missing_rows(con, dataset, VERSION_TABLE, staged_columns[VERSION_TABLE])
        # Child tables go with their root; a table the load's schema lacks, it did not write.
        for table in sorted(staged.keys() & rules.keys()):
            if con.execute(f"select exists (from {_new_rows(dataset, table)})").fetchone()[0]:
                _apply_rows(con, dataset, table, rules[table])
        con.execute("commit")


def _new_rows(dataset: str, table: str) -> str:
    return f"(from {STAGE}.{_name(dataset, table)} where {LOAD_ID} in (from aow_swap_loads))"


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
        for name, value in DUCKDB_LOAD_SETTINGS.items():
            con.execute(f"set {name} = {_setting(value)}")
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


def _columns(
    con: duckdb.DuckDBPyConnection, catalog: str, dataset: str
) -> dict[str, list[tuple[str, str]]]:
    """Table -> its (column, type) pairs, in order, for every table of `dataset` (one
    catalog query: each costs about the same however few tables it asks for)."""
    columns: dict[str, list[tuple[str, str]]] = {}
    for table, name, data_type in con.execute(
        "select table_name, column_name, data_type from duckdb_columns() "
        "where database_name = ? and schema_name = ? order by table_name, column_index",
        [catalog, dataset],
    ).fetchall():
        columns.setdefault(table, []).append((name, data_type))
    return columns


def _add_new_columns(
    con: duckdb.DuckDBPyConnection,
    dataset: str,
    staged: Mapping[str, list[tuple[str, str]]],
    present: Mapping[str, list[tuple[str, str]]],
) -> None:
    """Columns dlt added to a staged table (a vendor's new field), added to the warehouse's
    as nullable as dlt adds them (`staged`, `present`: the stage's and the warehouse's
    columns, see _columns)."""
    for table, columns in staged.items():
        have = {name for name, _type in present.get(table, [])}
        for name, data_type in columns:
            if name not in have:
                con.execute(
                    f"alter table {_name(dataset, table)} add column {quoted(name)} {data_type}"
                )


def _apply_rows(con: duckdb.DuckDBPyConnection, dataset: str, table: str, merge: Merge) -> None:
    """The stage's rows of `table` from this swap's loads, and their child rows, into the
    warehouse, after deleting the versions they replace as dlt's delete-insert merge does:
    the rows matching a new one on any of the keys, and the child rows of those."""
    target, new = _name(dataset, table), _new_rows(dataset, table)
    if merge.keys:
        replaced = " or ".join(
            f"exists (from {new} s where "
            + " and ".join(f"s.{quoted(k)} = w.{quoted(k)}" for k in keys)
            + ")"
            for keys in merge.keys
        )
        con.execute(
            "create or replace temp table aow_swap_replaced as "
            f"select w.{ROW_ID} from {target} w where {replaced}"
        )
        for child, root_key in merge.children:  # first, while their roots are there
            con.execute(
                f"delete from {_name(dataset, child)} "
                f"where {quoted(root_key)} in (from aow_swap_replaced)"
            )
        con.execute(f"delete from {target} where {ROW_ID} in (from aow_swap_replaced)")
    con.execute(f"insert into {target} by name {new}")
    for child, root_key in merge.children:
        con.execute(
            f"insert into {_name(dataset, child)} by name "
            f"from {STAGE}.{_name(dataset, child)} "
            f"where {quoted(root_key)} in (select {ROW_ID} from {new})"
        )


def _add_missing_rows(
    con: duckdb.DuckDBPyConnection,
    dataset: str,
    table: str,
    staged: list[tuple[str, str]],
    where: str = "",
) -> None:
    """dlt's list of loads and its schema versions only ever gain rows: the staged ones
    (`where`) the warehouse lacks, by the staged table's columns (`staged`)."""
    target, source = _name(dataset, table), f"{STAGE}.{_name(dataset, table)}"
    columns = ", ".join(quoted(name) for name, _type in staged)
    con.execute(
        f"insert into {target} ({columns}) "
        f"select {columns} from {source} {where} except select {columns} from {target}"
    )


def _name(dataset: str, table: str) -> str:
    return f"{quoted(dataset)}.{quoted(table)}"


def _setting(value: str | bool) -> str:
    return str(value).lower() if isinstance(value, bool) else f"'{value}'"


def _literal(path: Path) -> str:
    return "'" + str(path).replace("'", "''") + "'"
