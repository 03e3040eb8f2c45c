"""The OpenAI billing loader against the simulated tiny organisation.

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
from pipelines.ingest.loads import run_load
from pipelines.sources import openai as source
from pipelines.sources.contract import Conformer, Quarantine
from pipelines.sources.failures import LoadFailed
from pipelines.sources.tables import Table
from tests.sources.conftest import FullLoad, Loader, load_twice

AS_OF = datetime(2026, 11, 1)
AS_OF_DAY = AS_OF.date()
EARLIER = datetime(2026, 9, 20)  # the clock of the first run in "changes between runs"
RECENT = "2026-10-20"  # START_DATE of the short-window tests
START_ENV = "SOURCES__OPENAI__START_DATE"

DIMS = ["project_id", "user_id", "api_key_id", "model", "batch", "service_tier"]
TOKENS = ["input_tokens", "input_cached_tokens", "output_tokens", "num_model_requests"]
DAY_OF = "(bucket_start at time zone 'UTC')::date"


# --- what the store says -------------------------------------------------------------------


def store_usage(loader: Loader, first: str, before: date) -> list[tuple]:
    return loader.store_rows(
        f"select bucket_date, {', '.join(DIMS + TOKENS)} from openai_completions_usage "
        f"where bucket_date >= '{first}' and bucket_date < '{before}' order by all"
    )


def warehouse_usage(loader: Loader) -> list[tuple]:
    return loader.rows(
        f"select {DAY_OF}, {', '.join(DIMS + TOKENS)} from raw_openai.completions_usage "
        "order by all"
    )


def expected_costs(loader: Loader, first: str, before: date) -> dict[tuple, Decimal]:
    """Independent oracle: uncached input, cached input and output x the day's price, exact."""
    prices = loader.store_rows(
        "select model, token_kind, usd_per_mtok, valid_from, valid_to from llm_model_prices "
        "where provider = 'openai' order by valid_from desc"
    )

    def price(model: str, kind: str, day: date) -> Decimal:
        for m, k, usd, valid_from, valid_to in prices:
            if (m, k) == (model, kind) and valid_from <= day and (not valid_to or day <= valid_to):
                return Decimal(usd)
        raise AssertionError(f"no price for {model} {kind} on {day}")

    rows = loader.store_rows(
        "select bucket_date, project_id, api_key_id, model, input_tokens, input_cached_tokens, "
        f"output_tokens from openai_completions_usage where bucket_date >= '{first}' "
        f"and bucket_date < '{before}'"
    )
    out: dict[tuple, Decimal] = defaultdict(Decimal)
    for day, project, key, model, inputs, cached, outputs in rows:
        for kind, words, count in (
            ("input", "input", inputs - cached),
            ("cached_input", "cached input", cached),
            ("output", "output", outputs),
        ):
            if count:
                usd = Decimal(count) * price(model, kind, day) / 1_000_000
                out[(day, project, key, f"{model}, {words}")] += usd
    return dict(out)


def warehouse_costs(loader: Loader) -> dict[tuple, Decimal]:
    rows = loader.rows(
        f"select {DAY_OF}, project_id, api_key_id, line_item, sum(amount_usd) "
        "from raw_openai.costs group by all"
    )
    return {tuple(r[:4]): r[4] for r in rows}


def assert_window_equals_store(loader: Loader, first: str, before: date = AS_OF_DAY) -> None:
    assert warehouse_usage(loader) == store_usage(loader, first, before)
    assert warehouse_costs(loader) == expected_costs(loader, first, before)
    for table in ("completions_usage", "costs"):
        duplicates = loader.scalar(
            f"select count(*) - count(distinct row_key) from raw_openai.{table}"
        )
        assert duplicates == 0, table


def table_counts(loader: Loader) -> dict[str, int]:
    tables = ["completions_usage", "costs", "projects", "users", "api_keys"]
    return {t: loader.scalar(f"select count(*) from raw_openai.{t}") for t in tables}


# --- one full load, shared -----------------------------------------------------------------


@pytest.fixture(scope="module")
def full(tiny_store: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[FullLoad]:
    warehouse = tmp_path_factory.mktemp("openai") / "warehouse.duckdb"
    with pytest.MonkeyPatch.context() as mp:
        yield load_twice("openai", tiny_store, warehouse, mp, table_counts)


def test_full_load_equals_the_store(full: FullLoad) -> None:
    loader = full.loader
    usage = warehouse_usage(loader)
    assert len(usage) == loader.store_scalar("select count(*) from openai_completions_usage")
    assert usage == store_usage(loader, full.start, AS_OF_DAY)
    # service-account keys report no user: the null survives and keys stay distinct
    no_user = loader.scalar(
        "select count(*) from raw_openai.completions_usage where user_id is null"
    )
    assert no_user == loader.store_scalar(
        "select count(*) from openai_completions_usage where user_id is null"
    )
    assert no_user > 0
    # fields the loader does not name pass through, as JSON text in `_extra`
    audio = loader.rows(
        "select count(_extra), sum(cast(_extra ->> 'input_audio_tokens' as int)"
        " + cast(_extra ->> 'output_audio_tokens' as int)) from raw_openai.completions_usage"
    )
    assert audio == [(len(usage), 0)]
    bucket = loader.rows(
        "select bucket_start, bucket_end from raw_openai.completions_usage "
        "order by bucket_start limit 1"
    )[0]
    assert bucket[1] - bucket[0] == timedelta(days=1)
    assert str(bucket[0].date()) == full.start


def test_token_sums_by_day_and_model_equal_the_store(full: FullLoad) -> None:
    sums = ", ".join(f"sum({t})" for t in TOKENS)
    got = full.loader.rows(
        f"select {DAY_OF}, model, {sums} from raw_openai.completions_usage "
        "group by all order by all"
    )
    want = full.loader.store_rows(
        f"select bucket_date, model, {sums} from openai_completions_usage group by all order by all"
    )
    assert got == want and len(got) > 100


def test_costs_equal_tokens_times_prices_exactly(full: FullLoad) -> None:
    loader = full.loader
    assert warehouse_costs(loader) == expected_costs(loader, full.start, AS_OF_DAY)
    assert loader.rows("select distinct currency from raw_openai.costs") == [("usd",)]
    # 6,808,805 uncached input tokens x $1.25 per million, on the first day
    amount = loader.scalar(
        f"select amount_usd from raw_openai.costs where {DAY_OF} = '{full.start}' "
        "and api_key_id = 'key_p000000207245' and line_item = 'gpt-5-2025-08-07, input'"
    )
    assert amount == Decimal("8.51100625")


def test_reference_lists_equal_the_store(full: FullLoad) -> None:
    loader = full.loader
    assert loader.rows("select id, name from raw_openai.projects order by id") == (
        loader.store_rows("select id, name from openai_projects order by id")
    )
    assert loader.rows("select id, email, name from raw_openai.users order by id") == (
        loader.store_rows("select id, email, name from openai_users order by id")
    )
    got = loader.rows(
        "select id, project_id, name, case when owner_type = 'user' then owner_id end "
        "from raw_openai.api_keys order by id"
    )
    assert got == loader.store_rows(
        "select id, project_id, name, owner_user_id from openai_api_keys order by id"
    )
    # the user's email comes with the key; service accounts have none
    assert loader.rows(
        "select owner_type, count(*), count(owner_email) from raw_openai.api_keys "
        "group by all order by all"
    ) == [("service_account", 2, 0), ("user", 3, 3)]


def test_backfill_uses_the_minimum_number_of_pages(full: FullLoad) -> None:
    loader = full.loader
    days = (AS_OF_DAY - date.fromisoformat(full.start)).days
    projects = loader.store_scalar("select count(*) from openai_projects")
    users = loader.store_scalar("select count(*) from openai_users")
    keys_per_project = loader.store_rows(
        "select count(k.id) from openai_projects p left join openai_api_keys k "
        "on k.project_id = p.id group by p.id"
    )
    minimum = {
        "openai.usage_completions": math.ceil(days / source.USAGE_BUCKET_LIMIT),
        "openai.costs": math.ceil(days / source.COSTS_BUCKET_LIMIT),
        "openai.projects": math.ceil(projects / source.LIST_LIMIT),
        "openai.users": math.ceil(users / source.LIST_LIMIT),
        # every project must be asked, even one without keys
        "openai.project_api_keys": sum(
            max(1, math.ceil(n / source.LIST_LIMIT)) for (n,) in keys_per_project
        ),
    }
    assert set(full.backfill) == set(minimum)
    for route, pages in minimum.items():
        assert full.backfill[route] <= 1.05 * pages, (route, full.backfill[route], pages)
    assert minimum["openai.usage_completions"] == 3


def test_a_rerun_without_changes_asks_little_and_adds_nothing(full: FullLoad) -> None:
    assert full.counts_after_rerun == full.counts
    assert full.rerun == {
        "openai.costs": 1,
        "openai.project_api_keys": 2,
        "openai.projects": 1,
        "openai.usage_completions": 1,
        "openai.users": 1,
    }
    assert_window_equals_store(full.loader, full.start)


def test_the_admin_key_never_reaches_the_warehouse_the_trace_or_an_error(
    loader: Loader, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    key = SIM_CREDENTIALS["openai"]
    monkeypatch.setenv(START_ENV, "2026-10-28")
    run_load("openai", loader.warehouse, pipelines_dir=tmp_path)  # keeps dlt's trace and state
    files = [f for f in tmp_path.rglob("*") if f.is_file()]
    assert any(f.name == "trace.pickle" for f in files)
    assert not [f for f in files if key.encode() in f.read_bytes()]
    with duckdb.connect(str(loader.warehouse), read_only=True) as con:
        tables = con.execute("select table_schema, table_name from information_schema.tables")
        for schema, table in tables.fetchall():
            dump = str(con.execute(f'select * from "{schema}"."{table}"').fetchall())
            assert key not in dump, table
    monkeypatch.setenv("SOURCES__OPENAI__ADMIN_API_KEY", "sk-admin-wrong-key-123")
    with pytest.raises(LoadFailed) as failed:
        loader.load("openai")
    assert "401" in str(failed.value) and "wrong-key" not in str(failed.value)


# --- changes, faults, failures -------------------------------------------------------------


def test_changes_between_runs_arrive_without_duplicates(
    loader: Loader, monkeypatch: pytest.MonkeyPatch
) -> None:
    start = loader.sim.history_start()
    monkeypatch.setenv(START_ENV, start)
    loader.sim.set_now(EARLIER)
    loader.load("openai")
    assert_window_equals_store(loader, start, EARLIER.date())
    last_used_before = loader.scalar("select max(last_used_at) from raw_openai.api_keys")

    loader.sim.set_now(AS_OF)
    loader.sim.reset_stats()
    loader.load("openai")
    assert_window_equals_store(loader, start)
    # a changed list record is updated in place
    assert loader.scalar("select count(*) from raw_openai.api_keys") == 5
    assert loader.scalar("select max(last_used_at) from raw_openai.api_keys") > last_used_before
    # at most 1.05 x the pages the changed days need: the look-back days fit in that margin
    changed = (AS_OF - EARLIER).days
    by_route = loader.sim.stats()["by_route"]
    assert by_route["openai.usage_completions"] <= math.ceil(changed / source.USAGE_BUCKET_LIMIT)
    assert by_route["openai.costs"] <= math.ceil(changed / source.COSTS_BUCKET_LIMIT)


def test_retried_faults_leave_the_data_complete_and_the_logs_clean(
    loader: Loader, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.setenv(START_ENV, RECENT)
    faults = [
        Fault("rate_limit", path=r"usage/completions$"),
        Fault("server_error", path=r"/costs$", times=2),
        Fault("slow", path=r"/users$", delay=0.3),
        Fault("invalid_json", path=r"api_keys$", skip=1),
        Fault("truncated", path=r"/projects$"),
    ]
    for fault in faults:
        fault.vendor = "openai"
        loader.sim.inject(fault)
    with caplog.at_level(logging.DEBUG):
        counts = loader.load("openai")
    assert [f.hits for f in faults] == [f.times for f in faults]
    assert_window_equals_store(loader, RECENT)
    assert table_counts(loader)["api_keys"] == 5 and "quarantine" not in counts
    retried = [r.getMessage() for r in caplog.records if "retrying" in r.getMessage()]
    assert len(retried) == 5  # the slow answer needs no retry; server_error hits twice
    assert SIM_CREDENTIALS["openai"] not in caplog.text


def test_a_failed_run_resumes_without_gaps_or_duplicates(
    loader: Loader, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(START_ENV, "2026-10-10")
    loader.sim.set_now(datetime(2026, 10, 20))
    loader.load("openai")
    before = table_counts(loader)

    loader.sim.set_now(AS_OF)
    loader.sim.inject(Fault("server_error", vendor="openai", path=r"api_keys$", times=-1))
    with pytest.raises(LoadFailed, match="503"):
        loader.load("openai")
    assert table_counts(loader) == before  # nothing of the failed run, cursors included

    loader.sim.faults.clear()
    loader.load("openai")
    assert_window_equals_store(loader, "2026-10-10")
    assert table_counts(loader)["api_keys"] == 5


def test_malformed_records_are_quarantined_and_the_rest_loads(
    loader: Loader, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(START_ENV, RECENT)
    loader.sim.inject(Fault("malformed", vendor="openai", path=r"usage/completions$"))
    loader.sim.inject(Fault("malformed", vendor="openai", path=r"/users$"))
    counts = loader.load("openai")
    assert counts["quarantine"] == 2
    quarantined = loader.rows(
        "select source, resource, reason, payload from raw_openai.quarantine order by resource"
    )
    assert [(q[0], q[1]) for q in quarantined] == [
        ("openai", "completions_usage"),
        ("openai", "users"),
    ]
    assert all('"_malformed": true' in q[3] for q in quarantined)
    assert "unusable bucket" in quarantined[0][2] and "id" in quarantined[1][2]
    # the broken bucket is the first day's: every other day of usage is there, exactly
    first_day = date.fromisoformat(RECENT)
    want = [r for r in store_usage(loader, RECENT, AS_OF_DAY) if r[0] != first_day]
    assert warehouse_usage(loader) == want
    assert warehouse_costs(loader) == expected_costs(loader, RECENT, AS_OF_DAY)
    assert table_counts(loader)["users"] == 2


def test_registered_and_buildable_without_configuration() -> None:
    from pipelines.sources import SOURCES

    spec = SOURCES["openai"]
    built = spec.factory(**spec.spec_args)
    assert list(built.resources) == [
        "completions_usage",
        "costs",
        "projects",
        "users",
        "api_keys",
        "quarantine",
    ]


# --- projections of messy records ------------------------------------------------------------


def _conformer(table: Table) -> tuple[Conformer, Quarantine]:
    quarantine = Quarantine("openai")
    return Conformer.of(table, quarantine), quarantine


BUCKET = {
    "bucket_start": datetime.fromisoformat("2026-10-01T00:00:00+00:00"),
    "bucket_end": datetime.fromisoformat("2026-10-02T00:00:00+00:00"),
}


def test_usage_rows_take_old_and_new_response_shapes() -> None:
    conformer, quarantine = _conformer(source.COMPLETIONS_USAGE.table)
    old = {**BUCKET, "object": "x", "input_tokens": 10, "output_tokens": 1, "batch": None}
    new = {
        **old,
        "user_id": "",
        "batch": False,
        "input_cache_write_tokens": 4,
        "input_uncached_tokens": 6,
    }
    rows = conformer.rows([old, new, {**old, "input_tokens": "ten"}])
    assert len(rows) == 2 and len(quarantine.rows) == 1
    assert rows[0]["input_cached_tokens"] is None and "object" not in rows[0]
    # fields the API added pass through, as JSON text
    added = {"input_cache_write_tokens": 4, "input_uncached_tokens": 6}
    assert json.loads(rows[1]["_extra"]) == added
    assert rows[0]["row_key"] != rows[1]["row_key"]  # null user and batch != "" and False


def test_cost_amounts_come_from_the_float_and_bad_ones_are_quarantined() -> None:
    conformer, quarantine = _conformer(source.COSTS.table)
    amounts = [0.1, 1e-07, 42, "nan", None, {"value": 1}]
    rows = conformer.rows(
        {**BUCKET, "amount": {"value": v, "currency": "usd"}, "line_item": "gpt, ü"}
        for v in amounts
    )
    assert [r["amount_usd"] for r in rows] == [Decimal("0.1"), Decimal("1E-7"), Decimal(42)]
    assert len(quarantine.rows) == 3
    assert conformer.rows([{**BUCKET, "line_item": "no amount"}]) == []


def test_api_key_owners_of_every_kind() -> None:
    conformer, quarantine = _conformer(source.API_KEYS)
    base = {"id": "key_1", "project_id": "proj_a", "created_at": 1_760_000_000}
    user = {"type": "user", "user": {"id": "user-1", "email": "zoë@acme.example", "name": "Zoë"}}
    robot = {"type": "service_account", "service_account": {"id": "svc_1", "name": "ci"}}
    rows = conformer.rows([{**base, "owner": user}, {**base, "owner": robot}, base])
    assert not quarantine.rows
    assert [(r["owner_type"], r["owner_id"], r["owner_email"]) for r in rows] == [
        ("user", "user-1", "zoë@acme.example"),
        ("service_account", "svc_1", None),
        (None, None, None),
    ]
    assert rows[0]["created_at"].year == 2025
