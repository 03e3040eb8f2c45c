"""Replay a source's quarantine: load the source again once the cause is fixed, and report
which quarantined records that recovered.

The loaders themselves fetch again, by id, every record of an incremental list (GitHub pull
requests, workflow runs and deployments, Jira issues, PagerDuty incidents) whose last attempt
was quarantined and that their window no longer reaches (pipelines.sources.record_keys), and
mark a record resolved when a load accepts its key. So a replay is the source's ordinary
load (its incremental walk reads little), run now instead of at the next schedule, with the
quarantine counted before and after. A record's children (reviews, jobs, changelogs) load with
it, which is why the whole source loads rather than one table.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import duckdb

from pipelines.loads import run_load, source_spec
from pipelines.sources.unresolved import QUARANTINE_TABLE

# Resources whose records are fetched by id when quarantined (the others recover when the
# vendor sends them again, e.g. a review when its pull request changes).
FETCHED_BY_ID = {"github": ("pull_requests", "workflow_runs"), "jira": ("issues",)}


@dataclass(frozen=True)
class Replay:
    source: str
    before: dict[str, int]  # unresolved records per resource, before the replay
    after: dict[str, int]  # and after
    rows_loaded: dict[str, int]

    @property
    def recovered(self) -> dict[str, int]:
        return {r: n - self.after.get(r, 0) for r, n in self.before.items()}

    def lines(self) -> list[str]:
        if not self.before:
            return [f"{self.source}: nothing quarantined is unresolved; loaded as usual"]
        fetched = FETCHED_BY_ID.get(self.source, ())
        lines = []
        for resource, n in sorted(self.before.items()):
            left = self.after.get(resource, 0)
            line = (
                f"{self.source}.{resource}: {n - left} of {n} recovered, {left} still quarantined"
            )
            if left and resource not in fetched:
                line += " (not fetched by id: recovers when the vendor sends it again)"
            lines.append(line)
        return lines


def unresolved(duckdb_path: Path | str, source: str) -> dict[str, int]:
    """Unresolved quarantined records per resource (empty when there is no quarantine)."""
    dataset = source_spec(source).dataset
    if not Path(duckdb_path).exists():
        return {}
    with duckdb.connect(str(duckdb_path), read_only=True) as con:
        columns = {
            r[0]
            for r in con.execute(
                "select column_name from information_schema.columns "
                "where table_schema = ? and table_name = ?",
                [dataset, QUARANTINE_TABLE],
            ).fetchall()
        }
        if "resolved_at" not in columns:
            return {}
        found = con.execute(
            f'select resource, count(*) from "{dataset}".{QUARANTINE_TABLE} '
            "where resolved_at is null group by resource"
        ).fetchall()
    return dict(found)


def replay(source: str, duckdb_path: Path | str) -> Replay:
    """Load `source` and count what it recovered. Raises as `run_load` does."""
    before = unresolved(duckdb_path, source)
    rows = run_load(source, duckdb_path)
    return Replay(source, before, unresolved(duckdb_path, source), rows)
