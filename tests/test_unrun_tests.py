"""The filter that keeps Dagster's planner from warning of dbt tests a run left unrun on
purpose (pipelines.orchestration.dbt.unrun_tests): those tests only, nothing else."""

from __future__ import annotations

import logging

from pipelines.orchestration.dbt.unrun_tests import PLANNER_LOGGER, expect_no_result


def _passes(message: str) -> bool:
    logger = logging.getLogger(PLANNER_LOGGER)
    record = logger.makeRecord(PLANNER_LOGGER, logging.WARNING, __file__, 1, message, None, None)
    return all(f.filter(record) for f in logger.filters)


def _no_result(check: str) -> str:
    return (
        f"Blocking asset check {check!r} emitted no result in step 'dbt_foundation'; "
        "downstream step 'dbt_outcomes' will proceed without gating on it."
    )


def test_only_the_named_unrun_tests_lose_their_warning():
    expect_no_result(["unique_stg_jira__issues_issue_id"])
    assert not _passes(_no_result("staging/stg_jira__issues:unique_stg_jira__issues_issue_id"))
    # Another blocking check without a result (a quality suite, a test not named) still warns.
    assert _passes(_no_result("raw_jira/issues:gx_raw_jira__issues"))
    assert _passes(_no_result("staging/stg_jira__issues:unique_stg_jira__issues_issue_key"))
    # So does anything else the planner logs.
    assert _passes("Step 'dbt_outcomes' skipped: an input was not produced")
