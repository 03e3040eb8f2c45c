"""Where the warehouse is: a path is checked before anything is written there.

A typo in `--duckdb` or AOW_DUCKDB_PATH used to create the directory it named and a new,
empty warehouse in it, and the load "succeeded" into a file nobody reads. Now a directory
that does not exist is always an error, and a warehouse file that does not exist is created
only when asked for (`--create` on the command line; the demo, which starts a fresh one,
asks for it).
"""

from __future__ import annotations

from pathlib import Path


class WarehouseMissing(ValueError):
    """The warehouse path names a directory or a file that does not exist."""


def require_directory(warehouse: Path | str) -> Path:
    """The warehouse's absolute path; raises WarehouseMissing when its directory is absent
    or the path is a directory itself."""
    path = Path(warehouse).expanduser().resolve()
    if not path.parent.is_dir():
        raise WarehouseMissing(
            f"the directory {path.parent} of the warehouse {warehouse} does not exist: "
            "check the path (no directory is created)"
        )
    if path.is_dir():
        raise WarehouseMissing(f"the warehouse {warehouse} is a directory, not a DuckDB file")
    return path


def existing_warehouse(warehouse: Path | str, *, create: bool = False, hint: str = "") -> Path:
    """The warehouse's absolute path, which must exist unless `create`; `hint` says how to
    create one where that is offered (e.g. "pass --create to start a new warehouse")."""
    path = require_directory(warehouse)
    if not create and not path.exists():
        how = f"; {hint}" if hint else ""
        raise WarehouseMissing(f"the warehouse {path} does not exist: check the path{how}")
    return path
