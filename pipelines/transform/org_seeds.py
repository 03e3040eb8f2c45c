"""The organisation's own facts (the dbt seeds) from any directory, which is never written to.

An organisation keeps its people, API keys, budgets and service map wherever it likes
(`AOW_SEEDS_DIR`, or `transform --seeds-dir`): an absolute path, a mounted volume, another
repository. dbt, though, writes a run file for every seed at `target/run/<project>/<seed
path>`, which for an absolute seed path is the CSV itself. So dbt never reads the
organisation's directory: the seed files are copied into a private directory inside the dbt
project, named by a digest of their contents (runs with the same seeds share it, a change
makes a new one), and dbt's `seed-paths` points there through the dbt var `staged_seeds`.

Seeds that describe the organisation must be in its directory; seeds that describe the
tools and the metrics (AI signatures, model prices, DORA thresholds) fall back to the
project's own when the directory has none.

Every file is checked before dbt reads it (`check_seed_file`): its header against the columns
dbt_project.yml declares for the seed, its bytes as UTF-8, each row's number of fields, and each
typed value by DuckDB's own cast, the one dbt's load applies. A bad file then gives one line
naming the file, the line and the column, instead of a binder error in a model downstream
that names none of them.
"""

from __future__ import annotations

import csv
import hashlib
import io
import shutil
import tempfile
from functools import cache
from pathlib import Path

import duckdb
import yaml

from pipelines.project_files import DBT_PROJECT_DIR
from pipelines.settings import SettingError

DEFAULT_SEEDS_DIR = DBT_PROJECT_DIR / "seeds"
# Where staged copies live (git-ignored; `make clean` removes them).
STAGING_DIR = DBT_PROJECT_DIR / "org_seeds"
STAGED_SEEDS_VAR = "staged_seeds"  # dbt_project.yml's seed-paths, relative to the project

ORG_SEEDS = ("people", "api_keys", "ai_budgets", "service_repos")
GENERIC_SEEDS = ("ai_signatures", "model_prices", "dora_thresholds")
# What dbt's seed load reads as null in a typed column (dbt_common's agate_helper).
NULL_VALUES = ("", "null")


class SeedError(SettingError):
    """Seed files dbt would fail on; one line per problem, naming file, line and column."""


def seed_files(seeds_dir: Path | str) -> dict[str, Path]:
    """Each seed's CSV: the organisation's, or for a generic seed it lacks, the project's.
    Raises ValueError naming what is missing."""
    source = Path(seeds_dir).expanduser()
    if not source.is_dir():
        raise ValueError(f"the seeds directory {seeds_dir} does not exist")
    missing = [f"{name}.csv" for name in ORG_SEEDS if not (source / f"{name}.csv").is_file()]
    if missing:
        expected = ", ".join(
            f"{name} (header: {_header(DEFAULT_SEEDS_DIR / name)})" for name in missing
        )
        raise ValueError(
            f"the seeds directory {seeds_dir} lacks {expected}; a file with only its header "
            "row stands for none"
        )
    files = {}
    for name in ORG_SEEDS + GENERIC_SEEDS:
        own = source / f"{name}.csv"
        files[name] = own if own.is_file() else DEFAULT_SEEDS_DIR / f"{name}.csv"
    return files


def stage_seeds(seeds_dir: Path | str) -> str:
    """Copy the seeds of `seeds_dir` into the project's staging area (once per content);
    returns the staged directory relative to the dbt project, for dbt's seed-paths."""
    files = seed_files(seeds_dir)
    check_seed_files(files)
    digest = hashlib.sha256()
    for name, path in sorted(files.items()):
        digest.update(name.encode() + b"\0" + path.read_bytes() + b"\0")
    target = STAGING_DIR / f"staged-{digest.hexdigest()[:16]}"
    if not target.is_dir():
        STAGING_DIR.mkdir(parents=True, exist_ok=True)
        # Written aside and renamed: another process staging the same seeds sees a whole
        # directory or none, and whichever rename comes second finds it done.
        partial = Path(tempfile.mkdtemp(prefix=".staging-", dir=STAGING_DIR))
        try:
            for name, path in files.items():
                shutil.copyfile(path, partial / f"{name}.csv")
            try:
                partial.rename(target)
            except OSError:
                if not target.is_dir():
                    raise
        finally:
            shutil.rmtree(partial, ignore_errors=True)
    return str(target.relative_to(DBT_PROJECT_DIR))


def dbt_seed_vars(seeds_dir: Path | str | None) -> dict[str, str]:
    """The dbt var that points dbt at the staged seeds of the organisation's `seeds_dir`;
    none for the project's own (None), which are checked all the same."""
    if seeds_dir is not None:
        return {STAGED_SEEDS_VAR: stage_seeds(seeds_dir)}
    check_seed_files(seed_files(DEFAULT_SEEDS_DIR))
    return {}


@cache
def seed_columns() -> dict[str, dict[str, str]]:
    """Each seed's columns and their types, as dbt_project.yml declares them."""
    project = yaml.safe_load((DBT_PROJECT_DIR / "dbt_project.yml").read_text(encoding="utf-8"))
    seeds = project["seeds"][project["name"]]
    return {
        name: {column: str(kind) for column, kind in config["+column_types"].items()}
        for name, config in seeds.items()
        if isinstance(config, dict) and "+column_types" in config
    }


def check_seed_files(files: dict[str, Path]) -> None:
    """Raise SeedError listing every problem found (one per column at most per file)."""
    with duckdb.connect() as con:  # in memory: only its casts are used
        problems = [p for name, path in files.items() for p in check_seed_file(name, path, con)]
    if problems:
        raise SeedError(problems)


def check_seed_file(name: str, path: Path, con: duckdb.DuckDBPyConnection) -> list[str]:
    """What dbt would fail on in `path`, the file of seed `name`; empty when it is sound."""
    where = f"seed file {path}"
    data = path.read_bytes()
    try:
        text = data.decode("utf-8-sig")  # dbt skips a byte-order mark too
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        return [
            f"{where}, line {line}: not UTF-8 (byte 0x{data[exc.start]:02x}); "
            "save the file as UTF-8"
        ]
    rows = csv.reader(io.StringIO(text, newline=""))
    header = next(rows, [])
    declared = seed_columns()[name]
    problems = _header_problems(where, header, declared)
    if problems:
        return problems
    values: dict[str, list[tuple[int, str]]] = {column: [] for column in header}
    for row in rows:
        if row and len(row) != len(header):
            return [
                f"{where}, line {rows.line_num}: {len(row)} fields where the header has "
                f"{len(header)} (a comma inside a value needs double quotes)"
            ]
        for column, value in zip(header, row, strict=False):
            values[column].append((rows.line_num, value))
    for column, kind in declared.items():
        bad = _first_uncastable(con, values[column], kind)
        if bad is not None:
            line, value = bad
            problems.append(f"{where}, line {line}, column {column}: {value!r} is not a {kind}")
    return problems


def _header_problems(where: str, header: list[str], declared: dict[str, str]) -> list[str]:
    expected = ", ".join(declared)
    unknown = [c for c in header if c not in declared]
    missing = [c for c in declared if c not in header]
    duplicated = sorted({c for c in header if header.count(c) > 1})
    problems = [
        f"{where}, line 1: unknown column {c!r} (the columns are: {expected})" for c in unknown
    ]
    problems += [
        f"{where}, line 1: column {c!r} is missing (the columns are: {expected})" for c in missing
    ]
    problems += [f"{where}, line 1: column {c!r} appears twice" for c in duplicated]
    return problems


def _first_uncastable(
    con: duckdb.DuckDBPyConnection, values: list[tuple[int, str]], kind: str
) -> tuple[int, str] | None:
    """The first (line, value) DuckDB cannot cast to `kind` (nulls aside), if any."""
    if kind.lower() == "varchar":
        return None
    typed = [(line, v) for line, v in values if v.strip().lower() not in NULL_VALUES]
    if not typed:
        return None
    found = con.execute(
        f"select i from (select unnest(?) as v, generate_subscripts(?, 1) as i) "
        f"where try_cast(v as {kind}) is null order by i limit 1",
        [[v for _, v in typed]] * 2,
    ).fetchone()
    return None if found is None else typed[found[0] - 1]


def _header(path: Path) -> str:
    with path.open(encoding="utf-8") as f:
        return f.readline().strip()
