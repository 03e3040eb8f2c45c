"""MetricFlow (`mf`) over a warehouse file: the semantic layer's metrics
(dbt_project/models/semantic/) queried from any warehouse, not only the repository's default.

`mf` reads the dbt project's profile without vars, so profiles.yml's warehouse (the var
`duckdb_path`) would fall back to `../warehouse.duckdb` from wherever `mf` runs. `run_mf` gives
it a profile of its own instead: the project's, with the warehouse's absolute path. It reads
the semantic manifest `dbt parse` writes (target/semantic_manifest.json, which `python -m
pipelines prepare` keeps current). dbt-duckdb opens the file for writing, so `mf` holds the
warehouse's writer lock while it runs, like every other process that opens it that way.
"""

from __future__ import annotations

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


@contextmanager
def metricflow_env(warehouse: Path | str) -> Iterator[dict[str, str]]:
    """The environment `mf` runs in against `warehouse`: the dbt project, and a profiles
    directory (removed on exit) whose profile names the warehouse file absolutely."""
    profiles = yaml.safe_load((DBT_PROJECT_DIR / "profiles.yml").read_text(encoding="utf-8"))
    for profile in profiles.values():
        for output in profile["outputs"].values():
            output["path"] = str(Path(warehouse).resolve())
    with tempfile.TemporaryDirectory(prefix="mf-profile-") as profiles_dir:
        Path(profiles_dir, "profiles.yml").write_text(yaml.safe_dump(profiles), encoding="utf-8")
        yield {
            **os.environ,
            "DBT_PROJECT_DIR": str(DBT_PROJECT_DIR),
            "DBT_PROFILES_DIR": profiles_dir,
        }


def run_mf(
    args: Sequence[str], warehouse: Path | str, *, capture: bool = False
) -> subprocess.CompletedProcess[str]:
    """`mf <args>` against `warehouse`, holding its writer lock (WarehouseBusy while another
    process writes it); its output captured when `capture`, else on this process's."""
    with (
        writer_lock(warehouse, f"mf {' '.join(args[:1])} (pid {os.getpid()})"),
        metricflow_env(warehouse) as env,
    ):
        return subprocess.run(
            [MF_EXECUTABLE, *args],
            env=env,
            cwd=DBT_PROJECT_DIR,
            capture_output=capture,
            text=True,
            check=False,
        )
