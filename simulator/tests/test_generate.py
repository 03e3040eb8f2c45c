"""The generator is deterministic, and its ground truth is consistent with its own records."""

from __future__ import annotations

import hashlib
from pathlib import Path

import duckdb
import pytest
import requests

from org_simulator.credentials import auth_headers
from org_simulator.generate import generate_org
from org_simulator.schema import ALL_TABLES
from org_simulator.server import SimulatorServer
from org_simulator.testing import TINY_SEED


def table_digest(path: Path) -> dict[str, str]:
    """A digest of every table's full, ordered contents."""
    con = duckdb.connect(str(path), read_only=True)
    try:
        out = {}
        for table in ALL_TABLES:
            rows = con.execute(f"select * from {table} order by all").fetchall()
            out[table] = hashlib.sha256(repr(rows).encode()).hexdigest()
        return out
    finally:
        con.close()


@pytest.fixture(scope="module")
def tiny_again(tmp_path_factory) -> Path:
    return generate_org("tiny", TINY_SEED, tmp_path_factory.mktemp("again") / "tiny.duckdb")


def test_same_seed_same_rows(tiny_store: Path, tiny_again: Path) -> None:
    assert table_digest(tiny_store) == table_digest(tiny_again)


def test_other_seed_other_rows(tiny_store: Path, tmp_path: Path) -> None:
    other = generate_org("tiny", TINY_SEED + 1, tmp_path / "other.duckdb")
    differs = [t for t, d in table_digest(other).items() if d != table_digest(tiny_store)[t]]
    assert "gh_pull_requests" in differs and "anthropic_messages_usage" in differs


ENDPOINTS = [
    ("github", "/repos/acme/payments-api/pulls?state=all&per_page=50&page=2", "github"),
    ("github", "/repos/acme/payments-api/deployments?per_page=100", "github"),
    (
        "anthropic",
        "/v1/organizations/usage_report/messages?starting_at=2026-09-01T00:00:00Z"
        "&group_by[]=api_key_id&group_by[]=model",
        "anthropic",
    ),
    (
        "openai",
        "/v1/organization/usage/completions?start_time=1756684800&group_by=user_id",
        "openai",
    ),
    ("jira", "/rest/api/3/search/jql?jql=project%20%3D%20PAY&fields=*all&expand=changelog", "jira"),
    ("pagerduty", "/incidents?date_range=all&limit=100", "pagerduty"),
]


def test_same_seed_byte_identical_responses(tiny_store: Path, tiny_again: Path) -> None:
    with SimulatorServer(tiny_store) as a, SimulatorServer(tiny_again) as b:
        for vendor, path, _ in ENDPOINTS:
            ra = requests.get(a.base_url(vendor) + path, headers=auth_headers(vendor), timeout=30)
            rb = requests.get(b.base_url(vendor) + path, headers=auth_headers(vendor), timeout=30)
            assert ra.status_code == 200, (vendor, ra.text[:300])
            # Bodies may carry absolute URLs of their own server: compare with the port out.
            norm_a = ra.content.replace(a.url.encode(), b"BASE")
            norm_b = rb.content.replace(b.url.encode(), b"BASE")
            assert norm_a == norm_b, vendor
            assert len(ra.content) > 100
