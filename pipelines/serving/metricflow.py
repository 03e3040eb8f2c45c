"""MetricFlow (`mf`) over a warehouse file: the semantic layer's metrics
(dbt_project/models/semantic/) queried from any warehouse, not only the repository's default.

`mf` reads the dbt project's profile without vars, so profiles.yml's warehouse (the var
`duckdb_path`) would fall back to `../warehouse.duckdb` from wherever `mf` runs. `run_mf` gives
it a profile of its own instead: the project's, with the warehouse's absolute path. `mf` reads
the semantic manifest `dbt parse` writes (target/semantic_manifest.json, which `python -m
pipelines prepare` keeps current), always at `<project>/target/`, and that manifest names each
table by the catalog of whichever warehouse the parse saw (DuckDB's catalog is the file's
stem). So `mf` runs in a project directory of its own: the project's files, linked, and a
target/ holding the manifest with every relation in this warehouse's catalog. dbt-duckdb opens
the file for writing, so `mf` holds the warehouse's writer lock while it runs, like every other
process that opens it that way.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

import yaml

from pipelines.project_files import DBT_PROJECT_DIR
from pipelines.warehouse.lock import writer_lock

# The MetricFlow CLI of this interpreter's environment, found even when the venv is not on PATH.
MF_EXECUTABLE = str(Path(sys.executable).with_name("mf"))
SEMANTIC_MANIFEST = "semantic_manifest.json"


@contextmanager
def metricflow_env(warehouse: Path | str) -> Iterator[tuple[Path, dict[str, str]]]:
    """The project directory `mf` runs in against `warehouse` and its environment: a profiles
    directory whose profile names the warehouse file absolutely, and the semantic manifest in
    the warehouse's catalog (both removed on exit)."""
    warehouse = Path(warehouse).resolve()
    profiles = yaml.safe_load((DBT_PROJECT_DIR / "profiles.yml").read_text(encoding="utf-8"))
    for profile in profiles.values():
        for output in profile["outputs"].values():
            output["path"] = str(warehouse)
    with tempfile.TemporaryDirectory(prefix="mf-") as tmp:
        project = Path(tmp, "project")
        _link_project(project, _in_catalog(_semantic_manifest(), warehouse.stem))
        Path(tmp, "profiles.yml").write_text(yaml.safe_dump(profiles), encoding="utf-8")
        yield project, {**os.environ, "DBT_PROJECT_DIR": str(project), "DBT_PROFILES_DIR": tmp}


def _semantic_manifest() -> dict:
    return json.loads((DBT_PROJECT_DIR / "target" / SEMANTIC_MANIFEST).read_text(encoding="utf-8"))


def _in_catalog(value: object, catalog: str) -> object:
    """The manifest with every relation (`node_relation`) in `catalog`."""
    if isinstance(value, list):
        return [_in_catalog(item, catalog) for item in value]
    if not isinstance(value, dict):
        return value
    if {"alias", "schema_name", "database", "relation_name"} <= value.keys():
        return {
            **value,
            "database": catalog,
            "relation_name": f'"{catalog}"."{value["schema_name"]}"."{value["alias"]}"',
        }
    return {key: _in_catalog(item, catalog) for key, item in value.items()}


def _link_project(project: Path, manifest: object) -> None:
    """The dbt project's files linked into `project`, with a target/ of its own."""
    project.mkdir()
    for entry in DBT_PROJECT_DIR.iterdir():
        if entry.name not in ("target", "logs"):
            (project / entry.name).symlink_to(entry)
    (project / "target").mkdir()
    (project / "target" / SEMANTIC_MANIFEST).write_text(json.dumps(manifest), encoding="utf-8")


def run_mf(
    args: Sequence[str], warehouse: Path | str, *, capture: bool = False
) -> subprocess.CompletedProcess[str]:
    """`mf <args>` against `warehouse`, holding its writer lock (WarehouseBusy while another
    process writes it); its output captured when `capture`, else on this process's."""
    with (
        writer_lock(warehouse, f"mf {' '.join(args[:1])} (pid {os.getpid()})"),
        metricflow_env(warehouse) as (project, env),
    ):
        return subprocess.run(
            [MF_EXECUTABLE, *args],
            env=env,
            cwd=project,
            capture_output=capture,
            text=True,
            check=False,
        )
