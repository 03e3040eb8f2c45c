"""A load that kills itself with SIGKILL at a named phase: what `kill -9` leaves behind.

    python -m tests.load_killer PHASE NTH SOURCE WAREHOUSE

runs `pipelines.ingest.loads.run_load(SOURCE, WAREHOUSE)` (configured by the SOURCES__* variables of
its environment) and sends itself SIGKILL at the NTH time (from 1) it reaches PHASE:

- extract: an HTTP request to the vendor is about to be sent (NTH counts requests);
- normalize: dlt is about to normalize an extracted checkpoint;
- load: dlt is about to load a normalized checkpoint;
- merge: dlt has just committed the first merge of the NTH checkpoint's load step: one
  table's new versions are in, the others' not;
- swap: a checkpoint is being swapped into the warehouse and one table of it is written,
  the others not (inside the transaction);
- done: never (the load finishes).
"""

from __future__ import annotations

import os
import signal
import sys
from collections.abc import Callable
from typing import Any

from pipelines.ingest import loads, staged_loads

PHASES = ("extract", "normalize", "load", "merge", "swap", "done")


def _kill_on(nth: int, call: Callable[..., Any], after: bool = False) -> Callable[..., Any]:
    seen = 0

    def wrapper(*args: Any, **kwargs: Any) -> Any:
        nonlocal seen
        seen += 1
        mine = seen  # calls run concurrently (dlt's load jobs): count this one's number
        if not after and mine == nth:
            os.kill(os.getpid(), signal.SIGKILL)
        result = call(*args, **kwargs)
        if after and mine == nth:
            os.kill(os.getpid(), signal.SIGKILL)
        return result

    return wrapper


def _during_nth(
    nth: int,
    outer: tuple[object, str],
    inner: tuple[object, str],
    killer: Callable[[Callable[..., Any]], Callable[..., Any]],
) -> None:
    """While the NTH call of `outer` (an owner and an attribute) runs, `inner` is wrapped by
    `killer`."""
    call, original = getattr(*outer), getattr(*inner)
    seen = 0

    def counted(*args: Any, **kwargs: Any) -> Any:
        nonlocal seen
        seen += 1
        setattr(*inner, killer(original) if seen == nth else original)
        return call(*args, **kwargs)

    setattr(*outer, counted)


def install(phase: str, nth: int) -> None:
    import requests.adapters
    from dlt.destinations.job_client_impl import SqlLoadJob
    from dlt.pipeline.pipeline import Pipeline

    if phase == "extract":
        adapter = requests.adapters.HTTPAdapter
        adapter.send = _kill_on(nth, adapter.send)
    elif phase == "normalize":
        Pipeline.normalize = _kill_on(nth, Pipeline.normalize)
    elif phase == "load":
        Pipeline.load = _kill_on(nth, Pipeline.load)
    elif phase == "merge":
        # After the first merge (a SQL job: delete the old versions, insert the new) of the
        # NTH checkpoint's load step has committed.
        _during_nth(nth, (Pipeline, "load"), (SqlLoadJob, "run"), lambda f: _kill_on(1, f, True))
    elif phase == "swap":
        # At the second table of the NTH swap: the first one is written, not committed.
        _during_nth(
            nth, (loads, "swap_in"), (staged_loads, "_apply_rows"), lambda f: _kill_on(2, f)
        )
    elif phase != "done":
        raise SystemExit(f"unknown phase {phase!r}; expected one of {PHASES}")


def main(phase: str, nth: str, source: str, warehouse: str) -> None:
    install(phase, int(nth))
    loads.run_load(source, warehouse)


if __name__ == "__main__":
    main(*sys.argv[1:])
