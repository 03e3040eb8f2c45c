"""The keys of every Dagster asset, asset check, job, schedule and sensor, one per line, as
tests/snapshots/dagster_definitions.txt holds them: a key that appears or disappears
changes what the schedule runs, what a BI tool's lineage shows and what a backfill selects,
so it has to change the snapshot too (test_definitions_and_cli.py).

    .venv/bin/python -m tests.definition_keys --update    # after an intended change
"""

from __future__ import annotations

import sys
from pathlib import Path

SNAPSHOT = Path(__file__).parent / "snapshots" / "dagster_definitions.txt"


def definition_keys() -> list[str]:
    """The keys of the definitions as the code location loads them with no setting set."""
    from pipelines.orchestration.definitions import build_definitions
    from pipelines.settings import read_settings
    from pipelines.transform.dbt_runner import prepare_manifest

    prepare_manifest()
    defs = build_definitions(read_settings({}))
    graph = defs.resolve_asset_graph()
    repository = defs.get_repository_def()
    lines = [f"asset {key.to_user_string()}" for key in graph.get_all_asset_keys()]
    lines += [
        f"check {key.asset_key.to_user_string()}:{key.name}" for key in graph.asset_check_keys
    ]
    # Dagster's implicit asset jobs (`__ASSET_JOB...`) are its own, not the project's.
    lines += [
        f"job {job.name}" for job in repository.get_all_jobs() if not job.name.startswith("__")
    ]
    lines += [f"schedule {schedule.name}" for schedule in repository.schedule_defs]
    lines += [f"sensor {sensor.name}" for sensor in repository.sensor_defs]
    return sorted(lines)


def main(argv: list[str]) -> int:
    if argv != ["--update"]:
        print(__doc__)
        return 2
    SNAPSHOT.write_text("\n".join(definition_keys()) + "\n", encoding="utf-8")
    print(f"wrote {SNAPSHOT}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
