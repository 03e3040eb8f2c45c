"""Replay a source's quarantine: load the source again once the cause is fixed, and report
which quarantined records that recovered.

The loaders themselves fetch again, by id, every record of an incremental list (GitHub pull
requests, workflow runs and deployments, Jira issues, PagerDuty incidents) whose last attempt
was quarantined and that their window no longer reaches (pipelines.sources.record_keys), and
read again the list a quarantined child record came from (a review: its PR's reviews; a
comment: its PR's or issue's comments; a changelog item: its issue; a log entry: its
incident's log; a billing result: its bucket's day). A record is resolved when a load
accepts its key, a child when its parent's list is read whole without rejecting it again.
So a replay is the source's ordinary load (its incremental walk reads little), run now
instead of at the next schedule, with the quarantine counted before and after; the whole
source loads because a record's children load with it.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import duckdb

from pipelines.ingest.loads import run_load, source_spec
from pipelines.sources.unresolved import QUARANTINE_TABLE


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
        lines = []
        for resource, n in sorted(self.before.items()):
            left = self.after.get(resource, 0)
            line = (
                f"{self.source}.{resource}: {n - left} of {n} recovered, {left} still quarantined"
            )
            if left:
                line += " (rejected again, or neither its id nor its parent could be read)"
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
