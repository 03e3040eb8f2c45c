"""`make test`'s two xdist workers keep each slow shared build on one worker.

Runs pytest-xdist, as `make test` does, on a small suite: a module whose tests use a fixture
named like one of the shared builds, and a module that uses none. pytest 9.2's node ids
silently undo xdist's groups (pytest-xdist#1386); this test fails if a lock update brings that
back.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SHARED = """
import pytest

@pytest.fixture(scope="module")
def scenario():
    return "built"

@pytest.mark.parametrize("i", range(6))
def test_shared(scenario, i):
    pass
"""
OTHER = """
import pytest

@pytest.mark.parametrize("i", range(6))
def test_other(i):
    pass
"""
PASSED = re.compile(r"\[(gw\d+)\] .*PASSED (\S+)")


def test_a_module_using_a_shared_build_runs_on_one_worker(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PYTHONPATH", str(ROOT))
    pytester.makepyfile(test_uses_build=SHARED, test_plain=OTHER)
    result = pytester.runpytest_subprocess(
        "-n", "2", "--dist", "loadgroup", "-p", "tests.xdist_groups", "-v", "-p", "no:cacheprovider"
    )
    result.assert_outcomes(passed=12)
    ran = [PASSED.search(line) for line in result.outlines]
    workers = {m[2]: m[1] for m in ran if m}
    shared = {node: w for node, w in workers.items() if node.startswith("test_uses_build.py")}
    assert len(shared) == 6
    assert all(node.endswith("@scenario") for node in shared)
    assert len(set(shared.values())) == 1
    assert not any("@" in node for node in workers if node.startswith("test_plain.py"))
