"""Any set of vendors, any report empty: the tiny organisation built with each vendor switched
off in turn, with every billing report empty, and with no raw table at all.

The tiny organisation is loaded once, through the real loaders, into a warehouse of raw tables
(`tiny_raw_warehouse`); each variant copies it and drops the missing vendor's raw schema (what a
warehouse of an organisation that never configured it looks like), or, for empty billing,
loads the billing sources of the organisation generated with empty billing reports through the
real loaders. Every variant must build with every dbt test passing; every mart the missing
vendor does not feed (mart_source_coverage, from the dbt graph) must equal the full build's
row for row; the marts it feeds must say so: the coverage mart says the vendor is not
available and lists them, and the figures that need it are null with their reason, never 0.

The variants run in two xdist groups, so the two workers build them side by side.
"""

from __future__ import annotations

import json
import os
import re
import shutil
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

import duckdb
import pytest

from org_simulator.demo import store_path
from org_simulator.options import BILLING_PROVIDERS, VENDORS, Generation
from org_simulator.seeds import simulated_org_settings
from org_simulator.server import SimulatorServer
from org_simulator.sources_env import simulator_sources_env
from org_simulator.testing import TINY_SEED
from pipelines.ingest.loads import SourceNotConfigured, run_load
from pipelines.serving.summary import format_summary, outcome_summary
from pipelines.settings import Settings
from pipelines.transform.dbt_runner import MANIFEST, BuildResult, build_models
from tests.conftest import shared_file

GROUP_A = pytest.mark.xdist_group("optional_sources_a")
GROUP_B = pytest.mark.xdist_group("optional_sources_b")

# variant -> (vendors whose raw schema is dropped, billing providers whose reports are empty)
VARIANTS = {
    "no_github": (("github",), ()),
    "no_jira": (("jira",), ()),
    "no_pagerduty": (("pagerduty",), ()),
    "no_anthropic": (("anthropic",), ()),
    "no_openai": (("openai",), ()),
    "empty_billing": ((), BILLING_PROVIDERS),
}
VARIANT_PARAMS = [
    pytest.param(
        name, marks=GROUP_A if name in ("no_github", "no_jira", "no_pagerduty") else GROUP_B
    )
    for name in VARIANTS
]
# In these variants the vendor's load ran unconfigured, so the load log (ops.source_loads)
# says it is not configured; in the others the log has no row for it, and availability rests
# on what the warehouse holds.
WITH_LOAD_LOG = {"no_pagerduty", "no_openai"}

# Figures that must be null (with a reason) on every row of their mart when the vendor is off.
NULL_WITHOUT = {
    "github": [
        ("mart_cost_per_outcome", "shipped_prs"),
        ("mart_cost_per_outcome", "cost_per_surviving_pr"),
        ("mart_waste_share", "waste_share"),
        ("mart_waste_share", "unallocated_spend_usd"),
        ("mart_model_mix", "allocated_to_prs_usd"),
        ("mart_unattributed_defects", "attributed_defects"),
        ("mart_agentic_work_units", "work_item_awus"),
        ("mart_outcome_board", "shipped_prs"),
        ("mart_outcome_board", "cost_per_surviving_pr"),
    ],
    "jira": [
        ("mart_bugs_per_shipped_pr", "work_item_defect_weight"),
        ("mart_bugs_per_shipped_pr", "work_item_bugs_per_shipped_pr"),
        ("mart_agentic_work_units", "work_item_awus"),
    ],
    "pagerduty": [
        ("fct_pull_requests", "rolled_back_at"),
        ("mart_production_survival", "rolled_back_within_h"),
        ("mart_bugs_per_shipped_pr", "incident_defect_weight"),
        ("mart_agentic_work_units", "incident_awus"),
        ("mart_dora", "change_failure_rate"),
        ("mart_dora", "recovery_time_median_hours"),
        ("mart_dora_summary", "change_failure_rate"),
        ("mart_dora_summary", "recovered_incidents"),
    ],
    "anthropic": [],
    "openai": [],
}


@dataclass
class Warehouse:
    path: Path
    build: BuildResult | None = None

    def rows(self, sql: str, params: list[Any] | None = None) -> list[tuple[Any, ...]]:
        with duckdb.connect(str(self.path), read_only=True) as con:
            return con.execute(sql, params or []).fetchall()

    def dicts(self, sql: str) -> list[dict[str, Any]]:
        with duckdb.connect(str(self.path), read_only=True) as con:
            cur = con.execute(sql)
            names = [d[0] for d in cur.description]
            return [dict(zip(names, r, strict=True)) for r in cur.fetchall()]

    def tables(self, schema: str) -> list[str]:
        return [
            name
            for (name,) in self.rows(
                "select table_name from information_schema.tables "
                "where table_schema = ? and table_type = 'BASE TABLE' order by 1",
                [schema],
            )
        ]


def _drop_raw(path: Path, vendors: tuple[str, ...]) -> None:
    """The warehouse as if `vendors` had never been loaded: no raw schema, no load-log row."""
    with duckdb.connect(str(path)) as con:
        for vendor in vendors:
            con.execute(f"drop schema if exists raw_{vendor} cascade")
            con.execute(f"drop schema if exists raw_{vendor}_staging cascade")
            con.execute("delete from ops.source_loads where source = ?", [vendor])


def _load_unconfigured(path: Path, off: tuple[str, ...]) -> None:
    """Run the real loads of `off` with none of their settings: each records in the load log
    (ops.source_loads) that the vendor is not configured, and loads nothing."""
    with pytest.MonkeyPatch.context() as mp:
        mp.chdir(path.parent)  # no .dlt/ configuration here
        for source in off:
            for key in [k for k in os.environ if k.startswith(f"SOURCES__{source.upper()}__")]:
                mp.delenv(key)
            with pytest.raises(SourceNotConfigured):
                run_load(source, path)


def _load_empty_billing(raw: Path, path: Path) -> None:
    """The tiny raw warehouse with the billing sources loaded, through the real loaders, from
    the same organisation generated with empty billing reports (its other vendors' data are
    the same)."""
    shutil.copyfile(raw, path)
    _drop_raw(path, BILLING_PROVIDERS)
    store = store_path("tiny", TINY_SEED, generation=Generation(empty_billing=BILLING_PROVIDERS))
    with SimulatorServer(store) as sim, pytest.MonkeyPatch.context() as mp:
        for key, value in simulator_sources_env(sim, vendors=BILLING_PROVIDERS).items():
            mp.setenv(key, value)
        for source in BILLING_PROVIDERS:
            run_load(source, path)


def _build(path: Path, org: Settings, unit_tests: bool = False) -> BuildResult:
    """A build with the organisation's seeds and clock. The unit tests do not read the
    warehouse: the builds of tests/transform run them; here they would only repeat."""
    build = build_models(path, seeds_dir=org.seeds_dir, as_of=org.as_of, unit_tests=unit_tests)
    assert build.error is None
    return build


@pytest.fixture(scope="session")
def full_build(tiny_raw_warehouse, tmp_path_factory) -> Warehouse:
    """Every vendor: the baseline, built once per test run (shared by the workers)."""
    org = simulated_org_settings(store_path("tiny", TINY_SEED))

    def make(path: Path) -> None:
        shutil.copyfile(tiny_raw_warehouse, path)
        build = _build(path, org)
        assert [(n.unique_id, n.message) for n in build.failed] == []

    return Warehouse(shared_file(tmp_path_factory, "tiny-full-build.duckdb", make))


@pytest.fixture(scope="session", params=VARIANT_PARAMS)
def variant(request, tiny_raw_warehouse, tmp_path_factory) -> tuple[str, Warehouse]:
    name = request.param
    off, empty = VARIANTS[name]
    path = tmp_path_factory.mktemp(name) / f"{name}.duckdb"
    if empty:
        _load_empty_billing(tiny_raw_warehouse, path)
        org = simulated_org_settings(
            store_path("tiny", TINY_SEED, generation=Generation(empty_billing=empty))
        )
    else:
        shutil.copyfile(tiny_raw_warehouse, path)
        _drop_raw(path, off)
        org = simulated_org_settings(store_path("tiny", TINY_SEED))
    if name in WITH_LOAD_LOG:
        _load_unconfigured(path, off)
    return name, Warehouse(path, _build(path, org))


def _missing(name: str) -> tuple[str, ...]:
    off, empty = VARIANTS[name]
    return off


def _coverage(warehouse: Warehouse) -> dict[str, dict[str, Any]]:
    return {r["source"]: r for r in warehouse.dicts("select * from marts.mart_source_coverage")}


def _fed_by(coverage: dict[str, dict[str, Any]], sources: tuple[str, ...]) -> set[str]:
    return {m for s in sources for m in coverage[s]["feeds_marts"].split(", ") if m}


def _project_nodes() -> set[str]:
    nodes = json.loads(MANIFEST.read_text(encoding="utf-8"))["nodes"]
    return {uid for uid, n in nodes.items() if n["resource_type"] in ("seed", "model", "test")}


def test_every_variant_builds_with_every_test_passing(variant):
    name, warehouse = variant
    assert [(n.unique_id, n.status, n.message) for n in warehouse.build.failed] == []
    assert {n.status for n in warehouse.build.nodes} <= {"success", "pass"}
    built = {n.unique_id for n in warehouse.build.nodes}
    assert built == _project_nodes()  # every seed, model and data test: a whole build
    assert not [n for n in warehouse.build.nodes if n.unique_id.startswith("unit_test.")]


def test_marts_the_missing_vendor_does_not_feed_equal_the_full_build(variant, full_build):
    name, warehouse = variant
    off, empty = VARIANTS[name]
    coverage = _coverage(warehouse)
    fed = _fed_by(coverage, off or empty)
    marts = set(full_build.tables("marts")) - {"mart_source_coverage"}
    assert set(warehouse.tables("marts")) - {"mart_source_coverage"} == marts
    unfed = sorted(marts - fed)
    assert unfed, "every mart is fed by it: nothing to compare"
    different = {}
    with duckdb.connect(str(warehouse.path), read_only=True) as con:
        con.execute(f"attach '{full_build.path}' as full_build (read_only)")
        for mart in unfed:
            extra, missing = (
                con.execute(
                    f"select count(*) from (select * from {a}.marts.{mart} "
                    f"except all select * from {b}.marts.{mart})"
                ).fetchone()[0]
                for a, b in ((_this(con), "full_build"), ("full_build", _this(con)))
            )
            if extra or missing:
                different[mart] = (extra, missing)
    assert different == {}


def _this(con: duckdb.DuckDBPyConnection) -> str:
    return con.execute("select current_database()").fetchone()[0]


def test_the_coverage_mart_says_which_sources_the_build_rests_on(variant):
    name, warehouse = variant
    off, empty = VARIANTS[name]
    coverage = _coverage(warehouse)
    assert set(coverage) == set(VENDORS)
    for source, row in coverage.items():
        assert row["feeds_marts"] and row["status"]
        if source in off:
            assert (row["is_configured"], row["is_available"]) == (False, False), source
            assert row["raw_rows"] == 0 and row["last_successful_load_at"] is None
            assert row["status"].startswith("Not "), row["status"]
            logged = name in WITH_LOAD_LOG
            assert (row["availability_basis"], row["last_load_status"]) == (
                ("load_log", "not_configured") if logged else ("none", None)
            )
        else:
            assert (row["is_configured"], row["is_available"]) == (True, True), source
            assert row["raw_rows"] > 0 and row["last_successful_load_at"] is not None
        if source in empty:
            # Configured, loaded, nothing used: its zeros are true zeros.
            assert row["first_record_date"] is None
            assert "true zeros" in row["status"], row["status"]
        elif source not in off:
            assert row["first_record_date"] <= row["last_record_date"]


def test_figures_that_need_the_missing_vendor_are_null_with_their_reason(variant):
    name, warehouse = variant
    expected = [pair for vendor in _missing(name) for pair in NULL_WITHOUT[vendor]]
    for mart, figure in expected:
        rows = warehouse.rows(f"select {figure}, unavailable_reason from marts.{mart}")
        assert rows, f"{mart} has no rows: nothing shows the null"
        assert [r for r in rows if r[0] is not None or not r[1]] == [], (mart, figure)
    if "github" in _missing(name):
        # PRs are GitHub's: the PR fact and the marts of PR cohorts have no rows at all.
        for mart in ("fct_pull_requests", "mart_delivery_funnel", "mart_review_hours"):
            assert warehouse.rows(f"select count(*) from marts.{mart}") == [(0,)], mart


def test_no_figure_a_reason_names_is_a_number(variant):
    """Whatever the variant, every figure an unavailable_reason names is null on its row."""
    name, warehouse = variant
    checked = 0
    for mart in warehouse.tables("marts"):
        columns = [
            c
            for (c,) in warehouse.rows(
                "select column_name from information_schema.columns "
                "where table_schema = 'marts' and table_name = ?",
                [mart],
            )
        ]
        if "unavailable_reason" not in columns:
            continue
        for row in warehouse.dicts(
            f"select * from marts.{mart} where unavailable_reason is not null"
        ):
            for figure in _named_figures(row["unavailable_reason"]):
                assert figure in columns, (mart, figure)
                assert row[figure] is None, (mart, figure, row)
                checked += 1
    assert (checked > 0) == bool(set(_missing(name)) - set(BILLING_PROVIDERS))


def _named_figures(reason: str) -> list[str]:
    """The figures of "<who> is not available: a, b are unknown; <who>...: c is unknown"."""
    figures = []
    for sentence in reason.split("; "):
        match = re.fullmatch(r".*?: (.+) (?:is|are) unknown", sentence)
        assert match, sentence
        figures += match.group(1).split(", ")
    return figures


def test_spend_without_one_provider_is_the_others_and_empty_reports_are_true_zeros(
    variant, full_build
):
    name, warehouse = variant
    off, empty = VARIANTS[name]
    spend_sql = "select provider, sum(cost_usd) from intermediate.int_ai_spend__daily group by 1"
    full = dict(full_build.rows(spend_sql))
    mine = dict(warehouse.rows(spend_sql))
    assert mine == {p: usd for p, usd in full.items() if p not in off and p not in empty}
    attributed = warehouse.rows(
        "select sum(attributed_spend_usd), count(*) filter (where unavailable_reason is null) "
        "= count(*) from marts.mart_cost_per_outcome"
    )[0]
    if empty:
        # Configured but unused: spend is a true zero, not unknown.
        assert attributed == (Decimal(0), True)
        assert warehouse.rows(
            "select count(*) from marts.fct_pull_requests where allocated_spend_usd <> 0 "
            "or allocated_spend_usd is null"
        ) == [(0,)]
    else:
        # The other provider's spend, never a zero standing for the missing one's.
        assert attributed[0] > 0
        assert attributed[1] == ("github" not in off)
        providers = warehouse.rows("select distinct provider from marts.mart_model_mix")
        assert {p for (p,) in providers} == set(mine)


@GROUP_A
def test_the_demo_summary_names_what_it_cannot_say(variant):
    """The summary `make demo` prints reads every variant's marts and says what is missing."""
    name, warehouse = variant
    with duckdb.connect(str(warehouse.path), read_only=True) as con:
        summary = outcome_summary(con)
    text = format_summary(summary)
    for vendor in _missing(name):
        assert f"    {vendor}: Not" in text or f"    {vendor}: No" in text, text
    if "github" in _missing(name):
        assert summary.cohorts == [] and "no pull requests in the warehouse" in text
        assert summary.unallocated_spend_usd is None
        assert "n/a: GitHub is not available" in text
    else:
        assert {c.is_ai_assisted for c in summary.cohorts} == {True, False}
    if name == "empty_billing":
        assert summary.total_spend_usd in (None, 0.0)


def test_the_full_build_has_no_unavailable_figure(full_build):
    for mart in full_build.tables("marts"):
        columns = {
            c
            for (c,) in full_build.rows(
                "select column_name from information_schema.columns "
                "where table_schema = 'marts' and table_name = ?",
                [mart],
            )
        }
        if "unavailable_reason" in columns:
            assert full_build.rows(
                f"select count(*) from marts.{mart} where unavailable_reason is not null"
            ) == [(0,)], mart
    assert all(r["is_available"] for r in _coverage(full_build).values())


# --- no raw table at all ---------------------------------------------------------------------


@pytest.fixture(scope="module")
def empty_warehouse(tmp_path_factory) -> Warehouse:
    """A warehouse no loader ever wrote: only the organisation's seeds."""
    path = tmp_path_factory.mktemp("empty") / "empty.duckdb"
    org = simulated_org_settings(store_path("tiny", TINY_SEED))
    return Warehouse(path, _build(path, org, unit_tests=True))


@GROUP_B
def test_the_whole_project_builds_on_a_warehouse_without_raw_tables(empty_warehouse, tmp_path):
    """Every staging model reads its raw table through source_or_empty, typed from the
    loaders' declarations: with no raw table at all, every model builds and every test passes,
    which also shows staging reads only declared columns (an undeclared one would not bind)."""
    build = empty_warehouse.build
    assert [(n.unique_id, n.status, n.message) for n in build.failed] == []
    models = {n.unique_id for n in build.nodes if n.unique_id.startswith("model.")}
    assert {m for m in models if ".stg_" in m} and len(models) > 50
    assert {
        s
        for (s,) in empty_warehouse.rows(
            "select schema_name from information_schema.schemata where schema_name like 'raw_%'"
        )
    } == set()
    for view in empty_warehouse.rows(
        "select table_name from information_schema.tables where table_schema = 'staging'"
    ):
        assert empty_warehouse.rows(f"select count(*) from staging.{view[0]}") == [(0,)]
    coverage = _coverage(empty_warehouse)
    assert {s for s, row in coverage.items() if not row["is_available"]} == set(VENDORS)
    # The budgets come from the seeds; their spend is unknown, not 0. The tiny organisation's
    # teams are too small to show their budgets (docs/metrics.md section 11): with a minimum
    # of 1, payments reports as itself and its budgets are shown.
    assert empty_warehouse.rows("select count(*) from marts.mart_budget_runway") == [(0,)]
    path = shutil.copyfile(empty_warehouse.path, tmp_path / "empty.duckdb")
    org = simulated_org_settings(store_path("tiny", TINY_SEED))
    select = "int_reporting_groups mart_budget_runway"
    vars_ = {"min_group_size": 1}
    assert build_models(
        path, select, dbt_vars=vars_, seeds_dir=org.seeds_dir, as_of=org.as_of
    ).success
    with duckdb.connect(str(path), read_only=True) as con:
        runway = con.execute(
            "select team_id, spend_to_date_usd, unavailable_reason from marts.mart_budget_runway"
        ).fetchall()
    assert {team for team, _, _ in runway} == {"payments"}
    assert all(spend is None and reason for _, spend, reason in runway)


@GROUP_A
def test_a_column_staging_reads_but_no_loader_declares_fails_the_build(tmp_path):
    """The empty-warehouse build is the check: a staging model reading a column no loader
    declares (here `check_suite_node_id`, which GitHub sends and dlt would create, but no
    loader declares) does not bind on the empty relation, while a declared one does. Shown on
    a copy of the project with two such models."""
    from dbt.cli.main import dbtRunner

    from pipelines.transform.dbt_runner import DBT_PROJECT_DIR, _close_duckdb, run_vars

    project = tmp_path / "dbt_project"
    shutil.copytree(
        DBT_PROJECT_DIR, project, ignore=shutil.ignore_patterns("target", "logs", "org_seeds")
    )
    probes = project / "models" / "staging" / "github"
    for name, column in (("undeclared", "check_suite_node_id"), ("declared", "check_suite_id")):
        (probes / f"stg_github__probe_{name}.sql").write_text(
            f"select {column} from {{{{ source_or_empty('github', 'workflow_runs') }}}}\n"
        )
    args = ["run", "--project-dir", str(project), "--profiles-dir", str(project)]
    args += ["--target-path", str(tmp_path / "target"), "--select", "stg_github__probe_*"]
    args += ["--vars", json.dumps(run_vars(tmp_path / "empty.duckdb"))]
    try:
        result = dbtRunner().invoke(args)
    finally:
        _close_duckdb()
    outcome = {r.node.name: (str(r.status), r.message or "") for r in result.result.results}
    assert outcome["stg_github__probe_declared"][0] == "success"
    status, message = outcome["stg_github__probe_undeclared"]
    assert status == "error" and "check_suite_node_id" in message, message


def test_the_quality_suites_of_the_models_hold_on_every_variant(variant):
    """The Great Expectations suites of the models (not the raw tables', which need their
    table) pass on a build with a vendor missing or its reports empty: a legitimately null
    figure is not a failure."""
    from pipelines.quality import load_suites, run_checks

    name, warehouse = variant
    suites = [s.name for s in load_suites() if not s.relation.startswith("raw_")]
    results = run_checks(warehouse.path, suites)
    assert len(results) >= 15
    assert {n: [f.label for f in r.failed] for n, r in results.items() if not r.success} == {}
