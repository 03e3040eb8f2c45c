"""Keeps the tests that share a slow fixture on one pytest-xdist worker.

`make test` runs two workers with `--dist loadgroup`. Every test of a module that uses one of
SHARED_BUILDS gets an `xdist_group` named for it, so the fixture is made once (a loaded and
built organisation or the daily-schedule scenario take minutes; the `dagster dev` server half
a minute to start and stop) and the module's own fixtures are set up once. Loaded by
tests/conftest.py; tests/test_xdist_groups.py runs xdist on a small suite to show the grouping
holds with the locked pytest and xdist.
"""

from __future__ import annotations

import pytest

# A module's group is the first of these its tests use. The dashboard's browser tests
# (tests/dashboard) read a publication of `built_org`, so they share its worker and its build.
SHARED_BUILDS = (
    "scenario",
    "incremental_and_full",
    "built_org",
    "dagster_dev",
    "job_without_vendors",
    "refused_github",
    "engine_builds",
)


@pytest.hookimpl(tryfirst=True)  # before xdist's hook turns the marks into work groups
def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    groups: dict[str, str] = {}
    for item in items:
        for name in SHARED_BUILDS:
            if name in getattr(item, "fixturenames", ()):
                groups.setdefault(item.module.__name__, name)
    for item in items:
        group = groups.get(item.module.__name__)
        if group:
            item.add_marker(pytest.mark.xdist_group(group))
