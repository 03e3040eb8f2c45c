"""A run's progress on the console (pipelines.progress, pipelines.orchestration.run_progress).

The line formats, then real Dagster runs of one source's step and its checks on the tiny
organisation: a line per step with the counts of its metadata and nothing of Dagster's debug
stream; `verbose` brings that stream back; an outage that outlasts every retry shows a retry
line, then the source's FAILED line. The whole job's progress (every source, every dbt stage,
the checks) is tested on the job runs of tests/test_job_without_some_vendors.py and
tests/test_job_with_a_failing_source.py.
"""

from __future__ import annotations

import io
import re
from dataclasses import replace
from pathlib import Path

import dagster as dg
import pytest

from org_simulator.faults import Fault
from org_simulator.server import SimulatorServer
from org_simulator.sources_env import simulator_sources_env
from pipelines.orchestration.definitions import build_definitions
from pipelines.orchestration.run_progress import execute_with_progress
from pipelines.progress import FAILED, CheckTally, Console, DbtProgress, LoadProgress, step_line
from tests.daily_job import TEST_SETTINGS

LOAD_LINE = re.compile(
    r"load (?P<source>\w+) +(?P<status>ok|FAILED|skipped) +(?:(?P<rows>[\d,]+) rows?)?"
    r"(?: +(?P<requests>[\d,]+) requests?)?"
)


def load_lines(out: str) -> dict[str, re.Match]:
    """Each source's progress line, parsed; a source with two lines fails."""
    lines = [LOAD_LINE.match(line) for line in out.splitlines() if line.startswith("load ")]
    found = {m["source"]: m for m in lines if m}
    assert len(found) == len(lines), out
    return found


def figure(match: re.Match, name: str) -> int:
    return int(match[name].replace(",", ""))


def test_lines_put_label_and_status_in_columns_then_counts_and_time():
    assert LoadProgress("github", rows=5120, requests=1, seconds=12.34).line() == (
        "load github          ok      5,120 rows  1 request  12.3 s"
    )
    failed = LoadProgress("pagerduty", FAILED, None, 6, seconds=3, reason="HTTP 503\nfrom x")
    assert failed.line() == "load pagerduty       FAILED  6 requests  3.0 s  (HTTP 503 from x)"
    dbt = DbtProgress("foundation", models=41, seeds=1, tests=80, seconds=6.12)
    assert dbt.line() == "dbt foundation       ok      41 models, 1 seed, 80 tests  6.1 s"
    assert step_line("load openai", "skipped", "not configured") == (
        "load openai          skipped  not configured"
    )


def test_a_tally_names_its_first_failure_and_counts_the_rest():
    tally = CheckTally("gx suites")
    for name, passed in (("a", True), ("b", False), ("c", True), ("d", False)):
        tally.add(name, passed, False, f"{name} broke" if not passed else None)
    tally.add("e", False, True, "stale")
    assert tally.line() == (
        "check gx suites      FAILED  2 passed, 2 failed (b: b broke and 1 more), "
        "1 warned (e: stale)"
    )


def test_a_terminal_shows_the_running_step_until_the_next_line():
    out = io.StringIO()
    console = Console(out, io.StringIO(), tty=True)
    console.running("load github")
    console.line("load github          ok")
    assert out.getvalue() == "... load github\r\033[Kload github          ok\n"
    piped = io.StringIO()
    Console(piped, io.StringIO(), tty=False).running("load github")
    assert piped.getvalue() == ""


def _pagerduty_run(
    sim: SimulatorServer, warehouse: Path, verbose: bool, monkeypatch, **settings
) -> tuple[dg.ExecuteInProcessResult, str, str]:
    """PagerDuty's step and its checks, from the daily job, through execute_with_progress;
    the result, and what the console printed on stdout and stderr."""
    for key, value in simulator_sources_env(sim).items():
        monkeypatch.setenv(key, value)
    defs = build_definitions(replace(TEST_SETTINGS, duckdb_path=warehouse, **settings))
    job = defs.resolve_job_def("daily_warehouse_job")
    keys = [
        key
        for key in defs.resolve_asset_graph().get_all_asset_keys()
        if key.path[0] == "raw_pagerduty"
    ]
    out, err = io.StringIO(), io.StringIO()
    result = execute_with_progress(
        job,
        Console(out, err, tty=False),
        verbose=verbose,
        asset_selection=keys,
        instance=dg.DagsterInstance.ephemeral(),
        raise_on_error=False,
    )
    return result, out.getvalue(), err.getvalue()


def _metadata(result: dg.ExecuteInProcessResult, name: str) -> list:
    return [
        e.materialization.metadata[name].value for e in result.get_asset_materialization_events()
    ]


def test_a_step_is_one_line_with_its_metadata_and_no_debug_stream(
    simulator: SimulatorServer, tmp_path: Path, monkeypatch, capsys
):
    result, out, err = _pagerduty_run(simulator, tmp_path / "w.duckdb", False, monkeypatch)
    assert result.success
    [line] = load_lines(out).values()
    assert line["source"] == "pagerduty" and line["status"] == "ok"
    assert figure(line, "rows") == sum(_metadata(result, "rows_loaded")) > 0
    assert {figure(line, "requests")} == set(_metadata(result, "api_requests"))
    assert figure(line, "requests") == simulator.stats()["total"]
    gx = sum(
        e.check_name.startswith("gx_") and e.passed for e in result.get_asset_check_evaluations()
    )
    assert f"check gx suites      ok      {gx} passed" in out.splitlines()
    captured = capsys.readouterr()
    for text in (out, err, captured.out, captured.err):
        assert "STEP_START" not in text and "DEBUG" not in text


def test_verbose_brings_back_dagsters_event_stream(
    simulator: SimulatorServer, tmp_path: Path, monkeypatch, capsys
):
    result, out, _err = _pagerduty_run(simulator, tmp_path / "w.duckdb", True, monkeypatch)
    assert result.success
    stream = capsys.readouterr().err  # Dagster's console logger writes to stderr
    assert " - DEBUG - daily_warehouse_job - " in stream
    assert re.search(r" - pagerduty - STEP_START - ", stream)
    assert "load pagerduty" in out  # the progress lines too


def test_a_source_that_fails_past_its_retries_is_a_failed_line_naming_it(
    simulator: SimulatorServer, tmp_path: Path, monkeypatch
):
    monkeypatch.setattr("pipelines.sources.http_session.DEFAULT_POLICY", _two_http_attempts())
    simulator.inject(Fault("server_error", vendor="pagerduty", times=-1))
    result, out, err = _pagerduty_run(
        simulator, tmp_path / "w.duckdb", False, monkeypatch, source_retry_delay=0
    )
    lines = out.splitlines()
    retries = [line for line in lines if line.startswith("load pagerduty       retry")]
    assert len(retries) == 3 and all("HTTP 503" in line for line in retries)  # max_retries
    [failed] = [line for line in lines if line.startswith("load pagerduty       FAILED")]
    assert "HTTP 503" in failed
    assert "error: pagerduty: " in err  # the step's own error: what happens next
    # The load gave up without failing its step (pipelines/orchestration/dlt/assets.py).
    assert result.is_node_success("pagerduty")


def _two_http_attempts():
    from pipelines.sources.http_session import RetryPolicy

    return RetryPolicy(max_attempts=2, backoff_base=0.01, backoff_cap=0.02)


@pytest.mark.parametrize("verbose", [False, True])
def test_the_demo_takes_verbose(verbose: bool):
    from org_simulator.cli import build_parser

    args = build_parser().parse_args(["demo", "--size", "tiny", *(["--verbose"] * verbose)])
    assert args.verbose is verbose
