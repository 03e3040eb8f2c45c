"""Environment variables set for the length of a block, then restored: for the settings read
from the environment by a library, not by this project (dlt's SOURCES__*, dagster-dbt's
DBT_INDIRECT_SELECTION). The project's own are read once, by pipelines.settings."""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager


@contextmanager
def temporary_env(values: dict[str, str]) -> Iterator[None]:
    previous = {k: os.environ.get(k) for k in values}
    os.environ.update(values)
    try:
        yield
    finally:
        for key, old in previous.items():
            if old is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = old
