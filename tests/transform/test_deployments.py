"""Deployments against the simulator's ground truth: production environments, commit ranges,
the shipping rule and DORA's change failures (docs/metrics.md sections 3, 4 and 8).

truth_deployments and truth_deployment_incidents come from an independent implementation of
the same rules (simulator/org_simulator/truth_deployments.py): every production flag, range,
shipping deployment and incident link must equal it row for row, and the DORA marts must
equal the aggregates this file computes from those truth rows (counts exactly, rates and
medians within 1e-9). Times compare at the API's precision (whole seconds).
"""

from __future__ import annotations

from collections import Counter, defaultdict
from datetime import datetime, timedelta

from tests.transform.reporting_groups import group_of, repository_name_of
from tests.transform.test_defects import _close, _percentile, _week
from tests.transform.test_pull_requests import _require_built

MODELS = (
    "int_deployments",
    "int_deployments__ranges",
    "int_deployments__pull_requests",
    "int_deployments__incidents",
    "int_deployments__outcomes",
    "mart_dora",
    "mart_dora_summary",
)


def _second(at: datetime | None) -> datetime | None:
    return None if at is None else at.replace(microsecond=0)


def _truth_deployments(org) -> dict[int, dict]:
    return {d["deployment_id"]: d for d in org.dicts("select * from sim.truth_deployments")}


def test_production_success_and_ranges_equal_the_truth(built_org):
    _require_built(built_org, *MODELS)
    truth = _truth_deployments(built_org)
    ours = {
        d["deployment_id"]: d
        for d in built_org.dicts(
            "select deployment_id, environment, is_production, is_successful, finished_at "
            "from intermediate.int_deployments"
        )
    }
    assert set(ours) == set(truth)
    for i, t in truth.items():
        got = ours[i]
        assert (got["is_production"], got["is_successful"]) == (
            t["is_production"],
            t["is_successful"],
        ), i
        assert got["finished_at"] == _second(t["finished_at"]), i
    # every way of naming production: the flag alone, patterns in any case, two at once
    named = {(t["environment"], t["is_production"]) for t in truth.values()}
    assert {("Production", True), ("PRODUCTION", True), ("prod-us", True), ("live", True),
            ("eu-central-1", True), ("staging", False)} <= named  # fmt: skip

    ranges = built_org.dicts("select * from intermediate.int_deployments__ranges")
    released = {i for i, t in truth.items() if t["is_production"] and t["is_successful"]}
    assert {r["deployment_id"] for r in ranges} == released
    for r in ranges:
        t = truth[r["deployment_id"]]
        assert (r["base_deployment_id"], r["range_status"], r["is_range_usable"]) == (
            t["base_deployment_id"],
            t["range_status"],
            t["range_usable"],
        ), r["deployment_id"]
        if t["range_usable"]:
            assert (r["ahead_by"], r["behind_by"], r["total_commits"]) == (
                t["ahead_by"],
                t["behind_by"],
                t["total_commits"],
            )
            assert r["commits_loaded"] == r["total_commits"]
    statuses = Counter(r["range_status"] for r in ranges)
    assert {"ahead", "behind", "identical", "not_found", None} <= set(statuses)


def test_shipping_by_range_and_by_time_equals_the_truth(built_org):
    _require_built(built_org, *MODELS)
    truth = {
        (r["repo_full_name"], r["number"]): r
        for r in built_org.dicts(
            "select repo_full_name, number, shipping_deployment_id, ship_rule, shipped_at "
            "from sim.truth_pull_requests where shipping_deployment_id is not null"
        )
    }
    ours = {
        (r["repo_full_name"], r["pull_request_number"]): r
        for r in built_org.dicts("select * from intermediate.int_deployments__pull_requests")
    }
    assert set(ours) == set(truth)
    for key, t in truth.items():
        got = ours[key]
        assert (got["deployment_id"], got["ship_rule"], got["shipped_at"]) == (
            t["shipping_deployment_id"],
            t["ship_rule"],
            _second(t["shipped_at"]),
        ), key
    # a range ships PRs of each merge style; the time rule after a first deployment and after
    # a comparison GitHub could not answer
    styles = built_org.rows(
        """select distinct g.kind from intermediate.int_deployments__pull_requests s
           join staging.stg_github__pull_requests p using (pull_request_id)
           join sim.gh_git_commits g on g.repo_full_name = p.repo_full_name
               and g.sha = p.merge_commit_sha
           where s.ship_rule = 'commit_range'"""
    )
    assert {kind for (kind,) in styles} == {"merge", "squash", "rebase"}
    fallbacks = built_org.rows(
        """select distinct r.range_status from intermediate.int_deployments__pull_requests s
           join intermediate.int_deployments__ranges r using (deployment_id)
           where s.ship_rule = 'time'"""
    )
    assert {status for (status,) in fallbacks} == {None, "not_found"}


def test_change_failures_count_every_attributed_incident(built_org):
    _require_built(built_org, *MODELS)
    truth = _truth_deployments(built_org)
    outcomes = built_org.dicts("select * from intermediate.int_deployments__outcomes")
    assert {o["deployment_id"] for o in outcomes} == {
        i for i, t in truth.items() if t["is_production"]
    }
    for o in outcomes:
        t = truth[o["deployment_id"]]
        assert (
            o["shipped_prs"],
            o["incidents"],
            o["rolled_back_incidents"],
            o["is_change_failure"],
        ) == (
            t["shipped_prs"],
            t["incidents"],
            t["rolled_back_incidents"],
            t["is_change_failure"],
        ), o["deployment_id"]
    links = set(
        built_org.rows(
            "select deployment_id, incident_id, attribution_rule "
            "from intermediate.int_deployments__incidents"
        )
    )
    assert links == set(
        built_org.rows(
            "select deployment_id, incident_id, rule from sim.truth_deployment_incidents"
        )
    )
    # an incident linked by time to a deployment that shipped no PR is a change failure
    assert any(
        rule == "time" and truth[d]["shipped_prs"] == 0 and truth[d]["is_change_failure"]
        for d, _, rule in links
    )


def _dora_expected(org) -> tuple[dict, dict]:
    """mart_dora's change failure and recovery columns per (repo, week), and
    mart_dora_summary's per (grain, team), from the truth tables."""
    truth = [t for t in _truth_deployments(org).values() if t["is_production"]]
    team_votes: dict[str, Counter] = defaultdict(Counter)
    for repo, team in org.rows(
        "select repo_full_name, team_id from sim.truth_pull_requests where team_id is not null"
    ):
        team_votes[repo][team] += 1
    team_of = {
        repo: min(votes, key=lambda team: (-votes[team], team))
        for repo, votes in team_votes.items()
    }
    resolution = {
        i: (resolved - created) / timedelta(hours=1)
        for i, created, resolved in org.rows(
            "select id, created_at, resolved_at from sim.pd_incidents where resolved_at is not null"
        )
    }
    incidents_of = defaultdict(set)
    for d, i in org.rows("select deployment_id, incident_id from sim.truth_deployment_incidents"):
        incidents_of[d].add(i)
    scopes: dict[str, dict[tuple, list[dict]]] = {
        "weekly": defaultdict(list),
        "summary": defaultdict(list),
    }
    # A repository keeps its name only when its team reports as itself (docs/metrics.md 11).
    group, shown = group_of(org), repository_name_of(org)
    for t in truth:
        team = team_of.get(t["repo_full_name"])
        scopes["weekly"][(shown(t["repo_full_name"]), _week(t["created_at"]))].append(t)
        scopes["summary"][("team", group(team))].append(t)
        scopes["summary"][("all", None)].append(t)
    out = {}
    for scope, groups in scopes.items():
        out[scope] = {}
        for key, deployments in groups.items():
            ok = [t for t in deployments if t["is_successful"]]
            failures = sum(1 for t in ok if t["is_change_failure"])
            recovered = sorted(
                {i for t in ok for i in incidents_of[t["deployment_id"]] if i in resolution}
            )
            hours = [resolution[i] for i in recovered]
            out[scope][key] = {
                "successful_deployments": len(ok),
                "change_failures": failures,
                "rolled_back_deployments": sum(1 for t in ok if t["rolled_back_incidents"]),
                "change_failure_rate": failures / len(ok) if ok else None,
                "recovered_incidents": len(recovered),
                "recovery_time_median_hours": _percentile(hours, 0.5),
            }
    return out["weekly"], out["summary"]


COUNTS = ("successful_deployments", "change_failures", "rolled_back_deployments",
          "recovered_incidents")  # fmt: skip
RATES = ("change_failure_rate", "recovery_time_median_hours")


def _assert_rows_equal(mart: dict[tuple, dict], expected: dict[tuple, dict]) -> None:
    assert set(mart) == set(expected)
    for key, want in expected.items():
        got = mart[key]
        assert {c: got[c] for c in COUNTS} == {c: want[c] for c in COUNTS}, key
        assert all(_close(got[c], want[c]) for c in RATES), key


def test_dora_change_failure_rate_and_recovery_time_from_the_truth(built_org):
    _require_built(built_org, *MODELS)
    weekly, summary = _dora_expected(built_org)
    mart = built_org.dicts("select * from marts.mart_dora")
    _assert_rows_equal({(r["repo_full_name"], r["deployment_week"]): r for r in mart}, weekly)
    assert sum(w["change_failures"] for w in weekly.values()) > 0
    rows = built_org.dicts("select * from marts.mart_dora_summary")
    _assert_rows_equal({(r["grain"], r["team_id"]): r for r in rows}, summary)
