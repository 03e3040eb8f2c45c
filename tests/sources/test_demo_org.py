"""Scale: a full load of the `demo` organisation (50 engineers, 90 days) equals the store.

Marked slow (about 15,000 GitHub requests): run with
`.venv/bin/pytest -m slow tests/sources/test_demo_org.py`. The per-source tests check the
same properties field by field on the tiny organisation in CI.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import duckdb
import pytest

from org_simulator.demo import store_path
from org_simulator.server import SimulatorServer
from org_simulator.sources_env import simulator_sources_env
from pipelines.ingest.loads import run_load
from pipelines.sources import SOURCES

pytestmark = pytest.mark.slow

AS_OF = "timestamp '2026-11-01 00:00:00'"

# raw table -> the store query that counts what the vendor serves as of the store's clock.
EXPECTED_COUNTS = {
    "raw_github.repositories": "select count(*) from gh_repositories",
    "raw_github.pull_requests": "select count(*) from gh_pull_requests",
    "raw_github.pull_request_reviews": "select count(*) from gh_reviews",
    "raw_github.pull_request_review_comments": "select count(*) from gh_review_comments",
    "raw_github.pull_request_commits": "select count(*) from gh_commits",
    "raw_github.issue_comments": "select count(*) from gh_issue_comments",
    "raw_github.deployments": "select count(*) from gh_deployments",
    "raw_github.deployment_statuses": "select count(*) from gh_deployment_statuses",
    # one comparison per successful production deployment after its environment's first,
    # as the ground truth pairs them, and every commit listed in them
    "raw_github.deployment_ranges": (
        "select count(*) from truth_deployments where base_deployment_id is not null"
    ),
    "raw_github.deployment_range_commits": "select sum(total_commits) from truth_deployments",
    "raw_github.workflow_runs": "select count(*) from gh_workflow_runs",
    "raw_github.workflow_jobs": "select count(*) from gh_workflow_jobs",
    "raw_jira.issues": f"select count(*) from jira_issues where created <= {AS_OF}",
    "raw_jira.issues__changelog": f"select count(*) from jira_changelog where created <= {AS_OF}",
    "raw_pagerduty.incidents": f"select count(*) from pd_incidents where created_at <= {AS_OF}",
    "raw_pagerduty.incident_log_entries": (
        f"select count(*) from pd_log_entries where created_at <= {AS_OF}"
    ),
    "raw_anthropic.messages_usage": (
        f"select count(*) from anthropic_messages_usage where bucket_date < {AS_OF}"
    ),
    "raw_anthropic.claude_code_usage": (
        f"select count(*) from anthropic_claude_code_usage where date < {AS_OF}"
    ),
    "raw_openai.completions_usage": (
        f"select count(*) from openai_completions_usage where bucket_date < {AS_OF}"
    ),
}

# A value per table computed on both sides: sums that any lost, duplicated or garbled
# row would change.
EXPECTED_SUMS = [
    (
        "select sum(additions) + sum(deletions) from raw_github.pull_requests",
        "select sum(additions) + sum(deletions) from gh_pull_requests",
    ),
    (
        "select sum(length(message)) from raw_github.pull_request_commits",
        "select sum(length(message)) from gh_commits",
    ),
    (
        "select count(*) filter (where conclusion = 'failure') from raw_github.workflow_jobs",
        "select count(*) filter (where conclusion = 'failure') from gh_workflow_jobs",
    ),
    (
        "select sum(output_tokens) from raw_anthropic.messages_usage",
        f"select sum(output_tokens) from anthropic_messages_usage where bucket_date < {AS_OF}",
    ),
    (
        "select sum(output_tokens) from raw_openai.completions_usage",
        f"select sum(output_tokens) from openai_completions_usage where bucket_date < {AS_OF}",
    ),
]


@pytest.fixture(scope="module")
def demo_load(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Path, Path]]:
    store = store_path("demo", 42)
    warehouse = tmp_path_factory.mktemp("demo") / "warehouse.duckdb"
    with SimulatorServer(store) as sim, pytest.MonkeyPatch.context() as mp:
        for key, value in simulator_sources_env(sim).items():
            mp.setenv(key, value)
        for source in SOURCES:
            run_load(source, warehouse)
        yield store, warehouse


def _scalar(path: Path, sql: str):
    with duckdb.connect(str(path), read_only=True) as con:
        return con.execute(sql).fetchone()[0]


@pytest.mark.parametrize("table", sorted(EXPECTED_COUNTS))
def test_row_counts_equal_the_store(demo_load, table: str):
    store, warehouse = demo_load
    expected = _scalar(store, EXPECTED_COUNTS[table])
    assert expected > 0
    assert _scalar(warehouse, f"select count(*) from {table}") == expected


@pytest.mark.parametrize("loaded, served", EXPECTED_SUMS)
def test_field_sums_equal_the_store(demo_load, loaded: str, served: str):
    store, warehouse = demo_load
    assert _scalar(warehouse, loaded) == _scalar(store, served)


def test_nothing_quarantined(demo_load):
    _store, warehouse = demo_load
    quarantined = _scalar(
        warehouse,
        "select count(*) from information_schema.tables where table_name = 'quarantine'",
    )
    assert quarantined == 0  # the table is only created when a record is quarantined
