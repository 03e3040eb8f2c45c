"""Organisation options (simulator/org_simulator/options.py): a vendor subset, empty billing
reports, vendor fields left out. Each against the vendors' documented shapes: an empty report
still answers its daily buckets, with no results; an omitted optional field is absent, not
null."""

from __future__ import annotations

import argparse
from pathlib import Path

import duckdb
import pytest
import requests

from org_simulator.credentials import SIM_CREDENTIALS
from org_simulator.demo import store_path
from org_simulator.generate import generate_org
from org_simulator.options import (
    BILLING_PROVIDERS,
    OPTIONAL_FIELDS,
    PRESETS,
    VENDORS,
    Generation,
    OrgOptions,
    add_arguments,
    from_arguments,
    without_fields,
)
from org_simulator.server import SimulatorServer
from org_simulator.sources_env import simulator_sources_env
from org_simulator.testing import TINY_SEED

PD_HEADERS = {
    "Authorization": f"Token token={SIM_CREDENTIALS['pagerduty']}",
    "Accept": "application/vnd.pagerduty+json;version=2",
}
GITHUB_HEADERS = {"Authorization": f"Bearer {SIM_CREDENTIALS['github']}"}


def test_only_the_vendors_an_organisation_uses_are_configured(simulator):
    everything = simulator_sources_env(simulator)
    assert {key.split("__")[1] for key in everything} == {v.upper() for v in VENDORS}
    env = simulator_sources_env(simulator, vendors=("github", "openai"))
    assert {key.split("__")[1] for key in env} == {"GITHUB", "OPENAI"}
    assert env == {k: v for k, v in everything.items() if k.split("__")[1] in env_keys(env)}
    with pytest.raises(ValueError, match="unknown vendor gitlab"):
        simulator_sources_env(simulator, vendors=("gitlab",))


def env_keys(env: dict[str, str]) -> set[str]:
    return {key.split("__")[1] for key in env}


def test_a_server_leaves_out_the_fields_it_is_told_to(tiny_store: Path):
    """PagerDuty's assigned_via and is_mergeable, GitHub's check_suite_id: served as usual,
    and absent (the key, not only its value) when the organisation's vendor leaves them out."""
    incidents, runs = [], []
    for absent in ({}, OPTIONAL_FIELDS):
        with SimulatorServer(tiny_store, absent_fields=absent) as sim:
            incidents.append(
                requests.get(
                    sim.base_url("pagerduty") + "/incidents",
                    params={"date_range": "all", "limit": 5},
                    headers=PD_HEADERS,
                    timeout=10,
                ).json()["incidents"]
            )
            repo = sim.repositories()[0]
            runs.append(
                requests.get(
                    sim.base_url("github") + f"/repos/{repo}/actions/runs",
                    params={"per_page": 5},
                    headers=GITHUB_HEADERS,
                    timeout=10,
                ).json()["workflow_runs"]
            )
    served, sparse = incidents
    assert served and all("assigned_via" in i and "is_mergeable" in i for i in served)
    assert not any("assigned_via" in i or "is_mergeable" in i for i in sparse)
    assert [i["id"] for i in served] == [i["id"] for i in sparse]
    trimmed = without_fields(served, OPTIONAL_FIELDS["pagerduty"])
    assert [set(i) for i in trimmed] == [set(i) for i in sparse]
    assert runs[0] and all("check_suite_id" in r for r in runs[0])
    assert not any("check_suite_id" in r for r in runs[1])
    assert len(runs[0]) == len(runs[1])


@pytest.fixture(scope="module")
def empty_billing_store() -> Path:
    return store_path("tiny", TINY_SEED, generation=Generation(empty_billing=BILLING_PROVIDERS))


def test_empty_billing_reports_answer_their_days_with_no_results(empty_billing_store: Path):
    with SimulatorServer(empty_billing_store) as sim:
        anthropic = requests.get(
            sim.base_url("anthropic") + "/v1/organizations/usage_report/messages",
            params={"starting_at": "2026-10-01T00:00:00Z", "limit": 7},
            headers={"x-api-key": SIM_CREDENTIALS["anthropic"], "anthropic-version": "2023-06-01"},
            timeout=10,
        ).json()
        openai = requests.get(
            sim.base_url("openai") + "/v1/organization/costs",
            params={"start_time": 1790812800, "limit": 7},  # 2026-10-01
            headers={"Authorization": f"Bearer {SIM_CREDENTIALS['openai']}"},
            timeout=10,
        ).json()
        users = requests.get(
            sim.base_url("openai") + "/v1/organization/users",
            headers={"Authorization": f"Bearer {SIM_CREDENTIALS['openai']}"},
            timeout=10,
        ).json()
    for report in (anthropic, openai):
        assert len(report["data"]) == 7  # every day still answers its bucket
        assert all(bucket["results"] == [] for bucket in report["data"])
    assert users["data"]  # the account is there, only unused


def test_empty_billing_is_the_same_organisation_without_spend(tiny_store, empty_billing_store):
    """Only the billing reports differ, and the truth follows: no spend at all."""
    with duckdb.connect(str(empty_billing_store), read_only=True) as con:
        con.execute(f"attach '{tiny_store}' as full_store (read_only)")
        tables = [
            t
            for (t,) in con.execute(
                "select table_name from information_schema.tables "
                "where table_catalog = current_database() order by 1"
            ).fetchall()
        ]
        usage = ("anthropic_messages_usage", "openai_completions_usage")
        usage += ("anthropic_claude_code_usage",)
        for table in usage + ("truth_spend", "truth_spend_allocation"):
            assert con.execute(f"select count(*) from {table}").fetchone() == (0,), table
        assert con.execute("select value from org_meta where key = 'empty_billing'").fetchone() == (
            "anthropic,openai",
        )
        same = [t for t in tables if t.startswith(("gh_", "jira_", "pd_", "truth_pull"))]
        same += ["anthropic_api_keys", "openai_projects", "openai_users", "seed_people"]
        for table in same:
            differing = con.execute(
                f"select count(*) from (select * from {table} except all "
                f"select * from full_store.{table})"
            ).fetchone()[0]
            assert differing == 0, table
        assert con.execute("select count(*) from full_store.truth_spend").fetchone()[0] > 0


def test_presets_and_flags_make_the_options():
    parser = argparse.ArgumentParser()
    add_arguments(parser)
    assert from_arguments(parser.parse_args([])) == OrgOptions()
    assert from_arguments(parser.parse_args(["--preset", "no-pagerduty"])).vendors == (
        "github",
        "jira",
        "anthropic",
        "openai",
    )
    options = from_arguments(
        parser.parse_args(
            [
                "--preset",
                "empty-billing",
                "--vendors",
                "github,openai",
                "--absent-field",
                "pagerduty:assigned_via",
            ]
        )
    )
    assert options == OrgOptions(
        vendors=("github", "openai"),
        empty_billing=BILLING_PROVIDERS,
        absent_fields={"pagerduty": ("assigned_via",)},
    )
    with pytest.raises(ValueError, match="VENDOR:FIELD"):
        from_arguments(parser.parse_args(["--absent-field", "assigned_via"]))
    with pytest.raises(ValueError, match="unknown billing provider"):
        from_arguments(parser.parse_args(["--empty-billing", "cursor"]))
    assert PRESETS["no-billing"].vendors == ("github", "jira", "pagerduty")
    assert PRESETS["sparse-fields"].absent_fields == OPTIONAL_FIELDS
    generation = argparse.ArgumentParser()
    add_arguments(generation, serving=False)  # `simulate`: generation options only
    assert from_arguments(generation.parse_args(["--empty-billing", "openai"])) == OrgOptions(
        empty_billing=("openai",)
    )


def test_the_command_line_passes_the_options_on():
    from org_simulator.cli import build_parser
    from org_simulator.options import from_arguments as org_options

    serve = build_parser().parse_args(
        ["serve", "--preset", "no-openai", "--absent-field", "jira:x"]
    )
    assert org_options(serve) == OrgOptions(
        vendors=("github", "jira", "pagerduty", "anthropic"), absent_fields={"jira": ("x",)}
    )
    simulate = build_parser().parse_args(
        ["simulate", "--out", "x.duckdb", "--empty-billing", "anthropic"]
    )
    assert org_options(simulate) == OrgOptions(empty_billing=("anthropic",))
    with pytest.raises(SystemExit):  # the vendors are a serving option, not a generation one
        build_parser().parse_args(["simulate", "--out", "x.duckdb", "--vendors", "github"])
    demo = build_parser().parse_args(["demo", "--size", "tiny", "--preset", "empty-billing"])
    assert org_options(demo).empty_billing == BILLING_PROVIDERS


def test_merge_styles_and_environment_names_shape_the_organisation(tmp_path):
    """Squash merges only, and production environments named in capitals or flagged: the
    store (and so the truth) follows."""
    generation = Generation(
        merge_styles=("squash",), environments=("PRODUCTION", "eu-1:production")
    )
    store = generate_org("tiny", TINY_SEED, tmp_path / "org.duckdb", generation=generation)
    with duckdb.connect(str(store), read_only=True) as con:
        styles = con.execute(
            "select distinct g.kind from gh_pull_requests p join gh_git_commits g "
            "on g.repo_full_name = p.repo_full_name and g.sha = p.merge_commit_sha"
        ).fetchall()
        assert styles == [("squash",)]
        production = con.execute(
            "select distinct d.environment, production_environment, is_production "
            "from gh_deployments d join truth_deployments t on t.deployment_id = d.id "
            "where d.environment <> 'staging' order by 1"
        ).fetchall()
        assert production == [("PRODUCTION", False, True), ("eu-1", True, True)]
        ship_rules = {
            r for (r,) in con.execute("select ship_rule from truth_pull_requests").fetchall()
        }
        assert "commit_range" in ship_rules
        meta = dict(con.execute("select key, value from org_meta").fetchall())
    assert (meta["merge_styles"], meta["environments"]) == ("squash", "PRODUCTION,eu-1:production")
    assert generation.suffix == "-squash-env-PRODUCTION-eu-1_production"
    with pytest.raises(ValueError, match="unknown merge style"):
        Generation(merge_styles=("fast-forward",))


def test_generation_flags_and_presets():
    from org_simulator.cli import build_parser

    simulate = build_parser().parse_args(
        ["simulate", "--out", "x.duckdb", "--merge-styles", "rebase,merge"]
        + ["--environments", "prod-eu, live"]
    )
    assert from_arguments(simulate).generation == Generation(
        merge_styles=("rebase", "merge"), environments=("prod-eu", "live")
    )
    assert PRESETS["squash-merges"].merge_styles == ("squash",)
    assert PRESETS["shouted-environments"].generation.targets()[0].name == "PRODUCTION"
