"""Fixtures for the quality suites: a writable copy of the built warehouse per test."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest


@pytest.fixture
def warehouse_copy(built_org, tmp_path: Path) -> Path:
    """A copy of the built warehouse (file and write-ahead log) for this test to corrupt."""
    src, dst = built_org.warehouse, tmp_path / "warehouse.duckdb"
    shutil.copy(src, dst)
    wal = src.with_name(src.name + ".wal")
    if wal.exists():
        shutil.copy(wal, dst.with_name(dst.name + ".wal"))
    return dst
