"""The dbt seeds of a simulated organisation: what its admins would write by hand.

The store keeps them as `seed_*` tables (and the price list as `llm_model_prices`); dbt reads
CSV files. `dbt_project/seeds/` holds the demo organisation's; a run against another simulated
organisation exports that organisation's into a directory and points dbt at it (the setting
AOW_SEEDS_DIR).
"""

from __future__ import annotations

import shutil
from pathlib import Path

import duckdb

from pipelines.atomic_files import written_atomically
from pipelines.settings import Settings

DEFAULT_SEEDS_DIR = Path(__file__).resolve().parents[2] / "dbt_project" / "seeds"
# dbt seed name -> (store table, ordering that keeps the CSV stable)
STORE_SEEDS = {
    "people": ("seed_people", "person_id"),
    "api_keys": ("seed_api_keys", "provider, api_key_id"),
    "ai_signatures": ("seed_ai_signatures", "kind, pattern"),
    "model_prices": ("llm_model_prices", "provider, model, token_kind, valid_from"),
    "ai_budgets": ("seed_ai_budgets", "scope, team, period_start"),
    "service_repos": ("seed_service_repos", "service_id"),
}
# Seeds that describe the metrics, not the organisation: copied as they are.
STATIC_SEEDS = ("dora_thresholds",)


def export_seeds(store: Path, out_dir: Path) -> Path:
    """Write the organisation's seed CSVs (and the static ones) into `out_dir`.

    Each file is written aside and renamed into place, so a dbt build reading the directory
    while another process exports the same organisation sees whole files."""
    out_dir.mkdir(parents=True, exist_ok=True)
    con = duckdb.connect(str(store), read_only=True)
    try:
        for name, (table, order) in STORE_SEEDS.items():
            query = f"select * from {table} order by {order}"
            with written_atomically(out_dir / f"{name}.csv") as tmp:
                path = str(tmp).replace("'", "''")
                con.execute(f"copy ({query}) to '{path}' (header, delimiter ',', format csv)")
    finally:
        con.close()
    for name in STATIC_SEEDS:
        src = DEFAULT_SEEDS_DIR / f"{name}.csv"
        if src.resolve() != (out_dir / src.name).resolve():
            with written_atomically(out_dir / src.name) as tmp:
                shutil.copyfile(src, tmp)
    return out_dir


def store_as_of(store: Path) -> str:
    """The simulated 'now' of the organisation, as an ISO timestamp (UTC)."""
    con = duckdb.connect(str(store), read_only=True)
    try:
        return con.execute("select value from org_meta where key = 'as_of'").fetchone()[0]
    finally:
        con.close()


def simulated_org_settings(store: Path) -> Settings:
    """The settings of a simulated organisation: its seeds and its fixed clock, so a build is
    reproducible and comparable with the ground truth; the others keep their defaults. The
    seeds are exported beside the store, outside the dbt project, as an organisation keeps
    its own."""
    store = Path(store).resolve()
    seeds_dir = export_seeds(store, store.parent / f"{store.stem}-seeds")
    return Settings(seeds_dir=seeds_dir, as_of=store_as_of(store))
