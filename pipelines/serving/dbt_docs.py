"""The dbt docs of a warehouse: where they are kept, and how a new set replaces the old.

`dbt docs generate --static` writes, beside manifest.json and catalog.json (what the catalog
found in the warehouse: every table and view, its columns and their types), `static_index.html`,
one page with both inlined that opens from disk in a browser, no server needed. The docs
describe one warehouse's tables, so they are kept beside it, in `<warehouse stem>_docs/`
(`warehouse_docs/` for the default warehouse.duckdb), not in dbt_project/target/, which every
dbt invocation of every warehouse shares and rewrites.
"""

from __future__ import annotations

import hashlib
import os
import shutil
from pathlib import Path

# What a reader opens (STATIC_PAGE), and what `dbt docs serve` or a BI tool reads.
STATIC_PAGE = "static_index.html"
DOCS_FILES = (STATIC_PAGE, "index.html", "manifest.json", "catalog.json")
# The digest of what the docs were generated from (docs_inputs).
INPUTS_FILE = "inputs.sha256"


def docs_dir(warehouse: Path | str) -> Path:
    """Where the docs of `warehouse` are kept: `<stem>_docs/` beside the file."""
    path = Path(warehouse).resolve()
    return path.with_name(f"{path.stem}_docs")


def docs_inputs(warehouse: Path | str, project: str) -> str:
    """A digest of what the docs show: the project as parsed for the run (`project`, the
    digest dbt_runner.parse_digest gives) and the warehouse's relations with their columns
    and types. Rows are not in the docs."""
    import duckdb

    digest = hashlib.sha256(project.encode())
    with duckdb.connect(str(warehouse), read_only=True) as con:
        columns = con.execute(
            "select table_schema, table_name, column_name, data_type "
            "from information_schema.columns where table_catalog = current_database() "
            "and table_schema not like 'raw_%' order by all"
        ).fetchall()
    digest.update(repr(columns).encode())
    return digest.hexdigest()


def docs_are_current(warehouse: Path | str, inputs: str) -> bool:
    """Whether the warehouse's docs were generated from these inputs (docs_inputs)."""
    kept = docs_dir(warehouse)
    stamp = kept / INPUTS_FILE
    return (kept / STATIC_PAGE).exists() and stamp.exists() and stamp.read_text() == inputs


def publish_docs(target: Path, warehouse: Path | str, inputs: str | None = None) -> Path:
    """Copy the docs a `dbt docs generate --static` wrote into `target` to the warehouse's
    docs directory, replacing the previous set whole (a reader never finds one file of each),
    with the digest of their inputs (docs_inputs) when given. Returns the directory."""
    final = docs_dir(warehouse)
    staged = final.with_name(f"{final.name}.new-{os.getpid()}")
    retired = final.with_name(f"{final.name}.old-{os.getpid()}")
    shutil.rmtree(staged, ignore_errors=True)
    staged.mkdir()
    for name in DOCS_FILES:
        shutil.copyfile(target / name, staged / name)
    if inputs is not None:
        (staged / INPUTS_FILE).write_text(inputs)
    if final.exists():
        final.rename(retired)
    staged.rename(final)
    shutil.rmtree(retired, ignore_errors=True)
    return final
