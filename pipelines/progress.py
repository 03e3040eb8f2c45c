"""Progress on the console: one line per source load, dbt stage and kind of check as it
finishes, with its counts and duration, e.g.

    load github          ok      5,120 rows  13,024 requests  12.3 s
    dbt foundation       ok      30 models, 7 seeds, 61 tests  6.1 s
    check gx suites      ok      31 passed
    load pagerduty       FAILED  0 rows  1 request  0.4 s  (HTTP 401 from ...)

The demo's Dagster run (pipelines.orchestration.run_progress, which reads the run's events)
and the command line (pipelines.cli) both print through this module. On a terminal the step
that is running shows on a line of its own that the next line replaces; elsewhere (a pipe, a
log file, CI) only the finished lines are written.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass, field
from typing import TextIO

LABEL_WIDTH = 20
STATUS_WIDTH = 6
# A reason is the first words of an error: the whole of it is in the run's log.
REASON_CHARS = 200
OK, FAILED, SKIPPED, RETRY, WARN = "ok", "FAILED", "skipped", "retry", "warn"


def counted(n: int, noun: str, plural: str | None = None) -> str:
    """`n` and the noun, singular or plural: "1 request", "5,120 rows"."""
    return f"{n:,} {noun if n == 1 else plural or noun + 's'}"


def one_line(text: str | None, limit: int = REASON_CHARS) -> str:
    """A message on one line, cut at `limit` characters."""
    flat = " ".join((text or "").split())
    return flat if len(flat) <= limit else flat[: limit - 3] + "..."


def step_line(
    label: str,
    status: str,
    *details: str,
    seconds: float | None = None,
    reason: str | None = None,
) -> str:
    """`label` and `status` in columns, then the details, the duration and, last, the
    reason (in brackets, on one line)."""
    parts = [f"{label:<{LABEL_WIDTH}} {status:<{STATUS_WIDTH}}", *(d for d in details if d)]
    if seconds is not None:
        parts.append(f"{seconds:.1f} s")
    if reason:
        parts.append(f"({one_line(reason)})")
    return "  ".join(parts).rstrip()


@dataclass
class LoadProgress:
    """One source's load: rows written (child tables and the quarantine included), the
    requests sent (retries included), records quarantined."""

    source: str
    status: str = OK
    rows: int | None = 0  # None: not known (a load that failed part-way)
    requests: int | None = None
    quarantined: int = 0
    seconds: float | None = None
    reason: str | None = None

    def line(self) -> str:
        if self.status == SKIPPED:
            return step_line(f"load {self.source}", SKIPPED, one_line(self.reason))
        details = [counted(self.rows, "row")] if self.rows is not None else []
        if self.requests is not None:
            details.append(counted(self.requests, "request"))
        if self.quarantined:
            details.append(f"{self.quarantined:,} quarantined")
        label = f"load {self.source}"
        return step_line(label, self.status, *details, seconds=self.seconds, reason=self.reason)


@dataclass
class DbtProgress:
    """One `dbt build`: the nodes it ran by kind, and how many of them failed (a model's
    error or a test's failure) or were skipped (downstream of a failure)."""

    stage: str
    status: str = OK
    models: int = 0
    seeds: int = 0
    tests: int = 0
    failed: int = 0
    skipped: int = 0
    seconds: float | None = None
    reason: str | None = None

    def line(self) -> str:
        built = [counted(self.models, "model")]
        if self.seeds:
            built.append(counted(self.seeds, "seed"))
        built.append(counted(self.tests, "test"))
        if self.failed:
            built.append(f"{self.failed:,} failed")
        if self.skipped:
            built.append(f"{self.skipped:,} skipped")
        label = f"dbt {self.stage}"
        return step_line(
            label, self.status, ", ".join(built), seconds=self.seconds, reason=self.reason
        )


@dataclass
class CheckTally:
    """The checks of one kind (the GX suites, the quarantine checks...) over a run: how many
    passed, and the ones that failed (an error) or warned, each with what it said."""

    kind: str
    passed: int = 0
    failed: list[tuple[str, str]] = field(default_factory=list)  # (check, description)
    warned: list[tuple[str, str]] = field(default_factory=list)
    seconds: float | None = None  # when the checks ran together (the command line's)

    def add(self, check: str, passed: bool, warning: bool, description: str | None) -> None:
        if passed:
            self.passed += 1
        else:
            (self.warned if warning else self.failed).append((check, one_line(description)))

    def line(self) -> str:
        status = FAILED if self.failed else WARN if self.warned else OK
        details = [f"{self.passed:,} passed"]
        for noun, checks in (("failed", self.failed), ("warned", self.warned)):
            if checks:
                check, description = checks[0]
                first = f"{check}: {description}" if description else check
                more = f" and {len(checks) - 1} more" if len(checks) > 1 else ""
                details.append(f"{len(checks):,} {noun} ({first}{more})")
        return step_line(f"check {self.kind}", status, ", ".join(details), seconds=self.seconds)


def run_line(job: str, success: bool, seconds: float, requests: int) -> str:
    """The run's last line."""
    status = "succeeded" if success else "FAILED"
    return f"Dagster job {job} {status} in {seconds:.1f}s ({requests} API requests)"


class Console:
    """Where progress goes: finished lines to `stream` (stdout), warnings and errors to
    `errors` (stderr). On a terminal, `running` shows the current step on a line that the
    next write replaces; `tty=None` asks the stream."""

    def __init__(
        self, stream: TextIO | None = None, errors: TextIO | None = None, tty: bool | None = None
    ):
        # Bound now: a run may redirect sys.stdout while it prints (pipelines.orchestration.
        # run_progress quiets the libraries' own output that way).
        self.stream = stream or sys.stdout
        self.errors = errors or sys.stderr
        self.tty = self.stream.isatty() if tty is None else tty
        self._transient = False

    def line(self, text: str) -> None:
        self._clear()
        self.stream.write(text + "\n")
        self.stream.flush()

    def running(self, text: str) -> None:
        if not self.tty:
            return
        self._clear()
        self.stream.write(f"... {text}")
        self.stream.flush()
        self._transient = True

    def problem(self, kind: str, text: str) -> None:
        """A warning or an error: "warning: ..." on stderr, continuation lines indented."""
        self._clear()
        first, *rest = text.strip().splitlines() or [""]
        self.errors.write(f"{kind}: {first}\n" + "".join(f"    {r}\n" for r in rest if r.strip()))
        self.errors.flush()

    def _clear(self) -> None:
        if self._transient:
            self.stream.write("\r\033[K")
            self._transient = False
