"""A Dagster run in this process, its progress on the console (pipelines.progress).

A Dagster logger receives every event of the run (STEP_START, ASSET_MATERIALIZATION,
ASSET_CHECK_EVALUATION, STEP_SUCCESS...) and turns them into one line per source load and dbt
stage as each finishes, with the counts the steps report in their metadata (`rows_loaded`,
`child_rows_loaded`, `api_requests`, `quarantined_records`, `source_status`; the dbt nodes'
`unique_id`), then one line per kind of check. It takes the console logger's place: the run's
other messages show only from warnings up, each on a line of its own ("warning: ...").

dagster-dbt echoes each of dbt's log messages to stdout; the run quiets that (and anything else
a library prints there) unless verbose. dbt's warnings still show; its errors reach the step's
failure, which the progress line quotes. `verbose` brings back Dagster's whole event stream
and dbt's output, as `dagster dev` shows them for the UI's runs.
"""

from __future__ import annotations

import contextlib
import io
import logging
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import dagster as dg

from pipelines.orchestration.dbt.docs import DBT_DOCS
from pipelines.orchestration.freshness import CHECK_NAME as FRESHNESS_CHECK
from pipelines.orchestration.publication import PUBLICATION
from pipelines.orchestration.quality.quarantine import CHECK_NAME as QUARANTINE_CHECK
from pipelines.progress import (
    FAILED,
    OK,
    RETRY,
    SKIPPED,
    CheckTally,
    Console,
    DbtProgress,
    LoadProgress,
    counted,
    step_line,
)
from pipelines.sources import SOURCES

DBT_STEP_PREFIX = "dbt_"
# The steps that serve readers (each its asset's op), a line of their own.
SERVING_STEPS = {
    DBT_DOCS.to_python_identifier(): "dbt docs",
    PUBLICATION.to_python_identifier(): "publish",
}
# dagster-dbt's notice for each test that runs outside Dagster's check selection. The project
# means it (tests run "buildable": pipelines.orchestration.dbt.assets); the test's result is
# still counted on its stage's line.
DBT_OBSERVATION_NOTICE = "Logging an `AssetObservation` instead of an `AssetCheckResult`"
# The check kinds, in the order their lines are printed.
CHECK_KINDS = {
    "gx_": "gx suites",
    QUARANTINE_CHECK: "quarantine",
    FRESHNESS_CHECK: "freshness",
    "no_failed_source_loads": "source loads",
}


def check_kind(check_name: str) -> str:
    for prefix, kind in CHECK_KINDS.items():
        if check_name.startswith(prefix):
            return kind
    return check_name


@dataclass
class _Step:
    started: float
    materialized: dict[dg.AssetKey, dict[str, Any]] = field(default_factory=dict)
    tests: dict[str, bool] = field(default_factory=dict)  # dbt test -> passed
    checks: list[dg.AssetCheckEvaluation] = field(default_factory=list)


class RunProgress:
    """Reads a run's log records, prints its progress on `console`."""

    def __init__(self, console: Console):
        self.console = console
        self.steps: dict[str, _Step] = {}
        self.tallies: dict[str, CheckTally] = {}
        self.skipped: list[str] = []
        self.finished = 0
        kind = dg.DagsterEventType
        self._handlers = {
            kind.STEP_START: self._on_step_start,
            kind.ASSET_MATERIALIZATION: self._on_asset_materialization,
            kind.ASSET_OBSERVATION: self._on_asset_observation,
            kind.ASSET_CHECK_EVALUATION: self._on_asset_check_evaluation,
            kind.STEP_UP_FOR_RETRY: self._on_step_up_for_retry,
            kind.STEP_SUCCESS: self._on_step_success,
            kind.STEP_FAILURE: self._on_step_failure,
            kind.STEP_SKIPPED: self._on_step_skipped,
            kind.RUN_SUCCESS: self._on_run_end,
            kind.RUN_FAILURE: self._on_run_end,
        }

    def record(self, record: logging.LogRecord) -> None:
        event: dg.DagsterEvent | None = getattr(record, "dagster_event", None)
        if event is None:
            self._message(record)
            return
        handler = self._handlers.get(event.event_type)
        if handler is not None:
            handler(event, record.created)
        elif record.levelno >= logging.ERROR:  # a run or engine failure
            self.console.problem(
                "error",
                record.__dict__.get("dagster_meta", {}).get("orig_message", record.getMessage()),
            )

    def _message(self, record: logging.LogRecord) -> None:
        """A step's own log message (context.log): warnings and errors only."""
        if record.levelno < logging.WARNING:
            return
        meta = record.__dict__.get("dagster_meta", {})
        message = str(meta.get("orig_message", record.getMessage()))
        if message.startswith(DBT_OBSERVATION_NOTICE):
            return
        step = meta.get("step_key")
        kind = "error" if record.levelno >= logging.ERROR else "warning"
        named = not step or message.startswith(f"{step}:")  # a load's errors name it already
        self.console.problem(kind, message if named else f"{step}: {message}")

    def _step(self, step_key: str, at: float) -> _Step:
        return self.steps.setdefault(step_key, _Step(started=at))

    def _on_step_start(self, event: dg.DagsterEvent, at: float) -> None:
        # A retried step keeps its first start: its line's time includes the waits.
        self._step(event.step_key, at)
        self.console.running(f"{_label(event.step_key)} ({self.finished} steps done)")

    def _on_asset_materialization(self, event: dg.DagsterEvent, at: float) -> None:
        # One per partition of a range; the figures are the step's, the same in each.
        step = self._step(event.step_key, at)
        materialization = event.step_materialization_data.materialization
        metadata = {k: v.value for k, v in materialization.metadata.items()}
        step.materialized[materialization.asset_key] = metadata

    def _on_asset_observation(self, event: dg.DagsterEvent, at: float) -> None:
        """A dbt test that ran outside Dagster's check selection."""
        observation = event.asset_observation_data.asset_observation
        metadata = {k: v.value for k, v in observation.metadata.items()}
        unique_id = str(metadata.get("unique_id", ""))
        if unique_id.startswith("test."):
            passed = metadata.get("status") not in ("fail", "error")
            self._step(event.step_key, at).tests[unique_id] = passed

    def _on_asset_check_evaluation(self, event: dg.DagsterEvent, at: float) -> None:
        evaluation = event.asset_check_evaluation_data
        step = self._step(event.step_key, at)
        if event.step_key.startswith(DBT_STEP_PREFIX):
            step.tests[f"{evaluation.asset_key.to_user_string()}:{evaluation.check_name}"] = (
                evaluation.passed
            )
        else:
            step.checks.append(evaluation)

    def _on_step_up_for_retry(self, event: dg.DagsterEvent, at: float) -> None:
        data = event.step_retry_data
        error = _error_text(data.error)
        wait = f"again in {data.seconds_to_wait:.0f} s" if data.seconds_to_wait else "again"
        self.console.line(step_line(_label(event.step_key), RETRY, wait, reason=error))

    def _on_step_success(self, event: dg.DagsterEvent, at: float) -> None:
        self._finished(event.step_key, at, None)

    def _on_step_failure(self, event: dg.DagsterEvent, at: float) -> None:
        self._finished(event.step_key, at, _error_text(event.step_failure_data.error))

    def _on_step_skipped(self, event: dg.DagsterEvent, _at: float) -> None:
        self.finished += 1
        if _is_check(event.step_key):
            self.skipped.append(event.step_key)
        else:
            why = "a step it depends on failed or was held back by a check"
            self.console.line(step_line(_label(event.step_key), SKIPPED, reason=why))

    def _on_run_end(self, event: dg.DagsterEvent, _at: float) -> None:
        self._checks()

    def _finished(self, step_key: str, at: float, error: str | None) -> None:
        self.finished += 1
        step = self._step(step_key, at)
        seconds = at - step.started
        if step_key in SOURCES:
            self.console.line(_load(step_key, step, seconds, error).line())
        elif step_key in SERVING_STEPS:
            self.console.line(_serving(step_key, step, seconds, error))
        elif step_key.startswith(DBT_STEP_PREFIX):
            self.console.line(_dbt(step_key, step, seconds, error).line())
        else:
            for evaluation in step.checks:
                kind = check_kind(evaluation.check_name)
                self.tallies.setdefault(kind, CheckTally(kind)).add(
                    evaluation.check_name,
                    evaluation.passed,
                    evaluation.severity == dg.AssetCheckSeverity.WARN,
                    evaluation.description or _failed_expectations(evaluation),
                )
            if error and not any(not e.passed for e in step.checks):
                # The check itself broke (an exception, not a failed evaluation).
                self.console.line(step_line(f"check {step_key}", FAILED, reason=error))

    def _checks(self) -> None:
        """One line per kind of check, at the end of the run: checks run between the other
        steps, each kind spread over the run."""
        order = list(CHECK_KINDS.values())
        for kind in sorted(self.tallies, key=lambda k: (order.index(k) if k in order else 99, k)):
            self.console.line(self.tallies[kind].line())
        if self.skipped:
            why = "held back by a failed step or check"
            self.console.line(
                step_line("checks", SKIPPED, f"{len(self.skipped)} steps", reason=why)
            )


def _failed_expectations(evaluation: dg.AssetCheckEvaluation) -> str | None:
    """A GX suite's failed expectations (pipelines.orchestration.quality.checks)."""
    failed = evaluation.metadata.get("failed_expectations")
    return ", ".join(failed.value) if failed is not None and failed.value else None


def _error_text(error: Any) -> str:
    """What went wrong, from a step's serialized error: the innermost cause (Dagster wraps
    the step's own exception in its errors), as "Class: message"."""
    if error is None:
        return "failed"
    while error.cause is not None:
        error = error.cause
    return error.message.strip()


def _is_check(step_key: str) -> bool:
    return (
        step_key not in SOURCES
        and step_key not in SERVING_STEPS
        and not step_key.startswith(DBT_STEP_PREFIX)
    )


def _label(step_key: str) -> str:
    if step_key in SOURCES:
        return f"load {step_key}"
    if step_key in SERVING_STEPS:
        return SERVING_STEPS[step_key]
    if step_key.startswith(DBT_STEP_PREFIX):
        return f"dbt {step_key.removeprefix(DBT_STEP_PREFIX).replace('_', ' ')}"
    return f"check {step_key}"


def _load(source: str, step: _Step, seconds: float, error: str | None) -> LoadProgress:
    """A source step's line from its tables' metadata (pipelines.orchestration.dlt.assets)."""
    tables = step.materialized.values()
    statuses = {m.get("source_status") for m in tables}
    reasons = [m["reason"] for m in tables if m.get("reason")]
    rows = sum(
        int(m.get("rows_loaded", 0)) + sum((m.get("child_rows_loaded") or {}).values())
        for m in tables
    )
    requests = max((int(m["api_requests"]) for m in tables if "api_requests" in m), default=None)
    quarantined = sum(int(m.get("quarantined_records", 0)) for m in tables)
    if "not configured" in statuses:
        return LoadProgress(source, SKIPPED, reason=reasons[0] if reasons else "not configured")
    failed = error or ("failed" in statuses and (reasons[0] if reasons else "failed"))
    return LoadProgress(
        source,
        FAILED if failed else OK,
        rows=rows,
        requests=requests,
        quarantined=quarantined,
        seconds=seconds,
        reason=failed or None,
    )


def _serving(step_key: str, step: _Step, seconds: float, error: str | None) -> str:
    """The publication's marts and rows, or the docs' page, from the step's metadata
    (pipelines.orchestration.publication, pipelines.orchestration.dbt.docs)."""
    [metadata] = step.materialized.values() or [{}]
    if "tables" in metadata:
        details = [counted(int(metadata["tables"]), "mart"), counted(int(metadata["rows"]), "row")]
        details.append(f"-> {metadata['path']}")
    else:
        details = [f"-> {metadata['page']}"] if "page" in metadata else []
    status = FAILED if error else OK
    return step_line(SERVING_STEPS[step_key], status, *details, seconds=seconds, reason=error)


def _dbt(step_key: str, step: _Step, seconds: float, error: str | None) -> DbtProgress:
    kinds = [str(m.get("unique_id", "")).split(".")[0] for m in step.materialized.values()]
    return DbtProgress(
        step_key.removeprefix(DBT_STEP_PREFIX).replace("_", " "),
        FAILED if error else OK,
        models=sum(kind in ("model", "snapshot") for kind in kinds),
        seeds=kinds.count("seed"),
        tests=len(step.tests),
        failed=sum(not passed for passed in step.tests.values()),
        seconds=seconds,
        reason=error,
    )


def progress_logger(progress: RunProgress) -> dg.LoggerDefinition:
    """A Dagster logger definition that hands each record of the run to `progress`."""

    class Handler(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            try:
                progress.record(record)
            except Exception as exc:  # noqa: BLE001 - a console line must never fail the run
                progress.console.problem("warning", f"progress: {type(exc).__name__}: {exc}")

    def make(_context: dg.InitLoggerContext) -> logging.Logger:
        logger = logging.Logger("aow.progress", level=logging.DEBUG)
        logger.addHandler(Handler())
        return logger

    return dg.LoggerDefinition(make, description="The run's progress, a line per step.")


@contextlib.contextmanager
def quiet_stdout(console: Console) -> Iterator[None]:
    """What libraries print on stdout during the run (dagster-dbt's echo of dbt's log) is
    dropped, but for dbt's warnings, shown as the run's other warnings are."""

    class Sink(io.TextIOBase):
        def write(self, text: str) -> int:
            for line in text.splitlines():
                if line.lstrip().startswith("[WARNING]"):
                    console.problem("warning", f"dbt: {line.strip()}")
            return len(text)

    with contextlib.redirect_stdout(Sink()):
        yield


def execute_with_progress(
    job: dg.JobDefinition,
    console: Console,
    verbose: bool = False,
    loggers: dict[str, dg.LoggerDefinition] | None = None,
    **kwargs: Any,
) -> dg.ExecuteInProcessResult:
    """`job.execute_in_process(**kwargs)`, its progress on `console`; `verbose` adds
    Dagster's console logger (every event, from DEBUG) and the libraries' own output;
    `loggers` are more loggers of the run (configured empty)."""
    progress = RunProgress(console)
    config: dict[str, Any] = {name: {} for name in loggers or {}} | {"progress": {}}
    loggers = {**(loggers or {}), "progress": progress_logger(progress)}
    if verbose:
        loggers["console"] = dg.colored_console_logger
        config["console"] = {"config": {"log_level": "DEBUG"}}
    run = job.with_logger_defs(loggers)
    with contextlib.nullcontext() if verbose else quiet_stdout(console):
        return run.execute_in_process(run_config={"loggers": config}, **kwargs)
