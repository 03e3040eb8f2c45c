"""The daily schedule and the quality gates, run through Dagster on the tiny organisation.

One warehouse, one Dagster instance, the schedule's run requests for two consecutive days
(these are the module's whole-graph runs, so the job's other properties are checked here too:
run metadata, dbt tests as asset checks, no secret in the warehouse or the events):
1. The first tick (06:00 in Berlin on 31 October) asks for 30 October. Its run loads only that
   UTC day's billing buckets (and everything else the simulated vendors say changed up to
   the tick), and the whole graph materializes with every check passing.
2. A raw pull request is corrupted and the run is retried: the blocking GX check on the raw
   table fails with the row as a sample, and no dbt op runs: the marts keep their build.
3. The row is fixed and the next day's tick runs: the checks pass, the marts are rebuilt,
   and the billing tables and int_ai_spend gain exactly 31 October.
4. The publication: the first run publishes the marts; a reader in another process holds it
   open through the corrupted run, which leaves it byte-for-byte, and through the next one,
   which succeeds all the same and publishes anew; the reader reads on, on the file it
   opened, and a new connection reads the new publication, equal to the warehouse's marts,
   through SQLAlchemy's duckdb-engine too.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import logging
import shutil
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path
from zoneinfo import ZoneInfo

import dagster as dg
import duckdb
import pytest
import sqlalchemy as sa

from org_simulator.credentials import SIM_CREDENTIALS
from org_simulator.server import SimulatorServer
from org_simulator.sources_env import simulator_sources_env
from pipelines.orchestration.dbt.docs import DBT_DOCS
from pipelines.orchestration.dbt.unrun_tests import PLANNER_LOGGER
from pipelines.orchestration.definitions import build_definitions
from pipelines.orchestration.dlt.assets import source_assets
from pipelines.orchestration.partitions import range_tags
from pipelines.orchestration.publication import PUBLICATION
from pipelines.orchestration.resources import WarehouseResource
from pipelines.serving.dbt_docs import STATIC_PAGE, docs_dir
from pipelines.serving.publication import read_about
from pipelines.transform.dbt_runner import MANIFEST
from tests.daily_job import TEST_SETTINGS, org_settings
from tests.docs_catalog import mart_columns
from tests.publication_reader import Answer, answers, reader

BERLIN = ZoneInfo("Europe/Berlin")
FIRST_TICK = datetime(2026, 10, 31, 6, 0, tzinfo=BERLIN)
SECOND_TICK = datetime(2026, 11, 1, 6, 0, tzinfo=BERLIN)
FIRST_DAY, SECOND_DAY = date(2026, 10, 30), date(2026, 10, 31)

RAW_PRS = dg.AssetKey(["raw_github", "pull_requests"])
RAW_PRS_CHECK = dg.AssetCheckKey(RAW_PRS, "gx_raw_github__pull_requests")
BOARD = dg.AssetKey(["marts", "mart_outcome_board"])
DBT_OPS = {"dbt_foundation", "dbt_daily_spend", "dbt_outcomes"}
DLT_IDS = ("_dlt_load_id", "_dlt_id", "_dlt_parent_id", "_dlt_root_id")
# (raw table, its day column, the store's table and day column): one raw row per store row.
BILLING = [
    ("raw_anthropic.messages_usage", "bucket_start", "anthropic_messages_usage", "bucket_date"),
    ("raw_openai.completions_usage", "bucket_start", "openai_completions_usage", "bucket_date"),
    ("raw_anthropic.claude_code_usage", "usage_date", "anthropic_claude_code_usage", "date"),
]


@dataclass
class Tick:
    request: dg.RunRequest
    result: dg.ExecuteInProcessResult
    billing_days: dict[str, dict[date, int]]  # raw table -> rows per day after the run
    spend: dict[tuple[date, str], Decimal]  # (day, provider) -> int_ai_spend cost after the run
    board: list[tuple]  # mart_outcome_board after the run
    pull_requests: tuple[int, int]  # raw pull requests after the run: rows, distinct ids


@dataclass
class Published:
    """The publication file after a run."""

    digest: str  # sha256 of its bytes
    about: dict | None  # its publication.about row, read on a new connection
    pull_requests: int  # rows of its marts.fct_pull_requests
    files: list[str]  # the names in its directory


@dataclass
class Scenario:
    store: Path
    warehouse: Path
    defs: dg.Definitions
    instance: dg.DagsterInstance
    first: Tick
    corrupted: Tick
    second: Tick
    unchanged: Tick  # the second tick's run again at once: nothing new
    before_second: Path  # a copy of the warehouse as the second tick found it
    corrupt_id: int
    publication: Path
    published: dict[str, Published]  # tick name -> the publication after it
    reader: list[Answer]  # the reader's answers, from before the corrupted run to after the second
    second_run_window: tuple[float, float]  # time.time() when the second run started and ended
    planner_warnings: list[str]  # what Dagster's planner logged during the second tick


def _published(path: Path) -> Published:
    return Published(
        hashlib.sha256(path.read_bytes()).hexdigest(),
        read_about(path),
        _query(path, "select count(*) from marts.fct_pull_requests")[0][0],
        sorted(p.name for p in path.parent.iterdir()),
    )


def _query(path: Path, sql: str) -> list[tuple]:
    with duckdb.connect(str(path), read_only=True) as con:
        return con.execute(sql).fetchall()


def _tick(
    sim: SimulatorServer,
    when: datetime,
    defs: dg.Definitions,
    instance: dg.DagsterInstance,
    warehouse: Path,
) -> Tick:
    """Evaluate the schedule at `when`, run what it requests with the vendors' clock there."""
    schedule = defs.resolve_schedule_def("daily_warehouse_schedule")
    context = dg.build_schedule_context(
        instance=instance, scheduled_execution_time=when, repository_def=defs.get_repository_def()
    )
    (request,) = schedule.evaluate_tick(context).run_requests
    sim.set_now(when.astimezone(UTC).replace(tzinfo=None))  # the simulator keeps naive UTC
    result = defs.resolve_job_def("daily_warehouse_job").execute_in_process(
        instance=instance,
        partition_key=request.partition_key,
        tags=request.tags,
        raise_on_error=False,
    )
    billing = {
        table: dict(_query(warehouse, f"select {col}::date, count(*) from {table} group by 1"))
        for table, col, _store, _store_col in BILLING
    }
    spend = dict(
        ((day, provider), usd)
        for day, provider, usd in _query(
            warehouse,
            "select day, provider, sum(cost_usd)::decimal(38, 6) "
            "from intermediate.int_ai_spend group by 1, 2",
        )
    )
    board = _query(warehouse, "select * from marts.mart_outcome_board order by all")
    (prs,) = _query(warehouse, "select count(*), count(distinct id) from raw_github.pull_requests")
    return Tick(request, result, billing, spend, board, prs)


@pytest.fixture(scope="module")
def scenario(tiny_store: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Scenario]:
    warehouse = tmp_path_factory.mktemp("scheduled") / "warehouse.duckdb"
    settings = org_settings(tiny_store, warehouse)
    defs = build_definitions(settings)
    instance = dg.DagsterInstance.ephemeral()
    reader_log = tmp_path_factory.mktemp("reader") / "answers.jsonl"
    published = {}
    with (
        SimulatorServer(tiny_store) as sim,
        pytest.MonkeyPatch.context() as mp,
        contextlib.ExitStack() as reading,
    ):
        for key, value in simulator_sources_env(sim).items():
            mp.setenv(key, value)
        # one checkpointed run per repository, so the GitHub step aggregates several dlt runs
        mp.setenv("SOURCES__GITHUB__REPOSITORIES_PER_RUN", "1")
        first = _tick(sim, FIRST_TICK, defs, instance, warehouse)
        published["first"] = _published(settings.publication_path)
        # From here on a reader holds the publication open, as a BI tool would.
        reading.enter_context(reader(settings.publication_path, reader_log))

        # The oldest pull request: outside every look-back, so no load re-reads it.
        with duckdb.connect(str(warehouse)) as con:
            corrupt_id, state = con.execute(
                "select id, state from raw_github.pull_requests order by updated_at, id limit 1"
            ).fetchone()
            con.execute(
                "update raw_github.pull_requests set state = 'exploded' where id = ?", [corrupt_id]
            )
        corrupted = _tick(sim, FIRST_TICK, defs, instance, warehouse)
        published["corrupted"] = _published(settings.publication_path)

        with duckdb.connect(str(warehouse)) as con:
            con.execute(
                "update raw_github.pull_requests set state = ? where id = ?", [state, corrupt_id]
            )
        before_second = tmp_path_factory.mktemp("before_second") / "warehouse.duckdb"
        shutil.copyfile(warehouse, before_second)
        started = time.time()
        with _logged(PLANNER_LOGGER) as planner_warnings:
            second = _tick(sim, SECOND_TICK, defs, instance, warehouse)
        ended = time.time()
        published["second"] = _published(settings.publication_path)
        while not [a for a in answers(reader_log) if a.at > ended + 0.5]:
            time.sleep(0.1)  # the reader still answers after the run
        unchanged = _tick(sim, SECOND_TICK, defs, instance, warehouse)
        published["unchanged"] = _published(settings.publication_path)
    yield Scenario(
        tiny_store,
        warehouse,
        defs,
        instance,
        first,
        corrupted,
        second,
        unchanged,
        before_second,
        corrupt_id,
        settings.publication_path,
        published,
        answers(reader_log),
        (started, ended),
        planner_warnings,
    )


@contextlib.contextmanager
def _logged(logger_name: str) -> Iterator[list[str]]:
    """The messages `logger_name` lets through (its filters applied) during the block."""
    messages: list[str] = []

    class Keep(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            messages.append(record.getMessage())

    handler, logger = Keep(), logging.getLogger(logger_name)
    logger.addHandler(handler)
    try:
        yield messages
    finally:
        logger.removeHandler(handler)


def _store_rows_per_day(store: Path, table: str, column: str) -> dict[date, int]:
    return dict(_query(store, f"select {column}::date, count(*) from {table} group by 1"))


def _truth_spend(store: Path, day: date) -> dict[str, Decimal]:
    return dict(
        _query(
            store,
            "select provider, sum(cost_usd) from truth_spend "
            f"where day = '{day.isoformat()}' group by 1",
        )
    )


def _materialized(tick: Tick) -> set[dg.AssetKey]:
    return {e.asset_key for e in tick.result.get_asset_materialization_events()}


def _executed_steps(tick: Tick) -> set[str]:
    return {e.step_key for e in tick.result.all_events if e.event_type_value == "STEP_START"}


# --- 1. the first tick ---------------------------------------------------------------------


def test_first_tick_requests_the_last_complete_utc_day(scenario: Scenario):
    # 06:00 in Berlin on 31 October is 05:00 UTC: the last complete UTC day is the 30th.
    assert scenario.first.request.partition_key == FIRST_DAY.isoformat()
    assert scenario.first.request.run_key == FIRST_DAY.isoformat()


def test_first_tick_materializes_the_whole_graph(scenario: Scenario):
    result = scenario.first.result
    assert result.success
    graph = scenario.defs.resolve_asset_graph()
    assert _materialized(scenario.first) == set(graph.get_all_asset_keys())
    evaluations = result.get_asset_check_evaluations()
    assert [e.asset_check_key for e in evaluations if not e.passed] == []
    names = {e.asset_check_key.name for e in evaluations}
    # GX suites, dbt's data tests and the freshness checks, all as asset checks
    assert {
        "gx_raw_github__pull_requests",
        "gx_mart_outcome_board",
        "unique_stg_github__pull_requests_pull_request_id",
        "freshness_check",
    } <= names
    assert len(evaluations) > 300


def test_raw_table_metadata(scenario: Scenario):
    (event,) = [
        e
        for e in scenario.first.result.get_asset_materialization_events()
        if e.asset_key == RAW_PRS
    ]
    metadata = event.materialization.metadata
    rows, ids = scenario.first.pull_requests
    assert metadata["rows_loaded"].value == rows == ids > 0
    repos = _query(scenario.store, "select count(*) from gh_repositories")[0][0]
    assert metadata["dlt_runs"].value == repos > 1  # one materialization for all checkpoints
    assert "merged_at" in {c.name for c in metadata["dagster/column_schema"].value.columns}
    assert metadata["api_requests"].value >= repos


def test_secrets_never_reach_warehouse_or_events(scenario: Scenario):
    secrets = [v for k, v in SIM_CREDENTIALS.items() if k != "jira_email"]
    # the warehouse, and everything beside it (its dbt docs included)
    for path in [p for p in scenario.warehouse.parent.rglob("*") if p.is_file()]:
        content = path.read_bytes()
        for secret in secrets:
            assert secret.encode() not in content, (path, secret)
    for tick in (scenario.first, scenario.corrupted, scenario.second):
        events = "\n".join(repr(e) for e in tick.result.all_events)
        for secret in secrets:
            assert secret not in events


def test_first_tick_loads_only_its_days_billing(scenario: Scenario):
    for table, _col, store_table, store_col in BILLING:
        truth = _store_rows_per_day(scenario.store, store_table, store_col)
        assert scenario.first.billing_days[table] == {FIRST_DAY: truth[FIRST_DAY]}, table
    (usage,) = [
        e
        for e in scenario.first.result.get_asset_materialization_events()
        if e.asset_key == dg.AssetKey(["raw_anthropic", "messages_usage"])
    ]
    metadata = usage.materialization.metadata
    assert usage.partition == FIRST_DAY.isoformat()
    assert metadata["window"].value == "[2026-10-30, 2026-10-31)"
    assert (
        metadata["rows_loaded"].value
        == scenario.first.billing_days["raw_anthropic.messages_usage"][FIRST_DAY]
    )
    assert metadata["api_requests"].value > 0
    assert metadata["quarantined_records"].value == 0


def test_first_tick_spend_equals_truth_for_its_day(scenario: Scenario):
    truth = _truth_spend(scenario.store, FIRST_DAY)
    assert {day for day, _provider in scenario.first.spend} == {FIRST_DAY}
    for provider, usd in truth.items():
        assert abs(scenario.first.spend[(FIRST_DAY, provider)] - usd) <= Decimal("0.00001")


def test_run_metadata_for_dbt_and_checks(scenario: Scenario):
    events = scenario.first.result.get_asset_materialization_events()
    (board,) = [e for e in events if e.asset_key == BOARD]
    assert board.materialization.metadata["Execution Duration"].value > 0
    (check,) = [
        e
        for e in scenario.first.result.get_asset_check_evaluations()
        if e.asset_check_key == RAW_PRS_CHECK
    ]
    assert check.metadata["rows_validated"].value > 0


# --- 2. a corrupt raw row --------------------------------------------------------------------


def test_corrupt_row_fails_the_blocking_check_with_the_row(scenario: Scenario):
    result = scenario.corrupted.result
    assert not result.success
    evaluations = {e.asset_check_key: e for e in result.get_asset_check_evaluations()}
    failed = evaluations[RAW_PRS_CHECK]
    assert not failed.passed and failed.severity == dg.AssetCheckSeverity.ERROR
    (failure,) = [
        f
        for f in failed.metadata["failures"].value
        if f["expectation"] == "expect_column_values_to_be_in_set"
    ]
    assert failure["unexpected_count"] == 1
    assert any(row.get("id") == scenario.corrupt_id for row in failure["sample_rows"])
    # the other raw suites still ran and passed
    assert all(e.passed for key, e in evaluations.items() if key != RAW_PRS_CHECK)


def test_corrupt_row_holds_back_every_dbt_op_and_mart(scenario: Scenario):
    assert RAW_PRS in _materialized(scenario.corrupted)  # the load itself ran
    assert _executed_steps(scenario.corrupted).isdisjoint(DBT_OPS)
    assert not any(key.path[0] == "marts" for key in _materialized(scenario.corrupted))
    assert DBT_DOCS not in _materialized(scenario.corrupted)
    assert scenario.corrupted.board == scenario.first.board
    latest = scenario.instance.get_latest_materialization_event(BOARD)
    assert latest is not None and latest.run_id != scenario.corrupted.result.run_id


# --- 3. fixed, and the next day's tick ------------------------------------------------------------


def test_fixed_row_rebuilds_the_marts(scenario: Scenario):
    result = scenario.second.result
    assert result.success
    assert _executed_steps(scenario.second) >= DBT_OPS
    assert BOARD in _materialized(scenario.second)
    latest = scenario.instance.get_latest_materialization_event(BOARD)
    assert latest.run_id == result.run_id
    check = {e.asset_check_key: e for e in result.get_asset_check_evaluations()}[RAW_PRS_CHECK]
    assert check.passed


def test_the_run_leaves_dbt_docs_of_every_mart_column_beside_the_warehouse(scenario: Scenario):
    """The docs step ran after the marts: its page, whose catalog lists every mart the
    warehouse holds with every column it has, each described. The next day's run, which
    changed rows but no code and no column, left the docs as they were."""
    (event,) = [
        e
        for e in scenario.first.result.get_asset_materialization_events()
        if e.asset_key == DBT_DOCS
    ]
    assert "serving__dbt_docs" in _executed_steps(scenario.second)
    assert DBT_DOCS not in _materialized(scenario.second)
    docs = docs_dir(scenario.warehouse)
    page = docs / STATIC_PAGE
    assert event.materialization.metadata["page"].value == str(page)
    built = {
        mart: [column for column, _type, *_ in _query(scenario.warehouse, f"describe marts.{mart}")]
        for (mart,) in _query(
            scenario.warehouse,
            "select table_name from information_schema.tables where table_schema = 'marts'",
        )
    }
    documented = mart_columns(docs)
    assert len(built) >= 20
    assert {mart: list(columns) for mart, columns in documented.items()} == built
    assert [
        (m, c) for m, cols in documented.items() for c, d in cols.items() if not d.strip()
    ] == []
    # One page, manifest and catalog inlined: it opens from disk with no server.
    html = page.read_text(encoding="utf-8")
    assert "MANIFEST.JSON INLINE DATA" not in html and "CATALOG.JSON INLINE DATA" not in html
    assert documented["mart_ai_assisted_outcomes"]["allocated_cost_per_surviving_pr"][:40] in html


def test_next_tick_adds_exactly_its_day(scenario: Scenario):
    assert scenario.second.request.partition_key == SECOND_DAY.isoformat()
    for table, _col, store_table, store_col in BILLING:
        truth = _store_rows_per_day(scenario.store, store_table, store_col)
        expected = {day: truth[day] for day in (FIRST_DAY, SECOND_DAY) if day in truth}
        assert scenario.second.billing_days[table] == expected, table
    # int_ai_spend is incremental: the new day is added, the first day is left as it was.
    for (day, provider), usd in scenario.first.spend.items():
        assert scenario.second.spend[(day, provider)] == usd
    truth = _truth_spend(scenario.store, SECOND_DAY)
    assert {day for day, _provider in scenario.second.spend} == {FIRST_DAY, SECOND_DAY}
    for provider, usd in truth.items():
        assert abs(scenario.second.spend[(SECOND_DAY, provider)] - usd) <= Decimal("0.00001")


def _rebuilt(tick: Tick) -> set[str]:
    """The dbt models and seeds the run's dbt ops built (not those reported unchanged)."""
    return {
        e.asset_key.path[-1]
        for e in tick.result.get_asset_materialization_events()
        if e.step_key in DBT_OPS and "rebuilt" not in e.materialization.metadata
    }


def _raw_tables_changed(before: Path, after: Path, tables: list[tuple[str, str]]) -> set:
    """The raw tables whose rows differ (dlt's load and row ids aside: a re-read row gets new
    ones)."""
    changed = set()
    with duckdb.connect(str(after), read_only=True) as con:
        con.execute(f"attach '{before}' as before (read_only)")
        present = {
            (db, s, t)
            for db, s, t in con.execute(
                "select table_catalog, table_schema, table_name from information_schema.tables"
            ).fetchall()
        }
        for schema, table in tables:
            here = ("warehouse", schema, table) in present
            there = ("before", schema, table) in present
            if here != there:
                changed.add((schema, table))
            elif here:
                columns = con.execute(f"select * from {schema}.{table} limit 0").description
                ids = [c[0] for c in columns if c[0] in DLT_IDS]
                rows = f"* exclude ({', '.join(ids)})" if ids else "*"
                diff = con.execute(
                    f"select count(*) from ((select {rows} from {schema}.{table} except all "
                    f"select {rows} from before.{schema}.{table}) union all "
                    f"(select {rows} from before.{schema}.{table} except all "
                    f"select {rows} from {schema}.{table}))"
                ).fetchone()[0]
                if diff:
                    changed.add((schema, table))
    return changed


def test_a_days_tick_builds_exactly_the_models_its_new_data_reaches(scenario: Scenario):
    """What the second tick rebuilt is what lies downstream of the raw tables whose rows it
    changed (their dlt child tables counted with them) and of the new day's spend partition,
    found here from the manifest's graph and the tables' rows, and nothing else."""
    manifest = json.loads(MANIFEST.read_text())
    sources = {
        uid: (s["schema"], s.get("identifier") or s["name"])
        for uid, s in manifest["sources"].items()
    }
    with duckdb.connect(str(scenario.warehouse), read_only=True) as con:
        raw = con.execute(
            "select table_schema, table_name from information_schema.tables "
            "where table_schema like 'raw_%' and table_name not like '_dlt%'"
        ).fetchall()
    changed_tables = _raw_tables_changed(scenario.before_second, scenario.warehouse, raw)
    changed_sources = {
        uid
        for uid, (schema, table) in sources.items()
        if any(
            s == schema and (t == table or t.startswith(table + "__")) for s, t in changed_tables
        )
    }
    assert changed_sources, "the new day changed no raw table"
    starts = changed_sources | {"model.ai_outcomes_warehouse.int_ai_spend"}
    reached, stack = set(), list(starts)
    while stack:
        for child in manifest["child_map"].get(stack.pop(), []):
            if child not in reached:
                reached.add(child)
                stack.append(child)
    reached |= starts
    expected = {
        manifest["nodes"][uid]["name"]
        for uid in reached
        if uid in manifest["nodes"] and manifest["nodes"][uid]["resource_type"] in ("model", "seed")
    }
    every_model = {
        n["name"] for n in manifest["nodes"].values() if n["resource_type"] in ("model", "seed")
    }
    assert _rebuilt(scenario.second) == expected
    assert expected < every_model  # some models are out of the new data's reach


def test_a_days_tick_does_not_warn_of_the_tests_it_leaves_unrun(scenario: Scenario):
    """The second tick does not run the tests of the models its data does not reach (each
    passed on the same inputs); Dagster's planner would log a warning for each of those
    blocking checks without a result, and logs none."""
    manifest = json.loads(MANIFEST.read_text())
    dbt_tests = {n["name"] for n in manifest["nodes"].values() if n["resource_type"] == "test"}
    evaluated = {
        e.asset_check_key.name for e in scenario.second.result.get_asset_check_evaluations()
    }
    assert dbt_tests - evaluated, "the tick ran every dbt test: nothing was left unrun"
    assert not [m for m in scenario.planner_warnings if any(f":{name}'" in m for name in dbt_tests)]


def test_a_tick_with_no_new_data_builds_no_model_and_publishes_nothing(scenario: Scenario):
    result = scenario.unchanged.result
    assert result.success
    assert _rebuilt(scenario.unchanged) == set()
    materialized = _materialized(scenario.unchanged)
    assert not [
        key
        for key in materialized
        if key.path[0]
        not in ("raw_anthropic", "raw_github", "raw_jira", "raw_openai", "raw_pagerduty")
    ]
    assert "dbt_outcomes" not in _executed_steps(scenario.unchanged)  # skipped
    assert scenario.unchanged.board == scenario.second.board
    assert scenario.published["unchanged"].digest == scenario.published["second"].digest


def _gx_evaluations(tick: Tick) -> dict[dg.AssetCheckKey, dg.AssetCheckEvaluation]:
    return {
        e.asset_check_key: e
        for e in tick.result.get_asset_check_evaluations()
        if e.asset_check_key.name.startswith("gx_")
    }


def test_a_tick_with_no_new_data_reads_no_raw_table_again_and_says_so(scenario: Scenario):
    """Its loads changed no row: each raw suite passes with the result of the run that last
    read its table, naming it. The pull requests, corrupted and then put back, were read
    again by the second tick (the corrupted run's failure is never repeated)."""
    second = _gx_evaluations(scenario.second)[RAW_PRS_CHECK]
    assert second.passed and second.metadata["evaluated_expectations"].value > 0
    assert "validated_in_run" not in second.metadata
    earlier = {t.result.run_id for t in (scenario.first, scenario.corrupted, scenario.second)}
    unchanged = _gx_evaluations(scenario.unchanged)
    assert len(unchanged) >= 10 and all(e.passed for e in unchanged.values())
    for evaluation in unchanged.values():
        assert evaluation.metadata["evaluated_expectations"].value == 0
        assert evaluation.metadata["rows_validated"].value == 0
        assert evaluation.metadata["validated_in_run"].value in earlier
        assert "unchanged since its validation in run" in evaluation.metadata["note"].value
    prs = unchanged[RAW_PRS_CHECK].metadata["validated_in_run"].value
    assert prs == scenario.second.result.run_id


# --- 4. the publication ---------------------------------------------------------------------


def _step_started(tick: Tick, step: str) -> bool:
    return step in _executed_steps(tick)


def _warehouse_marts(scenario: Scenario) -> list[str]:
    return [
        name
        for (name,) in _query(
            scenario.warehouse,
            "select table_name from duckdb_tables() where schema_name = 'marts' order by 1",
        )
    ]


def test_each_successful_run_publishes_the_marts(scenario: Scenario):
    marts = _warehouse_marts(scenario)
    assert len(marts) >= 22
    for name, tick in (("first", scenario.first), ("second", scenario.second)):
        assert PUBLICATION in _materialized(tick)
        about = scenario.published[name].about
        assert about["run_id"] == tick.result.run_id
        assert about["tables"] == len(marts)
        assert about["as_of"] == datetime(2026, 11, 1)  # the organisation's clock (AOW_AS_OF)
        assert about["built_at"] < about["published_at"]
        (event,) = [
            e for e in tick.result.get_asset_materialization_events() if e.asset_key == PUBLICATION
        ]
        metadata = event.materialization.metadata
        assert metadata["path"].value == str(scenario.publication)
        assert metadata["run_id"].value == tick.result.run_id
        assert metadata["tables"].value == len(marts)
        assert metadata["as_of"].value == "2026-11-01T00:00:00"
        assert metadata["published_at"].value == about["published_at"].timestamp()
        assert metadata["rows"].value == sum(metadata["rows_by_mart"].value.values()) > 0
        assert metadata["size_bytes"].value > 0
        # published within the run, after the last mart was built
        assert 0 < metadata["seconds_after_build"].value < 600
    assert scenario.publication.name == "warehouse.serving.duckdb"  # beside the warehouse


def test_a_failed_blocking_check_leaves_the_publication_byte_for_byte(scenario: Scenario):
    assert not scenario.corrupted.result.success
    assert not _step_started(scenario.corrupted, "publication")
    assert PUBLICATION not in _materialized(scenario.corrupted)
    first, after = scenario.published["first"], scenario.published["corrupted"]
    assert after.digest == first.digest
    assert after.about["run_id"] == scenario.first.result.run_id
    assert after.files == first.files  # no temporary file left beside it


def test_a_reader_holding_the_publication_never_blocks_the_next_run(scenario: Scenario):
    assert scenario.second.result.success  # no lock error: the reader held the file throughout
    started, ended = scenario.second_run_window
    during = [a for a in scenario.reader if started < a.at < ended]
    after = [a for a in scenario.reader if a.at > ended]
    assert len(during) > 20 and after  # it answered all through the run, and after it
    assert [a.error for a in scenario.reader if a.error] == []
    # It reads the publication it opened; a new connection reads the new one, whose pull
    # requests are the warehouse's now (the second day brought one more).
    first, second = scenario.published["first"], scenario.published["second"]
    assert {(a.run_id, a.pull_requests) for a in scenario.reader} == {
        (scenario.first.result.run_id, first.pull_requests)
    }
    assert second.about["run_id"] == scenario.second.result.run_id
    prs = _query(scenario.warehouse, "select count(*) from marts.fct_pull_requests")[0][0]
    assert second.pull_requests == prs > first.pull_requests
    assert scenario.published["second"].digest != scenario.published["first"].digest
    assert scenario.published["second"].files == scenario.published["first"].files


def test_the_published_marts_equal_the_warehouses(scenario: Scenario):
    columns = (
        "select table_name, column_index, column_name, data_type from duckdb_columns() "
        "where database_name = '{db}' and schema_name = 'marts' order by all"
    )
    with duckdb.connect() as con:
        con.execute(f"attach '{scenario.warehouse}' as w (read_only)")
        con.execute(f"attach '{scenario.publication}' as p (read_only)")
        warehouse_columns = con.execute(columns.format(db="w")).fetchall()
        assert con.execute(columns.format(db="p")).fetchall() == warehouse_columns
        for mart in _warehouse_marts(scenario):
            counts = con.execute(
                f"select (select count(*) from w.marts.{mart}), "
                f"(select count(*) from p.marts.{mart}), "
                f"(select count(*) from (from w.marts.{mart} except all from p.marts.{mart})), "
                f"(select count(*) from (from p.marts.{mart} except all from w.marts.{mart}))"
            ).fetchone()
            assert counts[:2] == (counts[0], counts[0]) and counts[2:] == (0, 0), mart
        assert (
            con.execute(
                "select source, is_available, last_successful_load_at, is_stale, status "
                "from p.publication.source_freshness order by source"
            ).fetchall()
            == con.execute(
                "select source, is_available, last_successful_load_at at time zone 'UTC', "
                "is_stale, status from w.marts.mart_source_coverage order by source"
            ).fetchall()
        )
        checks = con.execute(
            "select check_name, asset_key, passed, severity, blocking, evaluated_at "
            "from p.publication.quality_checks"
        ).fetchall()
    # Every check evaluated on the marts or upstream of them; none on a model no mart reads.
    upstream = scenario.defs.resolve_asset_graph().get_ancestor_asset_keys(PUBLICATION)
    evaluated = {
        e.asset_check_key
        for tick in (scenario.first, scenario.corrupted, scenario.second)
        for e in tick.result.get_asset_check_evaluations()
    }
    assert {(name, key) for name, key, *_ in checks} == {
        (key.name, key.asset_key.to_user_string()) for key in evaluated if key.asset_key in upstream
    }
    assert "assert_spend_reconciles_with_billing" not in {name for name, *_ in checks}
    assert all(passed for _, _, passed, *_ in checks)
    by_key = {(name, key): tuple(row) for name, key, *row in checks}
    # the raw table's suite: failed in the corrupted run, its latest result is the second's
    _passed, severity, blocking, evaluated_at = by_key[
        ("gx_raw_github__pull_requests", "raw_github/pull_requests")
    ]
    assert (severity, blocking) == ("ERROR", True)
    started, ended = scenario.second_run_window
    assert started < evaluated_at.timestamp() < ended
    # (severity, blocking) as each check is defined
    assert by_key[("quarantine_share", "raw_github/pull_requests")][1:3] == ("ERROR", True)
    assert by_key[("no_failed_source_loads", "marts/mart_source_coverage")][1:3] == ("ERROR", True)
    assert by_key[("freshness_check", "raw_github/pull_requests")][1:3] == ("WARN", False)
    dbt_test = "unique_stg_github__pull_requests_pull_request_id"
    assert (dbt_test, "staging/stg_github__pull_requests") in by_key


def test_sqlalchemy_duckdb_engine_reads_every_published_mart(scenario: Scenario):
    """As Superset connects: duckdb-engine's URL, read-only, a connection per use."""
    engine = sa.create_engine(
        f"duckdb:///{scenario.publication}",
        connect_args={"read_only": True},
        poolclass=sa.pool.NullPool,
    )
    try:
        marts = sorted(sa.inspect(engine).get_table_names(schema="marts"))
        assert marts == _warehouse_marts(scenario)
        with engine.connect() as con:
            published = {
                mart: con.execute(sa.text(f"select count(*) from marts.{mart}")).scalar_one()
                for mart in marts
            }
            run_id = con.execute(sa.text("select run_id from publication.about")).scalar_one()
    finally:
        engine.dispose()
    warehouse = {
        mart: _query(scenario.warehouse, f"select count(*) from marts.{mart}")[0][0]
        for mart in marts
    }
    assert published == warehouse and sum(warehouse.values()) > 0
    assert run_id == scenario.second.result.run_id


# --- a backfill ---------------------------------------------------------------------------------


def test_backfill_of_a_range_is_one_run_of_exactly_those_days(
    tiny_store: Path, tmp_path: Path, monkeypatch
):
    """Three days of the billing sources as one run (their single-run backfill policy)."""
    warehouse = tmp_path / "backfill.duckdb"
    sources = source_assets(TEST_SETTINGS.source_retry_delay, TEST_SETTINGS.partitions_start)
    billing = [a for a in sources if a.partitions_def is not None]
    assert {a.op.name for a in billing} == {"anthropic", "openai"}
    with SimulatorServer(tiny_store) as sim:
        for key, value in simulator_sources_env(sim).items():
            monkeypatch.setenv(key, value)
        result = dg.materialize(
            billing,
            resources={"warehouse": WarehouseResource(duckdb_path=str(warehouse))},
            instance=dg.DagsterInstance.ephemeral(),
            tags=range_tags("2026-10-20", "2026-10-22"),
        )
    assert result.success
    days = [date(2026, 10, d) for d in (20, 21, 22)]
    for table, col, store_table, store_col in BILLING:
        truth = _store_rows_per_day(tiny_store, store_table, store_col)
        loaded = dict(_query(warehouse, f"select {col}::date, count(*) from {table} group by 1"))
        assert loaded == {day: truth[day] for day in days if day in truth}, table
    partitions = {
        e.partition
        for e in result.get_asset_materialization_events()
        if e.asset_key == dg.AssetKey(["raw_openai", "costs"])
    }
    assert partitions == {day.isoformat() for day in days}
