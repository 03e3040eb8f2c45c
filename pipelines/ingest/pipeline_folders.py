"""dlt's throwaway pipeline folders (`<tmp>/aow-dlt-<pid>-*`): removed on every exit path, and
swept at the next start when a killed process could not remove its own.

A folder holds a load's extracted vendor data, dlt's normalized files and the load's stage
(pipelines.ingest.staged_loads): nothing the next load needs, since the warehouse keeps the state.
Its name carries the owner's pid, and `owner.json` inside the owner's start time (a pid can be
reused); a folder is swept only when that process is gone, never a live load's.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

PREFIX = "aow-dlt-"
OWNER_FILE = "owner.json"
_OWNED = re.compile(rf"{PREFIX}(\d+)-\w+")
# Folders of earlier versions: tempfile's eight random characters and no owner. Swept once
# untouched for a day (a live load writes into its folder all the time).
_UNOWNED = re.compile(rf"{PREFIX}[a-z0-9_]{{8}}")
UNOWNED_AGE_SECONDS = 24 * 3600


@contextmanager
def pipeline_folder() -> Iterator[Path]:
    """A new folder for one load, owned by this process; abandoned folders are swept first.
    Removed when the block ends, by an exception or a SIGTERM too (a SIGKILL leaves it to
    the next sweep)."""
    sweep_pipeline_folders()
    path = Path(tempfile.mkdtemp(prefix=f"{PREFIX}{os.getpid()}-"))
    try:
        owner = {"pid": os.getpid(), "started": _start_time(os.getpid())}
        (path / OWNER_FILE).write_text(json.dumps(owner))
        with _terminate_as_exit():
            yield path
    finally:
        shutil.rmtree(path, ignore_errors=True)


def sweep_pipeline_folders(base: Path | str | None = None) -> list[Path]:
    """Remove the pipeline folders under `base` (the temporary directory) whose owner is
    gone; returns them."""
    removed = []
    for path in sorted(Path(base or tempfile.gettempdir()).glob(f"{PREFIX}*")):
        if path.is_dir() and _abandoned(path):
            shutil.rmtree(path, ignore_errors=True)
            removed.append(path)
    return removed


def _abandoned(path: Path) -> bool:
    owned = _OWNED.fullmatch(path.name)
    if owned is None:
        if _UNOWNED.fullmatch(path.name) is None:
            return False  # not a load's folder (the Dagster definitions' specs folder)
        return time.time() - path.stat().st_mtime > UNOWNED_AGE_SECONDS
    pid = int(owned.group(1))
    if not _alive(pid):
        return True
    try:
        started = json.loads((path / OWNER_FILE).read_text()).get("started")
    except (OSError, ValueError):
        return False  # being created right now, by a live process
    # The pid is alive but is another process now: the owner died and its pid was reused.
    return started is not None and started != _start_time(pid)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # alive, another user's
    return True


def _start_time(pid: int) -> str | None:
    """The process's start time in clock ticks since boot (Linux), None elsewhere."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    # Fields after the command name, which is in parentheses and may hold spaces.
    return stat.rsplit(")", 1)[1].split()[19]


@contextmanager
def _terminate_as_exit() -> Iterator[None]:
    """SIGTERM raises SystemExit while the block runs, so `finally` clauses (the folder's
    removal) run; left alone where a handler is already set (Dagster installs its own) or
    off the main thread."""
    if (
        threading.current_thread() is not threading.main_thread()
        or signal.getsignal(signal.SIGTERM) is not signal.SIG_DFL
    ):
        yield
        return

    def _exit(signum: int, _frame: object) -> None:
        raise SystemExit(128 + signum)

    signal.signal(signal.SIGTERM, _exit)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, signal.SIG_DFL)
