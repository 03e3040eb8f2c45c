"""Files that appear whole or not at all, for readers in other processes."""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path


@contextmanager
def written_atomically(path: Path) -> Iterator[Path]:
    """A path beside `path` to write to, renamed onto `path` when the block succeeds: a
    reader sees the old file or the new one, never half of one. Removed if the block fails.
    Private to this process, so processes writing the same file at once never collide;
    whichever renames last wins."""
    tmp = path.with_name(f".{path.name}.{os.getpid()}.partial")
    try:
        yield tmp
        tmp.replace(path)
    finally:
        tmp.unlink(missing_ok=True)
