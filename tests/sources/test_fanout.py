"""`fetch_each`: bounded, ordered, failing like the loop it replaces."""

from __future__ import annotations

import threading
import time

import pytest

from pipelines.sources.fanout import fetch_each


def test_results_come_in_input_order_whatever_order_they_finish_in():
    def fetch(n: int) -> int:
        time.sleep(0.001 * (20 - n))  # later items finish first
        return n * n

    assert fetch_each(list(range(20)), fetch, 4) == [n * n for n in range(20)]
    assert fetch_each([], fetch, 4) == []


def test_at_most_workers_run_at_once():
    lock, running, peak = threading.Lock(), [0], [0]

    def fetch(n: int) -> int:
        with lock:
            running[0] += 1
            peak[0] = max(peak[0], running[0])
        time.sleep(0.01)
        with lock:
            running[0] -= 1
        return n

    assert fetch_each(list(range(30)), fetch, 3) == list(range(30))
    assert 1 < peak[0] <= 3


def test_one_worker_runs_on_the_calling_thread():
    caller = threading.get_ident()
    assert fetch_each([1, 2, 3], lambda _: threading.get_ident(), 1) == [caller] * 3


def test_a_failure_cancels_what_has_not_started():
    started: list[int] = []

    def fetch(n: int) -> int:
        started.append(n)
        if n == 0:
            raise ValueError("boom")
        time.sleep(0.01)
        return n

    with pytest.raises(ValueError, match="boom"):
        fetch_each(list(range(100)), fetch, 2)
    assert len(started) < 10


def test_the_earliest_failed_item_is_raised_once_the_running_ones_end():
    finished: list[int] = []

    def fetch(n: int) -> int:
        if n == 0:
            time.sleep(0.05)  # still running when 1 fails: awaited, not abandoned
            finished.append(n)
        raise ValueError(f"boom {n}")

    with pytest.raises(ValueError, match="boom 0"):
        fetch_each([0, 1], fetch, 2)
    assert finished == [0]
