"""Bounded concurrency for per-parent requests: a parent's children, a few parents at a time.

Most requests of a backfill are per parent (a PR's reviews, a run's jobs, an issue's remote
links), each a round trip of its own; in sequence they take most of a run. `fetch_each` makes
those requests on a small thread pool and hands the answers back in input order, so what a
resource does with them (conform, note in its state, yield) stays on the calling thread,
in the same order as without threads: the output and the request count do not depend on
the number of workers, only the wall time does.

Only the fetch runs on the pool. It must touch nothing shared but the HTTP client (whose
RetryingSession is safe to share, see pipelines.sources.http_session); anything else a
resource keeps (resource state, windows, the quarantine) belongs on the calling thread.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from concurrent.futures import FIRST_EXCEPTION, ThreadPoolExecutor, wait
from typing import TypeVar

T = TypeVar("T")
R = TypeVar("R")


def fetch_each(items: Sequence[T], fetch: Callable[[T], R], workers: int) -> list[R]:
    """`fetch` applied to each item, at most `workers` at a time; results in input order.

    With one worker (or one item) everything runs on the calling thread. When a fetch
    raises, the fetches not yet started are cancelled, those running are awaited, and the
    exception of the earliest failed item (in input order) is raised.
    """
    items = list(items)
    if workers <= 1 or len(items) <= 1:
        return [fetch(item) for item in items]
    with ThreadPoolExecutor(min(workers, len(items)), thread_name_prefix="fanout") as pool:
        futures = [pool.submit(fetch, item) for item in items]
        done, _ = wait(futures, return_when=FIRST_EXCEPTION)
        if any(f.exception() is not None for f in done):
            for future in futures:
                future.cancel()
            wait(futures)
            raise next(
                exc for f in futures if not f.cancelled() and (exc := f.exception()) is not None
            )
        return [f.result() for f in futures]
