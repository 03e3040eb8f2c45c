"""The organisation's own facts (the dbt seeds) from any directory, which is never written to.

An organisation keeps its people, API keys, budgets and service map wherever it likes
(`AOW_SEEDS_DIR`, or `transform --seeds-dir`): an absolute path, a mounted volume, another
repository. dbt, though, writes a run file for every seed at `target/run/<project>/<seed
path>`, which for an absolute seed path is the CSV itself. So dbt never reads the
organisation's directory: the seed files are copied into a private directory inside the dbt
project, named by a digest of their contents (runs with the same seeds share it, a change
makes a new one), and dbt's `seed-paths` points there through AOW_STAGED_SEEDS.

Seeds that describe the organisation must be in its directory; seeds that describe the
tools and the metrics (AI signatures, model prices, DORA thresholds) fall back to the
project's own when the directory has none.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import tempfile
from pathlib import Path

DBT_PROJECT_DIR = Path(__file__).resolve().parent.parent / "dbt_project"
DEFAULT_SEEDS_DIR = DBT_PROJECT_DIR / "seeds"
# Where staged copies live (git-ignored; `make clean` removes them).
STAGING_DIR = DBT_PROJECT_DIR / "org_seeds"
SEEDS_DIR_ENV = "AOW_SEEDS_DIR"  # the organisation's directory: any path
STAGED_SEEDS_ENV = "AOW_STAGED_SEEDS"  # dbt_project.yml's seed-paths, relative to the project

ORG_SEEDS = ("people", "api_keys", "ai_budgets", "service_repos")
GENERIC_SEEDS = ("ai_signatures", "model_prices", "dora_thresholds")


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


def dbt_seed_env(env: dict[str, str] | None = None) -> dict[str, str]:
    """The variable that points dbt at the staged seeds of the organisation named by
    AOW_SEEDS_DIR (in `env`, else the process environment); none for the project's own."""
    seeds_dir = (env or {}).get(SEEDS_DIR_ENV) or os.environ.get(SEEDS_DIR_ENV)
    return {STAGED_SEEDS_ENV: stage_seeds(seeds_dir)} if seeds_dir else {}


def _header(path: Path) -> str:
    with path.open(encoding="utf-8") as f:
        return f.readline().strip()
