"""dbt tests a run leaves unrun on purpose, kept out of Dagster's warnings.

Every dbt test is a blocking asset check. A dbt op that builds only what changed
(pipelines.transform.changes) does not run the tests whose inputs did not change: each last
passed on the same inputs. For each of them Dagster's planner logs, when the next step
starts, that the blocking check "emitted no result" and that the step goes on without it,
which is what the run means; on a day's run that is a warning per unchanged test, a hundred
lines that would hide a real one. `expect_no_result` names the tests an op left unrun on
purpose, and a filter on the planner's logger drops the warning for those only: a blocking
check of any other kind (a Great Expectations suite) that emits no result is still reported.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable

# The logger of Dagster's execution planner (dagster/_core/execution/plan/active.py).
PLANNER_LOGGER = "dagster._core.execution.plan.active"


class _UnrunTests(logging.Filter):
    def __init__(self) -> None:
        super().__init__()
        self.names: set[str] = set()

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        if not message.startswith("Blocking asset check '"):
            return True
        check = message.split("'", 2)[1]  # "<asset key>:<check name>"
        return check.rsplit(":", 1)[-1] not in self.names


_filter = _UnrunTests()


def expect_no_result(test_names: Iterable[str]) -> None:
    """Dagster's "emitted no result" warning is not logged for these dbt tests (their
    asset check names), left unrun because their inputs did not change."""
    _filter.names.update(test_names)
    logger = logging.getLogger(PLANNER_LOGGER)
    if _filter not in logger.filters:
        logger.addFilter(_filter)
