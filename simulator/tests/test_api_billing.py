"""The simulated Anthropic and OpenAI billing APIs: shapes, paging, grouping, prices, clock.

Most tests run on a small handcrafted store whose every number is known, so a cost can be
checked to the cent against an independent computation; the last ones check the generated
`tiny` organisation (sums over all pages equal the store, costs equal the ground truth).
"""

from __future__ import annotations

import json
import random
from collections import defaultdict
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import duckdb
import pytest
import requests

from org_simulator.credentials import SIM_CREDENTIALS
from org_simulator.http import decode_token
from org_simulator.schema import ORG_TABLES
from org_simulator.server import SimulatorServer
from org_simulator.vendors.anthropic import model_display_name
from org_simulator.vendors.billing_common import PriceBook, decimal_text, split_day

AS_OF = datetime(2026, 9, 1)
TODAY = AS_OF.date()
AUGUST = [date(2026, 8, 1) + timedelta(days=i) for i in range(31)]
EMPTY_DAYS = {date(2026, 8, 9), date(2026, 8, 10), date(2026, 8, 23)}
PRICE_CHANGE = date(2026, 8, 20)  # haiku input price rises on this day

ANTHROPIC_HEADERS = {"x-api-key": SIM_CREDENTIALS["anthropic"], "anthropic-version": "2023-06-01"}
OPENAI_HEADERS = {"Authorization": f"Bearer {SIM_CREDENTIALS['openai']}"}

ANTHROPIC_PRICES = {
    "claude-sonnet-4-5-20250929": {
        "uncached_input": "3",
        "cache_write_5m": "3.75",
        "cache_write_1h": "6",
        "cache_read": "0.30",
        "output": "15",
    },
    "claude-haiku-4-5-20251001": {
        "uncached_input": "1",
        "cache_write_5m": "1.25",
        "cache_write_1h": "2",
        "cache_read": "0.10",
        "output": "5",
    },
}
OPENAI_PRICES = {
    "gpt-5-2025-08-07": {"input": "1.25", "cached_input": "0.125", "output": "10"},
    "gpt-5-mini-2025-08-07": {"input": "0.25", "cached_input": "0.025", "output": "2"},
}
ANTHROPIC_TOKEN_COLUMNS = {
    "uncached_input": "uncached_input_tokens",
    "cache_write_5m": "cache_creation_5m_input_tokens",
    "cache_write_1h": "cache_creation_1h_input_tokens",
    "cache_read": "cache_read_input_tokens",
    "output": "output_tokens",
}


# --- a handcrafted store -----------------------------------------------------------------


def _insert(con: duckdb.DuckDBPyConnection, table: str, rows: list[tuple]) -> None:
    """All rows in one statement (row by row is slow in DuckDB)."""
    one = "(" + ", ".join("?" for _ in rows[0]) + ")"
    values = ", ".join(one for _ in rows)
    con.execute(f"insert into {table} values {values}", [v for row in rows for v in row])


def _claude_code(day: date, actor, terminal: str, metrics: tuple, breakdown="[]") -> tuple:
    """A Claude Code record; `actor` is an email, or ("api", key name)."""
    email, key_name = (None, actor[1]) if isinstance(actor, tuple) else (actor, None)
    kind = "api_actor" if key_name else "user_actor"
    return (day, kind, email, key_name, terminal, *metrics, breakdown)


def _build_store(path: Path) -> None:
    rng = random.Random(11)
    con = duckdb.connect(str(path))
    for name, columns in ORG_TABLES.items():  # the tables the billing APIs read
        if name == "org_meta" or name.startswith(("llm_", "anthropic_", "openai_")):
            con.execute(f"create table {name} ({columns})")
    con.execute("insert into org_meta values ('as_of', ?)", [AS_OF.isoformat()])
    for provider, table in (("anthropic", ANTHROPIC_PRICES), ("openai", OPENAI_PRICES)):
        for model, kinds in table.items():
            for kind, usd in kinds.items():
                if model.startswith("claude-haiku") and kind == "uncached_input":
                    # exclusive valid_to: the boundary day takes the newer price
                    con.execute(
                        "insert into llm_model_prices values (?, ?, ?, ?, ?, ?)",
                        [provider, model, kind, usd, date(2025, 1, 1), PRICE_CHANGE],
                    )
                    usd, valid_from = "1.3333", PRICE_CHANGE
                else:
                    valid_from = date(2025, 1, 1)
                con.execute(
                    "insert into llm_model_prices values (?, ?, ?, ?, ?, null)",
                    [provider, model, kind, usd, valid_from],
                )
    con.execute(
        "insert into anthropic_workspaces values ('wrkspc_pay', 'payments', 't1'), "
        "('wrkspc_srch', 'search', 't2')"
    )
    keys = [
        ("apikey_a1", "ada-laptop", "wrkspc_pay", "p1", datetime(2025, 3, 1)),
        ("apikey_b2", "bruno-ci", "wrkspc_pay", "p2", datetime(2025, 4, 1)),
        ("apikey_c3", "chen", "wrkspc_srch", "p3", datetime(2025, 5, 1)),
        ("apikey_d4", "default-key", None, "p1", datetime(2025, 6, 1)),
        ("apikey_z9", "future-key", "wrkspc_srch", "p3", datetime(2026, 12, 1)),
    ]
    con.executemany("insert into anthropic_api_keys values (?, ?, ?, ?, ?)", keys)
    tiers = ["standard", "batch"]
    usage = []
    for day in AUGUST + [TODAY]:  # 1 September is "today": not visible yet
        for key, _, workspace, _, _ in keys[:4]:
            for model in ANTHROPIC_PRICES:
                if day in EMPTY_DAYS or rng.random() < 0.3:
                    continue
                tier, window = rng.choice(tiers), rng.choice(["0-200k", "0-200k", "200k-1M"])
                tokens = [rng.randint(0, n) for n in (90_000, 40_000, 9_000, 700_000)]
                tokens += [rng.randint(1, 30_000), rng.randint(0, 3)]
                usage.append((day, key, workspace, model, tier, window, *tokens))
    _insert(con, "anthropic_messages_usage", usage)
    breakdown = json.dumps([{
        "model": "claude-sonnet-4-5-20250929",
        "tokens": {"input": 10, "output": 5, "cache_read": 100, "cache_creation": 7},
        "estimated_cost": {"currency": "USD", "amount": 12},
    }])  # fmt: skip
    aug15, ada = date(2026, 8, 15), "ada@acme.example"
    cc = [  # metrics: sessions, lines +/-, commits, PRs, edits +/-, writes +/-
        _claude_code(aug15, ada, "vscode", (3, 120, 30, 2, 1, 10, 2, 4, 0), breakdown),
        _claude_code(aug15, "bruno@acme.example", "iTerm.app", (1, 5, 0, 0, 0, 1, 0, 0, 0), None),
        _claude_code(aug15, ("api", "bruno-ci"), "headless", (7, 400, 80, 5, 2, 20, 5, 3, 1)),
        _claude_code(date(2026, 8, 16), ada, "vscode", (1, 1, 1, 0, 0, 1, 0, 0, 0)),
        _claude_code(TODAY, ada, "vscode", (1, 1, 1, 0, 0, 1, 0, 0, 0)),
    ]  # fmt: skip
    con.executemany(
        "insert into anthropic_claude_code_usage values "
        "(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        cc,
    )
    con.execute(
        "insert into openai_projects values ('proj_a', 'payments', 't1'), "
        "('proj_b', 'search', 't2'), ('proj_c', 'empty', 't3')"
    )
    con.execute(
        "insert into openai_users values ('user-1', 'ada@acme.example', 'Ada'), "
        "('user-2', 'bruno@acme.example', 'Bruno'), ('user-3', 'chen@acme.example', 'Chen')"
    )
    okeys = [
        ("key_1", "ada", "proj_a", "user-1"),
        ("key_2", "bruno", "proj_a", "user-2"),
        ("key_3", "search-svc", "proj_b", None),
    ]
    con.executemany("insert into openai_api_keys values (?, ?, ?, ?)", okeys)
    usage = []
    for day in AUGUST + [TODAY]:
        for key, _, project, user in okeys:
            for model in OPENAI_PRICES:
                if day in EMPTY_DAYS or rng.random() < 0.3:
                    continue
                total = rng.randint(1_000, 500_000)
                counts = (total, rng.randint(0, total), rng.randint(1, 50_000), rng.randint(1, 300))
                usage.append(
                    (day, project, user, key, model, rng.random() < 0.2, "default", *counts)
                )
    _insert(con, "openai_completions_usage", usage)
    con.close()


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("billing") / "billing.duckdb"
    _build_store(path)
    return path


@pytest.fixture(scope="module")
def _server(store: Path) -> Iterator[SimulatorServer]:
    with SimulatorServer(store) as server:  # one server: stopping one takes half a second
        yield server


@pytest.fixture
def sim(_server: SimulatorServer) -> Iterator[SimulatorServer]:
    _server.set_now(AS_OF)
    yield _server
    _server.set_now(AS_OF)


@pytest.fixture(scope="module")
def con(store: Path) -> Iterator[duckdb.DuckDBPyConnection]:
    connection = duckdb.connect(str(store), read_only=True)
    yield connection
    connection.close()


class Client:
    def __init__(self, server: SimulatorServer, vendor: str, headers: dict[str, str]):
        self.base = server.base_url(vendor)
        self.session = requests.Session()
        self.session.headers.update(headers)

    def get(self, path: str, params: Any = None, status: int = 200, **kw: Any) -> Any:
        resp = self.session.get(self.base + path, params=params, timeout=10, **kw)
        assert resp.status_code == status, resp.text
        return resp.json()

    def walk(self, path: str, params: list[tuple[str, Any]]) -> list[dict[str, Any]]:
        """Every page of a bucketed report, following next_page until has_more is false."""
        pages, page = [], None
        for _ in range(200):
            body = self.get(path, params + ([("page", page)] if page else []))
            pages.append(body)
            if not body["has_more"]:
                assert body["next_page"] is None
                return pages
            page = body["next_page"]
        raise AssertionError("paging never ended")


@pytest.fixture
def anthropic(sim: SimulatorServer) -> Client:
    return Client(sim, "anthropic", ANTHROPIC_HEADERS)


@pytest.fixture
def openai(sim: SimulatorServer) -> Client:
    return Client(sim, "openai", OPENAI_HEADERS)


def _sql(con: duckdb.DuckDBPyConnection, sql: str, params: list | None = None) -> list[tuple]:
    return con.execute(sql, params or []).fetchall()


def _unix(d: date) -> int:
    return int((datetime.combine(d, datetime.min.time()) - datetime(1970, 1, 1)).total_seconds())


AUG_RANGE = [("starting_at", "2026-08-01T00:00:00Z"), ("ending_at", "2026-09-01T00:00:00Z")]
MESSAGES = "/v1/organizations/usage_report/messages"
COSTS = "/v1/organizations/cost_report"
CLAUDE_CODE = "/v1/organizations/usage_report/claude_code"
COMPLETIONS = "/v1/organization/usage/completions"
OPENAI_COSTS = "/v1/organization/costs"


# --- authentication and errors -----------------------------------------------------------


def test_anthropic_auth_errors_in_vendor_shape(sim: SimulatorServer) -> None:
    url = sim.base_url("anthropic") + MESSAGES
    params = {"starting_at": "2026-08-01T00:00:00Z"}
    for headers in ({"anthropic-version": "2023-06-01"}, {**ANTHROPIC_HEADERS, "x-api-key": "x"}):
        resp = requests.get(url, params=params, headers=headers, timeout=10)
        assert resp.status_code == 401
        assert resp.json()["type"] == "error"
        assert resp.json()["error"]["type"] == "authentication_error"
    resp = requests.get(
        url, params=params, headers={"x-api-key": SIM_CREDENTIALS["anthropic"]}, timeout=10
    )
    assert resp.status_code == 400
    assert resp.json()["error"]["type"] == "invalid_request_error"
    assert "anthropic-version" in resp.json()["error"]["message"]


def test_openai_auth_errors_in_vendor_shape(sim: SimulatorServer) -> None:
    url = sim.base_url("openai") + COMPLETIONS
    for headers in ({}, {"Authorization": "Bearer nope"}, {"Authorization": "sim-openai"}):
        resp = requests.get(url, params={"start_time": 0}, headers=headers, timeout=10)
        assert resp.status_code == 401
        error = resp.json()["error"]
        assert set(error) == {"message", "type", "param", "code"}
        assert error["code"] == "invalid_api_key"


@pytest.mark.parametrize(
    ("path", "params"),
    [
        (MESSAGES, {}),  # starting_at is required
        (MESSAGES, {"starting_at": "yesterday"}),
        (MESSAGES, {"starting_at": "2026-08-01", "group_by[]": "colour"}),
        (MESSAGES, {"starting_at": "2026-08-01", "limit": "32"}),
        (MESSAGES, {"starting_at": "2026-08-01", "bucket_width": "1w"}),
        (MESSAGES, {"starting_at": "2026-08-01", "page": "!!not-a-token"}),
        (MESSAGES, {"starting_at": "2026-08-02", "ending_at": "2026-08-01"}),
        (COSTS, {"starting_at": "2026-08-01", "bucket_width": "1h"}),
        (COSTS, {"starting_at": "2026-08-01", "group_by[]": "model"}),
        (CLAUDE_CODE, {}),
        (CLAUDE_CODE, {"starting_at": "2026-08-15", "limit": "1001"}),
    ],
)
def test_anthropic_bad_requests(anthropic: Client, path: str, params: dict[str, str]) -> None:
    body = anthropic.get(path, params, status=400)
    assert body["error"]["type"] == "invalid_request_error"


@pytest.mark.parametrize(
    ("path", "params"),
    [
        (COMPLETIONS, {}),
        (COMPLETIONS, {"start_time": "soon"}),
        (COMPLETIONS, {"start_time": "0", "group_by": "colour"}),
        (COMPLETIONS, {"start_time": "0", "limit": "32"}),
        (OPENAI_COSTS, {"start_time": "0", "limit": "181"}),
        (OPENAI_COSTS, {"start_time": "0", "bucket_width": "1h"}),
        (OPENAI_COSTS, {"start_time": "0", "group_by": "model"}),
    ],
)
def test_openai_bad_requests(openai: Client, path: str, params: dict[str, str]) -> None:
    body = openai.get(path, params, status=400)
    assert body["error"]["type"] == "invalid_request_error"


def test_unknown_route_is_a_vendor_404(anthropic: Client, openai: Client) -> None:
    assert anthropic.get("/v1/organizations/nope", status=404)["error"]["type"] == (
        "not_found_error"
    )
    assert openai.get("/v1/organization/projects/proj_x/api_keys", status=404)["error"]


# --- Anthropic messages usage ------------------------------------------------------------


def _tokens(result: dict[str, Any]) -> dict[str, int]:
    return {
        "uncached_input_tokens": result["uncached_input_tokens"],
        "cache_creation_5m_input_tokens": result["cache_creation"]["ephemeral_5m_input_tokens"],
        "cache_creation_1h_input_tokens": result["cache_creation"]["ephemeral_1h_input_tokens"],
        "cache_read_input_tokens": result["cache_read_input_tokens"],
        "output_tokens": result["output_tokens"],
        "web_search_requests": result["server_tool_use"]["web_search_requests"],
    }


def _store_totals(
    con, table: str, columns: list[str], where: str = "", before: date = TODAY
) -> dict:
    sums = ", ".join(f"sum({c})" for c in columns)
    sql = f"select {sums} from {table} where bucket_date < '{before}' {where}"
    row = _sql(con, sql)[0]
    return {c: int(v or 0) for c, v in zip(columns, row, strict=True)}


def test_messages_pages_cover_every_day_and_every_token(anthropic: Client, con) -> None:
    pages = anthropic.walk(MESSAGES, AUG_RANGE)
    assert [len(p["data"]) for p in pages] == [7, 7, 7, 7, 3]  # limit defaults to 7 buckets
    buckets = [b for p in pages for b in p["data"]]
    assert [b["starting_at"] for b in buckets] == [f"{d}T00:00:00Z" for d in AUGUST]
    assert all(
        b["ending_at"] == f"{d + timedelta(days=1)}T00:00:00Z"
        for b, d in zip(buckets, AUGUST, strict=True)
    )
    for bucket, day in zip(buckets, AUGUST, strict=True):
        assert (bucket["results"] == []) == (day in EMPTY_DAYS)
        assert len(bucket["results"]) <= 1  # nothing grouped: one total per bucket
    totals: dict[str, int] = defaultdict(int)
    for bucket in buckets:
        for result in bucket["results"]:
            assert {result[k] for k in ("model", "api_key_id", "workspace_id")} == {None}
            for key, value in _tokens(result).items():
                totals[key] += value
    columns = list(_tokens(buckets[0]["results"][0]))
    assert dict(totals) == _store_totals(con, "anthropic_messages_usage", columns)


def test_messages_group_by_and_filters(anthropic: Client, con) -> None:
    params = AUG_RANGE + [("limit", "31"), ("group_by[]", "model"), ("group_by[]", "api_key_id")]
    body = anthropic.get(MESSAGES, params)
    assert not body["has_more"] and body["next_page"] is None
    got: dict[tuple, int] = defaultdict(int)
    for bucket in body["data"]:
        keys = [(r["api_key_id"], r["model"]) for r in bucket["results"]]
        assert len(keys) == len(set(keys)) and keys == sorted(keys)  # a stable order
        for r in bucket["results"]:
            assert r["workspace_id"] is None and r["service_tier"] is None
            got[(bucket["starting_at"][:10], r["model"], r["api_key_id"])] += r["output_tokens"]
    want = {
        (str(d), m, k): int(t)
        for d, m, k, t in _sql(
            con,
            "select bucket_date, model, api_key_id, sum(output_tokens) from "
            "anthropic_messages_usage where bucket_date < '2026-09-01' group by all",
        )
    }
    assert dict(got) == want

    # filters: one model, two keys; the default workspace's key reports a null workspace
    params = AUG_RANGE + [
        ("limit", "31"),
        ("models[]", "claude-haiku-4-5-20251001"),
        ("api_key_ids[]", "apikey_a1"),
        ("api_key_ids[]", "apikey_d4"),
        ("group_by[]", "workspace_id"),
        ("group_by[]", "api_key_id"),
    ]
    body = anthropic.get(MESSAGES, params)
    seen = {(r["api_key_id"], r["workspace_id"]) for b in body["data"] for r in b["results"]}
    assert seen == {("apikey_a1", "wrkspc_pay"), ("apikey_d4", None)}
    total = sum(r["uncached_input_tokens"] for b in body["data"] for r in b["results"])
    where = "and model = 'claude-haiku-4-5-20251001' and api_key_id in ('apikey_a1', 'apikey_d4')"
    want_total = _store_totals(con, "anthropic_messages_usage", ["uncached_input_tokens"], where)
    assert total == want_total["uncached_input_tokens"]

    body = anthropic.get(MESSAGES, AUG_RANGE + [("workspace_ids[]", "wrkspc_srch")])
    assert sum(r["output_tokens"] for b in body["data"] for r in b["results"]) == sum(
        int(t)
        for (t,) in _sql(
            con,
            "select sum(output_tokens) from anthropic_messages_usage where bucket_date between "
            "'2026-08-01' and '2026-08-07' and workspace_id = 'wrkspc_srch'",
        )
    )


def test_messages_hourly_buckets_split_each_day_exactly(anthropic: Client, con) -> None:
    params = [
        ("starting_at", "2026-08-05T00:00:00Z"),
        ("bucket_width", "1h"),
        ("limit", "48"),
        ("group_by[]", "model"),
    ]
    body = anthropic.get(MESSAGES, params)
    assert len(body["data"]) == 48 and body["has_more"]
    assert body["data"][1]["starting_at"] == "2026-08-05T01:00:00Z"
    got: dict[tuple, int] = defaultdict(int)
    for bucket in body["data"]:
        for r in bucket["results"]:
            got[(bucket["starting_at"][:10], r["model"])] += r["cache_read_input_tokens"]
    want = {
        (str(d), m): int(t)
        for d, m, t in _sql(
            con,
            "select bucket_date, model, sum(cache_read_input_tokens) from "
            "anthropic_messages_usage where bucket_date in ('2026-08-05', '2026-08-06') "
            "group by all",
        )
    }
    assert dict(got) == want
    assert split_day([25, 3], 24)[0] == [2, 1] and split_day([25, 3], 24)[3] == [1, 0]


def test_next_page_round_trips_and_bytes_are_deterministic(sim: SimulatorServer) -> None:
    url = sim.base_url("anthropic") + MESSAGES
    params = {"starting_at": "2026-08-03T07:30:00Z", "limit": "3", "group_by[]": "model"}
    first = requests.get(url, params=params, headers=ANTHROPIC_HEADERS, timeout=10)
    again = requests.get(url, params=params, headers=ANTHROPIC_HEADERS, timeout=10)
    assert first.content == again.content
    body = first.json()
    assert body["data"][0]["starting_at"] == "2026-08-03T00:00:00Z"  # snapped to the day
    assert decode_token(body["next_page"])  # opaque, but one of ours
    following = requests.get(
        url, params={**params, "page": body["next_page"]}, headers=ANTHROPIC_HEADERS, timeout=10
    ).json()
    direct = requests.get(
        url,
        params={**params, "starting_at": "2026-08-06T00:00:00Z"},
        headers=ANTHROPIC_HEADERS,
        timeout=10,
    ).json()
    assert following["data"] == direct["data"]
    assert following["data"][0]["starting_at"] == "2026-08-06T00:00:00Z"


def test_clock_limits_buckets_and_hides_the_unfinished_day(
    sim: SimulatorServer, anthropic: Client, openai: Client
) -> None:
    # At the store's as_of (midnight) the last bucket is the last full day.
    body = anthropic.get(MESSAGES, [("starting_at", "2026-08-28T00:00:00Z")])
    assert [b["starting_at"][:10] for b in body["data"]] == [
        "2026-08-28",
        "2026-08-29",
        "2026-08-30",
        "2026-08-31",
    ]
    assert not body["has_more"] and body["data"][-1]["results"]
    # At noon on 1 September "today" comes back as a bucket, but empty until the day is over.
    sim.set_now(datetime(2026, 9, 1, 12))
    body = anthropic.get(MESSAGES, [("starting_at", "2026-08-31T00:00:00Z"), ("limit", "5")])
    assert [b["starting_at"][:10] for b in body["data"]] == ["2026-08-31", "2026-09-01"]
    assert body["data"][0]["results"] and body["data"][1]["results"] == []
    body = openai.get(COMPLETIONS, {"start_time": _unix(date(2026, 8, 31))})
    assert [len(b["results"]) for b in body["data"]] == [1, 0]
    # Earlier clocks see less: no buckets after now, no usage of the day now falls in.
    sim.set_now(datetime(2026, 8, 15, 6))
    body = anthropic.get(MESSAGES, [("starting_at", "2026-08-13T00:00:00Z")])
    assert [b["starting_at"][:10] for b in body["data"]] == [
        "2026-08-13",
        "2026-08-14",
        "2026-08-15",
    ]
    assert body["data"][-1]["results"] == [] and not body["has_more"]
    assert anthropic.get(CLAUDE_CODE, {"starting_at": "2026-08-15"})["data"] == []
    body = anthropic.get(MESSAGES, [("starting_at", "2026-08-20T00:00:00Z")])
    assert body == {"data": [], "has_more": False, "next_page": None}


# --- Anthropic cost report ---------------------------------------------------------------


def _anthropic_expected_cents(con, by: tuple[str, ...]) -> dict[tuple, Decimal]:
    """Independent oracle: every store row x its day's price, in exact decimals (cents)."""
    cols = ", ".join(ANTHROPIC_TOKEN_COLUMNS.values())
    rows = _sql(
        con,
        f"select bucket_date, workspace_id, model, {cols} from anthropic_messages_usage "
        "where bucket_date < '2026-09-01'",
    )
    out: dict[tuple, Decimal] = defaultdict(Decimal)
    for day, workspace, model, *tokens in rows:
        for kind, count in zip(ANTHROPIC_TOKEN_COLUMNS, tokens, strict=True):
            usd = Decimal(ANTHROPIC_PRICES[model][kind])
            if model.startswith("claude-haiku") and kind == "uncached_input":
                usd = Decimal("1.3333") if day >= PRICE_CHANGE else Decimal(1)
            key = {"day": str(day), "workspace": workspace, "model": model, "kind": kind}
            out[tuple(key[b] for b in by)] += Decimal(count) * usd / 10_000
    return dict(out)


def test_cost_report_totals_equal_tokens_times_prices_exactly(anthropic: Client, con) -> None:
    pages = anthropic.walk(COSTS, AUG_RANGE + [("limit", "10")])
    buckets = [b for p in pages for b in p["data"]]
    assert len(pages) == 4 and len(buckets) == 31
    got = {}
    for bucket in buckets:
        day = bucket["starting_at"][:10]
        assert (bucket["results"] == []) == (date.fromisoformat(day) in EMPTY_DAYS)
        for r in bucket["results"]:
            assert r["currency"] == "USD" and isinstance(r["amount"], str)
            assert r["description"] is None and r["model"] is None and r["cost_type"] is None
            assert r["workspace_id"] is None
            got[(day,)] = Decimal(r["amount"])
    want = _anthropic_expected_cents(con, ("day",))
    assert got == {k: v for k, v in want.items() if v}  # exact, not merely to the cent


def test_cost_report_by_description_and_workspace(anthropic: Client, con) -> None:
    params = AUG_RANGE + [
        ("limit", "31"),
        ("group_by[]", "description"),
        ("group_by[]", "workspace_id"),
    ]
    body = anthropic.get(COSTS, params)
    kinds = {
        "uncached_input_tokens": "uncached_input",
        "output_tokens": "output",
        "cache_read_input_tokens": "cache_read",
        "cache_creation.ephemeral_5m_input_tokens": "cache_write_5m",
        "cache_creation.ephemeral_1h_input_tokens": "cache_write_1h",
    }
    got: dict[tuple, Decimal] = defaultdict(Decimal)
    for bucket in body["data"]:
        for r in bucket["results"]:
            assert r["cost_type"] == "tokens"
            assert r["description"].startswith(model_display_name(r["model"]) + " Usage - ")
            assert r["service_tier"] in ("standard", "batch")
            assert r["context_window"] in ("0-200k", "200k-1M")
            key = (
                bucket["starting_at"][:10],
                r["workspace_id"],
                r["model"],
                kinds[r["token_type"]],
            )
            got[key] += Decimal(r["amount"])
    want = _anthropic_expected_cents(con, ("day", "workspace", "model", "kind"))
    assert dict(got) == {k: v for k, v in want.items() if v}
    assert {k[1] for k in got} == {"wrkspc_pay", "wrkspc_srch", None}


def test_price_change_applies_from_its_day(sim: SimulatorServer) -> None:
    with duckdb.connect(str(sim.store_path), read_only=True) as connection:

        class _Req:
            def rows(self, sql: str, params: list) -> list[dict[str, Any]]:
                cur = connection.execute(sql, params)
                names = [d[0] for d in cur.description]
                return [dict(zip(names, r, strict=True)) for r in cur.fetchall()]

        book = PriceBook(_Req(), "anthropic")  # type: ignore[arg-type]
    haiku = "claude-haiku-4-5-20251001"
    assert book.usd_per_mtok(haiku, "uncached_input", date(2026, 8, 19)) == Decimal(1)
    assert book.usd_per_mtok(haiku, "uncached_input", PRICE_CHANGE) == Decimal("1.3333")
    assert book.usd_per_mtok(haiku, "uncached_input", date(2024, 1, 1)) is None
    assert book.cost_usd(haiku, "output", PRICE_CHANGE, 3) == Decimal("0.000015")
    assert decimal_text(Decimal("12.50000")) == "12.5" and decimal_text(Decimal("3E+2")) == "300"
    assert model_display_name("claude-sonnet-4-5-20250929") == "Claude Sonnet 4.5"
    assert model_display_name("claude-3-5-haiku-20241022") == "Claude Haiku 3.5"
    assert model_display_name("claude-opus-4-1-20250805") == "Claude Opus 4.1"


# --- Claude Code, keys, workspaces -------------------------------------------------------


def test_claude_code_report_pages_one_day(anthropic: Client) -> None:
    first = anthropic.get(CLAUDE_CODE, {"starting_at": "2026-08-15", "limit": "2"})
    assert first["has_more"] and len(first["data"]) == 2
    rest = anthropic.get(
        CLAUDE_CODE, {"starting_at": "2026-08-15", "limit": "2", "page": first["next_page"]}
    )
    assert not rest["has_more"] and rest["next_page"] is None and len(rest["data"]) == 1
    records = first["data"] + rest["data"]
    actors = [r["actor"] for r in records]
    assert {"type": "api_actor", "api_key_name": "bruno-ci"} in actors
    assert {"type": "user_actor", "email_address": "ada@acme.example"} in actors
    ada = next(r for r in records if r["actor"].get("email_address") == "ada@acme.example")
    assert ada["date"] == "2026-08-15T00:00:00Z" and ada["customer_type"] == "api"
    assert ada["core_metrics"] == {
        "num_sessions": 3,
        "lines_of_code": {"added": 120, "removed": 30},
        "commits_by_claude_code": 2,
        "pull_requests_by_claude_code": 1,
    }
    assert ada["tool_actions"]["edit_tool"] == {"accepted": 10, "rejected": 2}
    assert ada["tool_actions"]["write_tool"] == {"accepted": 4, "rejected": 0}
    assert ada["tool_actions"]["notebook_edit_tool"] == {"accepted": 0, "rejected": 0}
    assert ada["model_breakdown"][0]["tokens"]["cache_read"] == 100
    assert len({r["organization_id"] for r in records}) == 1
    bruno = next(r for r in records if r["actor"].get("email_address") == "bruno@acme.example")
    assert bruno["model_breakdown"] == []
    # a token is bound to its day; today is not reported yet; an empty day is empty
    anthropic.get(
        CLAUDE_CODE, {"starting_at": "2026-08-16", "page": first["next_page"]}, status=400
    )
    assert anthropic.get(CLAUDE_CODE, {"starting_at": "2026-09-01"})["data"] == []
    assert anthropic.get(CLAUDE_CODE, {"starting_at": "2026-08-01"}) == {
        "data": [],
        "has_more": False,
        "next_page": None,
    }


def test_api_keys_and_workspaces_lists(anthropic: Client) -> None:
    first = anthropic.get("/v1/organizations/api_keys", {"limit": "3"})
    assert first["has_more"]
    assert (first["first_id"], first["last_id"]) == ("apikey_a1", "apikey_c3")
    rest = anthropic.get("/v1/organizations/api_keys", {"limit": "3", "after_id": "apikey_c3"})
    assert not rest["has_more"]
    ids = [k["id"] for k in first["data"] + rest["data"]]
    assert ids == ["apikey_a1", "apikey_b2", "apikey_c3", "apikey_d4"]  # z9 is not created yet
    key = first["data"][0]
    assert key["type"] == "api_key" and key["name"] == "ada-laptop"
    assert key["workspace_id"] == "wrkspc_pay" and key["created_at"] == "2025-03-01T00:00:00Z"
    assert key["created_by"]["type"] == "user" and key["status"] == "active"
    by_ws = anthropic.get("/v1/organizations/api_keys", {"workspace_id": "wrkspc_srch"})
    assert [k["id"] for k in by_ws["data"]] == ["apikey_c3"]
    workspaces = anthropic.get("/v1/organizations/workspaces")
    assert [(w["id"], w["name"]) for w in workspaces["data"]] == [
        ("wrkspc_pay", "payments"),
        ("wrkspc_srch", "search"),
    ]
    assert workspaces["data"][0]["type"] == "workspace"
    assert workspaces["data"][0]["archived_at"] is None


# --- OpenAI ------------------------------------------------------------------------------

OPENAI_AUG = [("start_time", _unix(date(2026, 8, 1))), ("end_time", _unix(date(2026, 9, 1)))]


def test_completions_pages_cover_every_day_and_every_token(openai: Client, con) -> None:
    pages = openai.walk(COMPLETIONS, OPENAI_AUG)
    assert [len(p["data"]) for p in pages] == [7, 7, 7, 7, 3]
    buckets = [b for p in pages for b in p["data"]]
    assert all(p["object"] == "page" for p in pages)
    assert [b["start_time"] for b in buckets] == [_unix(d) for d in AUGUST]
    assert all(
        b["end_time"] - b["start_time"] == 86_400 and b["object"] == "bucket" for b in buckets
    )
    columns = ["input_tokens", "input_cached_tokens", "output_tokens", "num_model_requests"]
    totals: dict[str, int] = defaultdict(int)
    for bucket, day in zip(buckets, AUGUST, strict=True):
        assert (bucket["results"] == []) == (day in EMPTY_DAYS)
        for r in bucket["results"]:
            assert r["object"] == "organization.usage.completions.result"
            assert r["input_audio_tokens"] == 0 and r["output_audio_tokens"] == 0
            dims = ("project_id", "user_id", "api_key_id", "model", "batch", "service_tier")
            assert {r[k] for k in dims} == {None}
            for c in columns:
                totals[c] += r[c]
    assert dict(totals) == _store_totals(con, "openai_completions_usage", columns)


@pytest.mark.parametrize("style", ["group_by", "group_by[]"])
def test_completions_group_by_and_filters(openai: Client, con, style: str) -> None:
    params = OPENAI_AUG + [("limit", 31), (style, "model"), (style, "batch"), (style, "user_id")]
    body = openai.get(COMPLETIONS, params)
    got: dict[tuple, int] = defaultdict(int)
    for bucket in body["data"]:
        for r in bucket["results"]:
            assert r["project_id"] is None and r["api_key_id"] is None
            assert isinstance(r["batch"], bool)
            got[(r["model"], r["batch"], r["user_id"])] += r["input_tokens"]
    want = {
        (m, b, u): int(t)
        for m, b, u, t in _sql(
            con,
            "select model, batch, user_id, sum(input_tokens) from openai_completions_usage "
            "where bucket_date < '2026-09-01' group by all",
        )
    }
    assert dict(got) == want
    assert None in {k[2] for k in got}  # the service-account key has no user

    params = OPENAI_AUG + [
        ("limit", 31),
        ("project_ids", "proj_b"),
        ("models", "gpt-5-mini-2025-08-07"),
        ("group_by", "api_key_id"),
    ]
    body = openai.get(COMPLETIONS, params)
    assert {r["api_key_id"] for b in body["data"] for r in b["results"]} == {"key_3"}
    where = "and project_id = 'proj_b' and model = 'gpt-5-mini-2025-08-07'"
    want_total = _store_totals(con, "openai_completions_usage", ["output_tokens"], where)
    assert (
        sum(r["output_tokens"] for b in body["data"] for r in b["results"])
        == (want_total["output_tokens"])
    )


def _openai_expected_usd(con, by: tuple[str, ...]) -> dict[tuple, Decimal]:
    rows = _sql(
        con,
        "select bucket_date, project_id, model, input_tokens, input_cached_tokens, output_tokens "
        "from openai_completions_usage where bucket_date < '2026-09-01'",
    )
    out: dict[tuple, Decimal] = defaultdict(Decimal)
    for day, project, model, inp, cached, output in rows:
        prices = {k: Decimal(v) for k, v in OPENAI_PRICES[model].items()}
        for kind, words, count in (
            ("input", "input", inp - cached),
            ("cached_input", "cached input", cached),
            ("output", "output", output),
        ):
            key = {"day": str(day), "project": project, "line": f"{model}, {words}"}
            out[tuple(key[b] for b in by)] += Decimal(count) * prices[kind] / 1_000_000
    return dict(out)


def test_openai_costs_equal_tokens_times_prices(openai: Client, con) -> None:
    pages = openai.walk(OPENAI_COSTS, OPENAI_AUG + [("limit", 12)])
    buckets = [b for p in pages for b in p["data"]]
    assert [len(p["data"]) for p in pages] == [12, 12, 7] and len(buckets) == 31
    want = _openai_expected_usd(con, ("day",))
    for bucket, day in zip(buckets, AUGUST, strict=True):
        if day in EMPTY_DAYS:
            assert bucket["results"] == []
            continue
        (result,) = bucket["results"]
        assert result["object"] == "organization.costs.result"
        assert result["amount"]["currency"] == "usd"
        assert result["line_item"] is None and result["project_id"] is None
        assert result["amount"]["value"] == float(want[(str(day),)])

    params = OPENAI_AUG + [("limit", 180), ("group_by", "line_item"), ("group_by", "project_id")]
    body = openai.get(OPENAI_COSTS, params)
    assert len(body["data"]) == 31 and not body["has_more"]
    got = {
        (b["start_time"], r["project_id"], r["line_item"]): r["amount"]["value"]
        for b in body["data"]
        for r in b["results"]
    }
    want = _openai_expected_usd(con, ("day", "project", "line"))
    assert got == {
        (_unix(date.fromisoformat(d)), p, li): float(v) for (d, p, li), v in want.items() if v
    }
    assert {li.split(", ")[1] for _, _, li in got} == {"input", "cached input", "output"}


def test_openai_lists(openai: Client) -> None:
    projects = openai.get("/v1/organization/projects", {"limit": 2})
    assert projects["object"] == "list" and projects["has_more"]
    assert [p["id"] for p in projects["data"]] == ["proj_a", "proj_b"]
    assert projects["data"][0]["object"] == "organization.project"
    more = openai.get("/v1/organization/projects", {"limit": 2, "after": projects["last_id"]})
    assert [p["id"] for p in more["data"]] == ["proj_c"] and not more["has_more"]
    users = openai.get("/v1/organization/users")
    assert [(u["id"], u["email"]) for u in users["data"]] == [
        ("user-1", "ada@acme.example"),
        ("user-2", "bruno@acme.example"),
        ("user-3", "chen@acme.example"),
    ]
    keys = openai.get("/v1/organization/projects/proj_a/api_keys")
    assert [k["id"] for k in keys["data"]] == ["key_1", "key_2"]
    assert keys["data"][0]["owner"]["type"] == "user"
    assert keys["data"][0]["owner"]["user"]["email"] == "ada@acme.example"
    assert keys["data"][0]["last_used_at"] <= _unix(date(2026, 8, 31))
    svc = openai.get("/v1/organization/projects/proj_b/api_keys")["data"][0]
    assert svc["owner"]["type"] == "service_account" and svc["name"] == "search-svc"
    assert openai.get("/v1/organization/projects/proj_c/api_keys")["data"] == []


# --- the generated tiny organisation -----------------------------------------------------


def test_tiny_org_reports_match_the_store_and_the_truth(
    simulator: SimulatorServer, tiny_store: Path
) -> None:
    anthropic = Client(simulator, "anthropic", ANTHROPIC_HEADERS)
    openai = Client(simulator, "openai", OPENAI_HEADERS)
    with duckdb.connect(str(tiny_store), read_only=True) as store:
        (first,) = _sql(store, "select min(bucket_date) from anthropic_messages_usage")[0]
        today = simulator.now.date()
        usage_columns = list(ANTHROPIC_TOKEN_COLUMNS.values()) + ["web_search_requests"]
        anthropic_usage = _store_totals(store, "anthropic_messages_usage", usage_columns, "", today)
        openai_columns = ["input_tokens", "input_cached_tokens", "output_tokens"]
        openai_usage = _store_totals(store, "openai_completions_usage", openai_columns, "", today)
        truth = {
            (provider, str(day)): Decimal(usd)
            for provider, day, usd in _sql(
                store,
                "select provider, day, sum(cost_usd) from truth_spend where day < ? group by all",
                [today],
            )
        }

    # every bucket from the first day of usage to the clock, and every token in them
    pages = anthropic.walk(MESSAGES, [("starting_at", str(first)), ("limit", 31)])
    buckets = [b for p in pages for b in p["data"]]
    assert len(buckets) == (today - first).days + (simulator.now.time() != datetime.min.time())
    totals: dict[str, int] = defaultdict(int)
    for result in (r for b in buckets for r in b["results"]):
        for key, value in _tokens(result).items():
            totals[key] += value
    assert dict(totals) == anthropic_usage
    pages = openai.walk(COMPLETIONS, [("start_time", _unix(first)), ("limit", 31)])
    results = [r for p in pages for b in p["data"] for r in b["results"]]
    assert {c: sum(r[c] for r in results) for c in openai_columns} == openai_usage

    # the cost reports reconcile with the generator's ground truth, day by day, to the cent
    reported: dict[tuple, Decimal] = defaultdict(Decimal)
    for page in anthropic.walk(COSTS, [("starting_at", str(first)), ("limit", 31)]):
        for bucket in page["data"]:
            for r in bucket["results"]:
                reported[("anthropic", bucket["starting_at"][:10])] += Decimal(r["amount"]) / 100
    for page in openai.walk(OPENAI_COSTS, [("start_time", _unix(first)), ("limit", 180)]):
        for bucket in page["data"]:
            day = str(datetime.fromtimestamp(bucket["start_time"], tz=UTC).date())
            for r in bucket["results"]:
                reported[("openai", day)] += Decimal(str(r["amount"]["value"]))
    assert truth and reported
    for key in set(truth) | set(reported):
        gap = abs(truth.get(key, Decimal(0)) - reported.get(key, Decimal(0)))
        assert gap <= Decimal("0.01"), key
