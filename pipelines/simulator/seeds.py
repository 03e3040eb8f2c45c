"""The dbt seeds of a simulated organisation: what its admins would write by hand.

The store keeps them as `seed_*` tables (and the price list as `llm_model_prices`); dbt reads
CSV files. `dbt_project/seeds/` holds the demo organisation's; a run against another simulated
organisation exports that organisation's into a directory and points dbt at it (AOW_SEEDS_DIR).
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import duckdb

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
    partial = f".{os.getpid()}.partial"
    con = duckdb.connect(str(store), read_only=True)
    try:
        for name, (table, order) in STORE_SEEDS.items():
            tmp = out_dir / f"{name}.csv{partial}"
            query = f"select * from {table} order by {order}"
            path = str(tmp).replace("'", "''")
            con.execute(f"copy ({query}) to '{path}' (header, delimiter ',', format csv)")
            tmp.replace(out_dir / f"{name}.csv")
    finally:
        con.close()
    for name in STATIC_SEEDS:
        src = DEFAULT_SEEDS_DIR / f"{name}.csv"
        if src.resolve() != (out_dir / src.name).resolve():
            tmp = out_dir / f"{src.name}{partial}"
            shutil.copyfile(src, tmp)
            tmp.replace(out_dir / src.name)
    return out_dir


def store_as_of(store: Path) -> str:
    """The simulated 'now' of the organisation, as an ISO timestamp (UTC)."""
    con = duckdb.connect(str(store), read_only=True)
    try:
        return con.execute("select value from org_meta where key = 'as_of'").fetchone()[0]
    finally:
        con.close()


def simulated_org_env(store: Path) -> dict[str, str]:
    """dbt's environment for a simulated organisation: its seeds and its fixed clock, so a
    build is reproducible and comparable with the ground truth. The seeds are exported under
    the dbt project (see org_env: a seeds directory must be inside it)."""
    from pipelines.transform import ORG_SEEDS_DIR, org_env

    seeds_dir = export_seeds(store, ORG_SEEDS_DIR / Path(store).stem)
    return org_env(seeds_dir, store_as_of(store))
