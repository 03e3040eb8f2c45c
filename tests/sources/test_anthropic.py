"""The Anthropic billing loader against the simulated tiny organisation.

One full load (and a rerun) is shared by the module; tests that move the clock, inject faults
or fail a run get their own simulator and warehouse, and read a short window to stay quick.
"""

from __future__ import annotations

import json
import logging
import math
from collections import defaultdict
from collections.abc import Iterator
from datetime import date, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import duckdb
import pytest

from org_simulator.credentials import SIM_CREDENTIALS
from org_simulator.faults import Fault
from pipelines.ingest.loads import make_pipeline, run_load
from pipelines.sources import anthropic as source
from pipelines.sources.billing_buckets import first_bucket, row_key
from pipelines.sources.contract import Conformer, Quarantine
from pipelines.sources.failures import LoadFailed
from pipelines.sources.tables import Table
from tests.sources.conftest import FullLoad, Loader, load_twice

AS_OF = datetime(2026, 11, 1)
AS_OF_DAY = AS_OF.date()
EARLIER = datetime(2026, 9, 20)  # the clock of the first run in "changes between runs"
RECENT = "2026-10-20"  # START_DATE of the short-window tests
START_ENV = "SOURCES__ANTHROPIC__START_DATE"

TOKENS = [
    "uncached_input_tokens",
    "cache_creation_5m_input_tokens",
    "cache_creation_1h_input_tokens",
    "cache_read_input_tokens",
    "output_tokens",
    "web_search_requests",
]
DIMS = ["api_key_id", "workspace_id", "model", "service_tier", "context_window"]
# cost report token_type -> (store column, price token_kind)
TOKEN_TYPES = {
    "uncached_input_tokens": ("uncached_input_tokens", "uncached_input"),
    "output_tokens": ("output_tokens", "output"),
    "cache_read_input_tokens": ("cache_read_input_tokens", "cache_read"),
    "cache_creation.ephemeral_5m_input_tokens": (
        "cache_creation_5m_input_tokens",
        "cache_write_5m",
    ),
    "cache_creation.ephemeral_1h_input_tokens": (
        "cache_creation_1h_input_tokens",
        "cache_write_1h",
    ),
}
CLAUDE_CODE_METRICS = [
    "num_sessions",
    "lines_added",
    "lines_removed",
    "commits_by_claude_code",
    "pull_requests_by_claude_code",
    "edit_accepted",
    "edit_rejected",
    "write_accepted",
    "write_rejected",
]
WAREHOUSE_CLAUDE_CODE_METRICS = [
    "num_sessions",
    "lines_added",
    "lines_removed",
    "commits_by_claude_code",
    "pull_requests_by_claude_code",
    "edit_tool_accepted",
    "edit_tool_rejected",
    "write_tool_accepted",
    "write_tool_rejected",
]
DAY_OF = "(bucket_start at time zone 'UTC')::date"


# --- what the store says -------------------------------------------------------------------


def store_usage(loader: Loader, first: str, before: date) -> list[tuple]:
    return loader.store_rows(
        f"select bucket_date, {', '.join(DIMS + TOKENS)} from anthropic_messages_usage "
        f"where bucket_date >= '{first}' and bucket_date < '{before}' order by all"
    )


def warehouse_usage(loader: Loader) -> list[tuple]:
    return loader.rows(
        f"select {DAY_OF}, {', '.join(DIMS + TOKENS)} from raw_anthropic.messages_usage "
        "order by all"
    )


def store_claude_code(loader: Loader, first: str, before: date) -> list[tuple]:
    return loader.store_rows(
        "select date, actor_type, email_address, api_key_name, terminal_type, "
        f"{', '.join(CLAUDE_CODE_METRICS)} from anthropic_claude_code_usage "
        f"where date >= '{first}' and date < '{before}' order by all"
    )


def warehouse_claude_code(loader: Loader) -> list[tuple]:
    return loader.rows(
        "select usage_date, actor_type, actor_email_address, actor_api_key_name, terminal_type, "
        f"{', '.join(WAREHOUSE_CLAUDE_CODE_METRICS)} from raw_anthropic.claude_code_usage "
        "order by all"
    )


def expected_costs(loader: Loader, first: str, before: date) -> dict[tuple, Decimal]:
    """Independent oracle: every store row's tokens x the price valid that day, exact."""
    prices = loader.store_rows(
        "select model, token_kind, usd_per_mtok, valid_from, valid_to from llm_model_prices "
        "where provider = 'anthropic' order by valid_from desc"
    )

    def price(model: str, kind: str, day: date) -> Decimal:
        for m, k, usd, valid_from, valid_to in prices:
            if (m, k) == (model, kind) and valid_from <= day and (not valid_to or day <= valid_to):
                return Decimal(usd)
        raise AssertionError(f"no price for {model} {kind} on {day}")

    columns = sorted({column for column, _ in TOKEN_TYPES.values()})
    rows = loader.store_rows(
        f"select bucket_date, workspace_id, model, {', '.join(columns)} "
        f"from anthropic_messages_usage where bucket_date >= '{first}' and bucket_date < '{before}'"
    )
    out: dict[tuple, Decimal] = defaultdict(Decimal)
    for day, workspace, model, *counts in rows:
        tokens = dict(zip(columns, counts, strict=True))
        for token_type, (column, kind) in TOKEN_TYPES.items():
            if tokens[column]:
                usd = Decimal(tokens[column]) * price(model, kind, day) / 1_000_000
                out[(day, workspace, model, token_type)] += usd
    return dict(out)


def warehouse_costs(loader: Loader) -> dict[tuple, Decimal]:
    rows = loader.rows(
        f"select {DAY_OF}, workspace_id, model, token_type, sum(amount_usd) "
        "from raw_anthropic.cost_report group by all"
    )
    return {tuple(r[:4]): r[4] for r in rows}


def assert_window_equals_store(loader: Loader, first: str, before: date = AS_OF_DAY) -> None:
    assert warehouse_usage(loader) == store_usage(loader, first, before)
    assert warehouse_claude_code(loader) == store_claude_code(loader, first, before)
    assert warehouse_costs(loader) == expected_costs(loader, first, before)
    for table in ("messages_usage", "cost_report", "claude_code_usage"):
        assert (
            loader.scalar(f"select count(*) - count(distinct row_key) from raw_anthropic.{table}")
            == 0
        ), table


def table_counts(loader: Loader) -> dict[str, int]:
    tables = [
        "messages_usage",
        "cost_report",
        "claude_code_usage",
        "claude_code_usage__model_breakdown",
        "workspaces",
        "api_keys",
    ]
    return {t: loader.scalar(f"select count(*) from raw_anthropic.{t}") for t in tables}


# --- one full load, shared -----------------------------------------------------------------


@pytest.fixture(scope="module")
def full(tiny_store: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[FullLoad]:
    warehouse = tmp_path_factory.mktemp("anthropic") / "warehouse.duckdb"
    with pytest.MonkeyPatch.context() as mp:
        yield load_twice("anthropic", tiny_store, warehouse, mp, table_counts)


def test_full_load_equals_the_store(full: FullLoad) -> None:
    loader = full.loader
    usage = warehouse_usage(loader)
    assert len(usage) == loader.store_scalar("select count(*) from anthropic_messages_usage")
    assert usage == store_usage(loader, full.start, AS_OF.date())
    assert warehouse_claude_code(loader) == store_claude_code(loader, full.start, AS_OF.date())
    assert full.counts["claude_code_usage"] == loader.store_scalar(
        "select count(*) from anthropic_claude_code_usage"
    )
    bucket = loader.rows(
        "select bucket_start, bucket_end from raw_anthropic.messages_usage "
        "order by bucket_start limit 1"
    )[0]
    assert bucket[1] - bucket[0] == timedelta(days=1)
    assert str(bucket[0].date()) == full.start


def test_token_sums_by_day_and_model_equal_the_store(full: FullLoad) -> None:
    sums = ", ".join(f"sum({t})" for t in TOKENS)
    got = full.loader.rows(
        f"select {DAY_OF}, model, {sums} from raw_anthropic.messages_usage "
        "group by all order by all"
    )
    want = full.loader.store_rows(
        f"select bucket_date, model, {sums} from anthropic_messages_usage group by all order by all"
    )
    assert got == want and len(got) > 100


def test_costs_equal_tokens_times_prices_exactly(full: FullLoad) -> None:
    loader = full.loader
    want = expected_costs(loader, full.start, AS_OF.date())
    assert warehouse_costs(loader) == want
    # the original cents string and the DECIMAL dollars say the same, to the last digit
    amounts = loader.rows("select amount, amount_usd from raw_anthropic.cost_report")
    assert all(Decimal(cents) / 100 == usd for cents, usd in amounts) and len(amounts) > 1000
    assert loader.rows("select distinct currency, cost_type from raw_anthropic.cost_report") == [
        ("USD", "tokens")
    ]
    sample = loader.rows(
        "select description, token_type, amount from raw_anthropic.cost_report "
        "where model = 'claude-opus-4-1-20250805' and token_type = 'output_tokens' "
        f"and {DAY_OF} = '{full.start}' and workspace_id = 'wrkspc_0000paym'"
    )
    ((description, token_type, amount),) = sample
    assert description == "Claude Opus 4.1 Usage - Output Tokens"
    # 188078 output tokens x $75 per million = $14.10585 = 1410.585 cents
    assert Decimal(amount) == Decimal(188078) * 75 / 10_000


def test_claude_code_model_breakdown_equals_the_store(full: FullLoad) -> None:
    loader = full.loader
    want = []
    for day, kind, email, key, terminal, breakdown in loader.store_rows(
        "select date, actor_type, email_address, api_key_name, terminal_type, model_breakdown "
        "from anthropic_claude_code_usage"
    ):
        for item in json.loads(breakdown or "[]"):
            tokens, cost = item["tokens"], item["estimated_cost"]
            want.append(
                (day, kind, email, key, terminal, item["model"], tokens["input"])
                + (tokens["output"], tokens["cache_read"], tokens["cache_creation"])
                + (Decimal(str(cost["amount"])), cost["currency"])
            )
    got = loader.rows(
        "select u.usage_date, u.actor_type, u.actor_email_address, u.actor_api_key_name, "
        "u.terminal_type, b.model, b.input_tokens, b.output_tokens, b.cache_read_tokens, "
        "b.cache_creation_tokens, b.estimated_cost_cents, b.estimated_cost_currency "
        "from raw_anthropic.claude_code_usage u "
        "join raw_anthropic.claude_code_usage__model_breakdown b on b.usage_row_key = u.row_key"
    )
    assert (
        sorted(got) == sorted(want)
        and len(got) == full.counts["claude_code_usage__model_breakdown"]
    )
    api_actor = loader.rows(
        "select actor_api_key_name, actor_email_address from raw_anthropic.claude_code_usage "
        "where actor_type = 'api_actor' limit 1"
    )
    assert api_actor[0][0] and api_actor[0][1] is None


def test_reference_lists_equal_the_store(full: FullLoad) -> None:
    loader = full.loader
    assert loader.rows(
        "select id, name, workspace_id from raw_anthropic.api_keys order by id"
    ) == loader.store_rows("select id, name, workspace_id from anthropic_api_keys order by id")
    assert loader.rows("select id, name from raw_anthropic.workspaces order by id") == (
        loader.store_rows("select id, name from anthropic_workspaces order by id")
    )
    assert (
        loader.scalar(
            "select count(*) from raw_anthropic.api_keys where created_by_type = 'user' "
            "and partial_key_hint like 'sk-ant-api03-%' and status = 'active'"
        )
        == full.counts["api_keys"]
    )


def test_backfill_uses_the_minimum_number_of_pages(full: FullLoad) -> None:
    loader = full.loader
    days = (AS_OF.date() - date.fromisoformat(full.start)).days
    keys = loader.store_scalar("select count(*) from anthropic_api_keys")
    spaces = loader.store_scalar("select count(*) from anthropic_workspaces")
    minimum = {
        "anthropic.usage_messages": math.ceil(days / source.MAX_DAILY_BUCKETS),
        "anthropic.cost_report": math.ceil(days / source.MAX_DAILY_BUCKETS),
        "anthropic.usage_claude_code": days,  # one day per request, every day must be asked
        "anthropic.api_keys": math.ceil(keys / source.LIST_LIMIT),
        "anthropic.workspaces": math.ceil(spaces / source.LIST_LIMIT),
    }
    assert set(full.backfill) == set(minimum)
    for route, pages in minimum.items():
        assert full.backfill[route] <= 1.05 * pages, (route, full.backfill[route], pages)
    assert minimum["anthropic.usage_claude_code"] == 75


def test_a_rerun_without_changes_asks_little_and_adds_nothing(full: FullLoad) -> None:
    assert full.counts_after_rerun == full.counts
    assert full.rerun == {
        "anthropic.api_keys": 1,
        "anthropic.cost_report": 1,
        "anthropic.usage_claude_code": 2,  # the cursor day and the day before it
        "anthropic.usage_messages": 1,
        "anthropic.workspaces": 1,
    }
    assert_window_equals_store(full.loader, full.start)


# --- changes, faults, failures -------------------------------------------------------------


def test_changes_between_runs_arrive_without_duplicates(
    loader: Loader, monkeypatch: pytest.MonkeyPatch
) -> None:
    start = loader.sim.history_start()
    monkeypatch.setenv(START_ENV, start)
    loader.sim.set_now(EARLIER)
    loader.load("anthropic")
    assert_window_equals_store(loader, start, EARLIER.date())

    loader.sim.set_now(AS_OF)
    loader.sim.reset_stats()
    loader.load("anthropic")
    assert_window_equals_store(loader, start)
    assert table_counts(loader)["claude_code_usage"] == loader.store_scalar(
        "select count(*) from anthropic_claude_code_usage"
    )
    # at most 1.05 x the pages the changed days need: the look-back days fit in that margin
    changed = (AS_OF - EARLIER).days
    by_route = loader.sim.stats()["by_route"]
    assert by_route["anthropic.usage_claude_code"] <= 1.05 * changed
    for route in ("anthropic.usage_messages", "anthropic.cost_report"):
        assert by_route[route] <= math.ceil(changed / source.MAX_DAILY_BUCKETS), route


def test_retried_faults_leave_the_data_complete_and_the_logs_clean(
    loader: Loader, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.setenv(START_ENV, RECENT)
    faults = [
        Fault("rate_limit", path=r"usage_report/messages$"),
        Fault("server_error", path=r"claude_code$", skip=3, times=2),
        Fault("slow", path=r"cost_report$", delay=0.3),
        Fault("invalid_json", path=r"claude_code$", skip=6),
        Fault("truncated", path=r"api_keys$"),
    ]
    for fault in faults:
        fault.vendor = "anthropic"
        loader.sim.inject(fault)
    with caplog.at_level(logging.DEBUG):
        counts = loader.load("anthropic")
    assert [f.hits for f in faults] == [f.times for f in faults]
    assert_window_equals_store(loader, RECENT)
    assert table_counts(loader)["api_keys"] == 7 and "quarantine" not in counts
    retried = [r.getMessage() for r in caplog.records if "retrying" in r.getMessage()]
    assert len(retried) == 5  # the slow answer needs no retry; server_error hits twice
    assert SIM_CREDENTIALS["anthropic"] not in caplog.text


def test_a_failed_run_resumes_without_gaps_or_duplicates(
    loader: Loader, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(START_ENV, "2026-10-10")
    loader.sim.set_now(datetime(2026, 10, 20))
    loader.load("anthropic")
    before = table_counts(loader)

    loader.sim.set_now(AS_OF)
    loader.sim.inject(
        Fault("server_error", vendor="anthropic", path="claude_code$", skip=5, times=-1)
    )
    with pytest.raises(LoadFailed, match="503"):
        loader.load("anthropic")
    assert table_counts(loader) == before  # nothing of the failed run, cursors included

    loader.sim.faults.clear()
    loader.sim.reset_stats()
    loader.load("anthropic")
    assert_window_equals_store(loader, "2026-10-10")
    # the resumed run starts from the committed cursor (10-19), not from the failed run's
    assert loader.sim.stats()["by_route"]["anthropic.usage_claude_code"] == 14


def test_malformed_records_are_quarantined_and_the_rest_loads(
    loader: Loader, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(START_ENV, RECENT)
    loader.sim.inject(Fault("malformed", vendor="anthropic", path=r"usage_report/messages$"))
    loader.sim.inject(Fault("malformed", vendor="anthropic", path=r"claude_code$"))
    counts = loader.load("anthropic")
    assert counts["quarantine"] == 2
    quarantined = loader.rows(
        "select source, resource, reason, payload from raw_anthropic.quarantine order by resource"
    )
    assert [(q[0], q[1]) for q in quarantined] == [
        ("anthropic", "claude_code_usage"),
        ("anthropic", "messages_usage"),
    ]
    assert all('"_malformed": true' in q[3] for q in quarantined)
    assert "date" in quarantined[0][2] or "timestamp" in quarantined[0][2]
    assert "unusable bucket" in quarantined[1][2]
    # the broken bucket is the first day's: every other day of usage is there, exactly
    first_day = date.fromisoformat(RECENT)
    want = [r for r in store_usage(loader, RECENT, AS_OF.date()) if r[0] != first_day]
    assert warehouse_usage(loader) == want
    # one Claude Code record of the first day is missing, the rest are there
    cc_want = store_claude_code(loader, RECENT, AS_OF.date())
    cc_got = warehouse_claude_code(loader)
    assert len(cc_got) == len(cc_want) - 1 and set(cc_got) < set(cc_want)
    assert (set(cc_want) - set(cc_got)).pop()[0] == first_day
    assert warehouse_costs(loader) == expected_costs(loader, RECENT, AS_OF.date())


def test_the_admin_key_never_reaches_the_warehouse_the_trace_or_an_error(
    loader: Loader, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    key = SIM_CREDENTIALS["anthropic"]
    monkeypatch.setenv(START_ENV, "2026-10-28")
    run_load("anthropic", loader.warehouse, pipelines_dir=tmp_path)  # keeps dlt's trace and state
    files = [f for f in tmp_path.rglob("*") if f.is_file()]
    assert any(f.name == "trace.pickle" for f in files)
    assert not [f for f in files if key.encode() in f.read_bytes()]
    with duckdb.connect(str(loader.warehouse), read_only=True) as con:
        tables = con.execute("select table_schema, table_name from information_schema.tables")
        for schema, table in tables.fetchall():
            dump = str(con.execute(f'select * from "{schema}"."{table}"').fetchall())
            assert key not in dump, table
    monkeypatch.setenv("SOURCES__ANTHROPIC__ADMIN_API_KEY", "sk-ant-admin01-wrong-key-123")
    with pytest.raises(LoadFailed) as failed:
        loader.load("anthropic")
    assert "401" in str(failed.value) and "wrong-key" not in str(failed.value)


def test_claude_code_alone_asks_the_api_for_its_day(
    loader: Loader, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """Run without the usage resource, the Claude Code walk probes the usage report once."""
    monkeypatch.setenv(START_ENV, RECENT)
    pipeline = make_pipeline("anthropic", loader.warehouse, tmp_path / "pipelines")
    pipeline.run(source.anthropic().with_resources("claude_code_usage", "quarantine"))
    assert loader.sim.stats()["by_route"] == {
        "anthropic.usage_claude_code": 12,
        "anthropic.usage_messages": 1,
    }
    assert warehouse_claude_code(loader) == store_claude_code(loader, RECENT, AS_OF.date())


def test_registered_and_buildable_without_configuration() -> None:
    from pipelines.sources import SOURCES

    spec = SOURCES["anthropic"]
    built = spec.factory(**spec.spec_args)
    assert list(built.resources) == [
        "messages_usage",
        "cost_report",
        "claude_code_usage",
        "workspaces",
        "api_keys",
        "quarantine",
    ]


# --- projections of messy records ------------------------------------------------------------


def _conformer(table: Table) -> tuple[Conformer, Quarantine]:
    quarantine = Quarantine("anthropic")
    return Conformer.of(table, quarantine), quarantine


def test_usage_rows_tolerate_missing_objects_and_keep_nulls_apart_from_empty() -> None:
    conformer, quarantine = _conformer(source.MESSAGES_USAGE.table)
    start = datetime.fromisoformat("2026-10-01T00:00:00+00:00")
    bucket = {"bucket_start": start, "bucket_end": start + timedelta(days=1)}
    old = {**bucket, "uncached_input_tokens": 5, "output_tokens": 2, "model": "claude-x"}
    new = {**old, "workspace_id": "", "inference_geo": "us", "cache_creation": None}
    rows = conformer.rows([old, new])
    assert not quarantine.rows
    assert rows[0]["cache_creation_5m_input_tokens"] is None
    assert rows[0]["web_search_requests"] is None
    assert rows[0]["row_key"] != rows[1]["row_key"]  # null workspace != "" workspace
    assert json.loads(rows[1]["_extra"]) == {"inference_geo": "us"}  # a field the API added
    assert rows[0]["row_key"] == row_key(start.isoformat(), "claude-x", None, None, None, None)


def test_cost_amounts_are_exact_and_broken_ones_are_quarantined() -> None:
    conformer, quarantine = _conformer(source.COST_REPORT.table)
    start = datetime.fromisoformat("2026-10-01T00:00:00+00:00")
    bucket = {"bucket_start": start, "bucket_end": start + timedelta(days=1)}
    rows = conformer.rows(
        [
            {**bucket, "amount": "0.1", "currency": "USD"},
            {**bucket, "amount": "123456789.123456789", "description": "ü ✓"},
            {**bucket, "amount": {"value": 1}},
            {**bucket, "amount": "twelve"},
        ]
    )
    assert [r["amount_usd"] for r in rows] == [Decimal("0.001"), Decimal("1234567.89123456789")]
    assert rows[1]["description"] == "ü ✓"
    assert len(quarantine.rows) == 2


def test_claude_code_records_with_little_in_them_still_load() -> None:
    conformer, quarantine = _conformer(source.CLAUDE_CODE)
    bare = {
        "date": "2026-10-01T00:00:00Z",
        "actor": {"type": "user_actor", "email_address": "zoë@acme.example"},
        "model_breakdown": [],
    }
    full = {
        **bare,
        "actor": {"type": "api_actor", "api_key_name": "ci"},
        "tool_actions": {"edit_tool": {"accepted": 3, "rejected": 1}, "new_tool": None},
        "model_breakdown": [{"model": "m", "tokens": {"input": 1}, "estimated_cost": None}],
    }
    broken = {**bare, "model_breakdown": [{"tokens": {"input": "lots"}}]}
    rows = conformer.rows([bare, full, broken, {**bare, "actor": None}])
    assert len(rows) == 2 and len(quarantine.rows) == 2
    assert rows[0]["usage_date"] == date(2026, 10, 1) and rows[0]["model_breakdown"] == []
    assert rows[0]["actor_email_address"] == "zoë@acme.example" and rows[0]["num_sessions"] is None
    assert rows[1]["edit_tool_accepted"] == 3 and rows[1]["new_tool_accepted"] is None
    (item,) = rows[1]["model_breakdown"]
    assert item["usage_row_key"] == rows[1]["row_key"] and item["estimated_cost_cents"] is None


def test_the_window_starts_at_the_cursor_less_the_lookback_never_before_start_date() -> None:
    now = datetime.fromisoformat("2026-11-23T10:00:00+00:00")
    assert first_bucket(None, None, now) == datetime.fromisoformat("2026-08-25T00:00:00+00:00")
    assert first_bucket(None, "2026-08-18", now).date() == date(2026, 8, 18)
    cursor = "2026-10-31T00:00:00+00:00"
    assert first_bucket(cursor, "2026-08-18", now).date() == date(2026, 10, 28)
    assert first_bucket(cursor, "2026-10-30", now).date() == date(2026, 10, 30)
    assert first_bucket(cursor, None, now, timedelta(days=1)).date() == date(2026, 10, 30)
