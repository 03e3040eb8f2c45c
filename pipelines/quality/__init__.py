"""Data quality: Great Expectations suites from expectations/*.json run against the warehouse,
and their results history (quality.gx_results)."""

from __future__ import annotations

from pathlib import Path

from pipelines.quality.gx_suites import (
    EXPECTATIONS_DIR,
    FailedExpectation,
    Suite,
    SuiteResult,
    load_suite,
    load_suites,
    run_suite,
    suite_paths,
)
from pipelines.quality.history import record_results, write_results
from pipelines.warehouse.engines import Warehouse, connect

__all__ = [
    "EXPECTATIONS_DIR",
    "FailedExpectation",
    "Suite",
    "SuiteResult",
    "load_suite",
    "load_suites",
    "record_results",
    "run_checks",
    "run_suite",
    "suite_paths",
    "write_results",
]


def run_checks(
    warehouse: Warehouse,
    suites: list[str] | None = None,
    expectations_dir: Path | str = EXPECTATIONS_DIR,
) -> dict[str, SuiteResult]:
    """Run the named suites (default: every suite file) against the warehouse (a DuckDB file
    or a server, pipelines.warehouse.engines), read-only."""
    loaded = load_suites(expectations_dir)
    if suites is not None:
        unknown = set(suites) - {s.name for s in loaded}
        if unknown:
            raise ValueError(f"unknown suites {sorted(unknown)}; known: {[s.name for s in loaded]}")
        loaded = [s for s in loaded if s.name in suites]
    results = {}
    with connect(warehouse) as con:
        for suite in loaded:
            results[suite.name] = run_suite(con, suite)
    return results
