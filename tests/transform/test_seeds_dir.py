"""An organisation's seeds from any directory, which no build writes to."""

from __future__ import annotations

from pathlib import Path

import duckdb
import pytest

from org_simulator.seeds import export_seeds
from pipelines.settings import read_settings
from pipelines.transform.dbt_runner import build_models
from pipelines.transform.org_seeds import DBT_PROJECT_DIR, ORG_SEEDS, seed_files, stage_seeds


def _snapshot(directory: Path) -> dict[str, tuple[bytes, int]]:
    return {p.name: (p.read_bytes(), p.stat().st_mtime_ns) for p in directory.iterdir()}


def test_an_absolute_seeds_directory_is_read_and_never_written(tiny_store, tmp_path):
    seeds = export_seeds(tiny_store, tmp_path / "organisation" / "seeds")
    before = _snapshot(seeds)
    warehouse = tmp_path / "warehouse.duckdb"

    result = build_models(warehouse, select="resource_type:seed", seeds_dir=seeds, tests=False)

    assert result.success, result.error or result.failed
    assert _snapshot(seeds) == before  # same files, same bytes, not even rewritten
    with duckdb.connect(str(warehouse), read_only=True) as con:
        people = con.execute("select count(*) from seeds.people").fetchone()[0]
    assert people == len((seeds / "people.csv").read_text().splitlines()) - 1


def test_seeds_are_staged_inside_the_project_once_per_content(tiny_store, tmp_path):
    seeds = export_seeds(tiny_store, tmp_path / "seeds")
    staged = stage_seeds(seeds)
    assert not Path(staged).is_absolute()
    assert (DBT_PROJECT_DIR / staged / "people.csv").read_bytes() == (
        seeds / "people.csv"
    ).read_bytes()
    assert stage_seeds(seeds) == staged
    with (seeds / "ai_budgets.csv").open("a") as f:
        f.write("org,,2027-01-01,2027-01-31,100.00\n")
    assert stage_seeds(seeds) != staged


def test_generic_seeds_fall_back_to_the_projects_own(tmp_path):
    for name in ORG_SEEDS:
        (tmp_path / f"{name}.csv").write_text("header\n")
    files = seed_files(tmp_path)
    assert files["people"] == tmp_path / "people.csv"
    assert files["dora_thresholds"] == DBT_PROJECT_DIR / "seeds" / "dora_thresholds.csv"


def test_a_missing_organisation_seed_is_named_with_its_header(tmp_path):
    (tmp_path / "people.csv").write_text("person_id\n")
    with pytest.raises(ValueError, match=r"api_keys\.csv \(header: provider,api_key_id"):
        seed_files(tmp_path)
    with pytest.raises(ValueError, match="does not exist"):
        seed_files(tmp_path / "typo")


def test_the_settings_keep_the_path_as_given_absolute(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "seeds").mkdir()
    settings = read_settings({"AOW_SEEDS_DIR": "seeds", "AOW_AS_OF": "2026-11-01T00:00:00"})
    assert (settings.seeds_dir, settings.as_of) == (tmp_path / "seeds", "2026-11-01T00:00:00")
