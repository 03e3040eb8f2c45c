"""Files that appear whole or not at all, for readers in other processes."""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path


@contextmanager
def written_atomically(path: Path, durable: bool = False) -> Iterator[Path]:
    """A path beside `path` to write to, renamed onto `path` when the block succeeds: a
    reader sees the old file or the new one, never half of one. Removed if the block fails
    (with the write-ahead log a DuckDB file left beside it). Private to this process, so
    processes writing the same file at once never collide; whichever renames last wins.
    `durable`: the new file, then the rename, are on disk before the block returns, so a crash
    leaves the old file or the whole new one."""
    tmp = path.with_name(f".{path.name}.{os.getpid()}.partial")
    try:
        yield tmp
        if durable:
            _fsync(tmp)
        tmp.replace(path)
        if durable:
            _fsync(path.parent)
    finally:
        tmp.unlink(missing_ok=True)
        tmp.with_name(tmp.name + ".wal").unlink(missing_ok=True)


def _fsync(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
