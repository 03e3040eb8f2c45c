"""A reader of the publication in a process of its own, as a BI tool or a notebook is.

    python -m tests.publication_reader PUBLICATION LOG

Opens one read-only DuckDB connection on PUBLICATION and keeps it until its standard input
closes, asking every POLL seconds which run published what it reads and how many pull
requests it holds; each answer (or error) is one JSON line appended to LOG. DuckDB's file
lock is per process, so only a reader in another process shows whether the pipeline can
publish while a reader holds the file open.
"""

from __future__ import annotations

import json
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from subprocess import PIPE, Popen

import duckdb

POLL = 0.2


@dataclass(frozen=True)
class Answer:
    at: float  # time.time() of the answer
    run_id: str | None
    pull_requests: int | None
    error: str | None


def read(path: str, log: str) -> None:
    closed = threading.Event()
    threading.Thread(target=lambda: (sys.stdin.read(), closed.set()), daemon=True).start()
    con = duckdb.connect(path, read_only=True)
    with open(log, "a", encoding="utf-8") as out:
        while not closed.is_set():
            try:
                (run_id,) = con.execute("select run_id from publication.about").fetchone()
                (prs,) = con.execute("select count(*) from marts.fct_pull_requests").fetchone()
                line = {"at": time.time(), "run_id": run_id, "pull_requests": prs, "error": None}
            except duckdb.Error as exc:
                line = {"at": time.time(), "run_id": None, "pull_requests": None, "error": str(exc)}
            out.write(json.dumps(line) + "\n")
            out.flush()
            closed.wait(POLL)
    con.close()


@contextmanager
def reader(publication: Path, log: Path) -> Iterator[Popen]:
    """The reader running on `publication` for the block, its first answer already logged."""
    process = Popen(
        [sys.executable, "-m", "tests.publication_reader", str(publication), str(log)],
        stdin=PIPE,
        cwd=Path(__file__).parent.parent,
    )
    try:
        deadline = time.time() + 30
        while not answers(log):
            assert process.poll() is None and time.time() < deadline, "the reader did not start"
            time.sleep(0.05)
        yield process
    finally:
        process.stdin.close()
        process.wait(timeout=30)


def answers(log: Path) -> list[Answer]:
    if not log.exists():
        return []
    lines = log.read_text(encoding="utf-8").splitlines()
    return [Answer(**json.loads(line)) for line in lines if line.endswith("}")]


if __name__ == "__main__":
    read(sys.argv[1], sys.argv[2])
