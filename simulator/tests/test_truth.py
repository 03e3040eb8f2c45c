"""Ground truth holds together: what docs/metrics.md's rules imply is visible in the records."""

from __future__ import annotations

import json
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path

import duckdb
import pytest

from org_simulator.truth_ranges import reachable


@pytest.fixture(scope="module")
def db(tiny_store: Path) -> Iterator[duckdb.DuckDBPyConnection]:
    con = duckdb.connect(str(tiny_store), read_only=True)
    yield con
    con.close()


def scalar(con, sql: str):
    return con.execute(sql).fetchone()[0]


def test_every_shipped_pr_has_its_successful_production_deployment(db) -> None:
    assert scalar(db, "select count(*) from truth_pull_requests where shipped_at is not null") > 20
    orphans = scalar(
        db,
        """
        select count(*) from truth_pull_requests t
        left join truth_deployments d on d.deployment_id = t.shipping_deployment_id
            and d.repo_full_name = t.repo_full_name and d.is_production
            and d.created_at >= t.merged_at
        left join gh_deployment_statuses s on s.deployment_id = d.deployment_id
            and s.state = 'success' and s.created_at = t.shipped_at
        where t.shipped_at is not null and s.id is null""",
    )
    assert orphans == 0


def test_only_merged_prs_ship_and_none_ship_twice(db) -> None:
    assert (
        scalar(
            db,
            "select count(*) from truth_pull_requests "
            "where shipped_at is not null and merged_at is null",
        )
        == 0
    )
    assert scalar(db, "select count(*) from truth_pull_requests where shipped_at < merged_at") == 0


def test_every_attributed_defect_names_an_existing_pr_and_weights_sum_to_one(db) -> None:
    missing = scalar(
        db,
        """
        select count(*) from truth_defect_attribution a
        left join gh_pull_requests p on p.repo_full_name = a.repo_full_name and p.number = a.number
        where a.rule <> 'unattributed' and p.id is null""",
    )
    assert missing == 0
    bad = scalar(
        db,
        """
        select count(*) from (select defect_id, sum(weight) w from truth_defect_attribution
                              group by defect_id) where abs(w - 1) > 1e-9""",
    )
    assert bad == 0
    rules = {
        r[0] for r in db.execute("select distinct rule from truth_defect_attribution").fetchall()
    }
    assert {"explicit", "time", "unattributed"} <= rules


def test_every_defect_is_attributed_or_counted_unattributed(db) -> None:
    bugs = scalar(
        db,
        """select count(*) from jira_issues
                         where issuetype_name in ('Bug', '缺陷')""",
    )
    incidents = scalar(db, "select count(*) from pd_incidents")
    defects = scalar(db, "select count(distinct defect_id) from truth_defect_attribution")
    assert defects == bugs + incidents > 0


def test_survival_follows_reverts_rollbacks_and_censoring(db) -> None:
    rows = db.execute("""
        select shipped_at, reverted_at, rolled_back_at, censored, survived
        from truth_pull_requests where shipped_at is not null""").fetchall()
    as_of = scalar(db, "select value::timestamp from org_meta where key = 'as_of'")
    from datetime import timedelta

    horizon = timedelta(days=30)
    for shipped, reverted, rolled_back, censored, survived in rows:
        assert censored == (shipped > as_of - horizon)
        if censored:
            assert survived is None
            continue
        failed = any(t is not None and t <= shipped + horizon for t in (reverted, rolled_back))
        assert survived == (not failed)
    assert scalar(db, "select count(*) from truth_pull_requests where reverted_at is not null") > 0


def test_review_hours_are_the_sum_of_sessions(db) -> None:
    diff = scalar(
        db,
        """
        select max(abs(t.review_hours - coalesce(s.mins, 0) / 60))
        from truth_pull_requests t
        left join (select repo_full_name, number, sum(minutes) as mins from truth_review_sessions
                   group by all) s using (repo_full_name, number)""",
    )
    assert diff < 1e-9
    assert scalar(db, "select max(minutes) from truth_review_sessions") <= 240
    assert scalar(db, "select min(minutes) from truth_review_sessions") >= 15


def test_allocation_reconciles_with_attributed_spend(db) -> None:
    attributed = scalar(db, "select sum(cost_usd) from truth_spend where person_id is not null")
    allocated = scalar(db, "select sum(cost_usd) from truth_spend_allocation")
    assert abs(attributed - allocated) <= Decimal("0.01")
    assert scalar(db, "select count(*) from truth_spend where person_id is null") > 0


def test_ai_assisted_flag_has_a_reason(db) -> None:
    assert (
        scalar(
            db,
            "select count(*) from truth_pull_requests where is_ai_assisted <> (ai_reasons <> '')",
        )
        == 0
    )
    assert 0 < scalar(db, "select avg(is_ai_assisted::int) from truth_pull_requests") < 1


def test_identities_include_unresolvable_actors(db) -> None:
    rows = dict(
        db.execute("""select system, count(*) - count(resolved_person_id)
                               from truth_identities group by system""").fetchall()
    )
    assert rows["github"] > 0  # bots and contractors the seed does not list


# --- deployments: production, ranges, shipping, change failures ---------------------------


def _is_production(environment: str, flag: bool) -> bool:
    """docs/metrics.md section 8 with the default patterns, written out by hand."""
    name = environment.lower()
    return (
        bool(flag)
        or name in ("production", "prod", "live")
        or name.startswith(("prod-", "production-"))
    )


def test_shipping_follows_the_ranges_of_the_commit_graph(db) -> None:
    """Shipping recomputed from the deployments and the commit graph (walking parents): the
    range of each successful production deployment since its environment's previous one;
    the earliest usable range holding a PR's merge sha ships it, else the first deployment
    at or after its merge whose range is unknown."""
    parents: dict[str, dict[str, list[str]]] = {}
    for repo, sha, ps in db.execute(
        "select repo_full_name, sha, parents from gh_git_commits"
    ).fetchall():
        parents.setdefault(repo, {})[sha] = json.loads(ps)
    finished = dict(
        db.execute(
            "select deployment_id, min(created_at) from gh_deployment_statuses "
            "where state = 'success' group by 1"
        ).fetchall()
    )
    released = [
        (created, i, repo, env, sha)
        for i, repo, env, flag, sha, created in db.execute(
            "select id, repo_full_name, environment, production_environment, sha, created_at "
            "from gh_deployments"
        ).fetchall()
        if _is_production(env, flag) and i in finished
    ]
    previous: dict[tuple[str, str], str] = {}
    ranges: dict[int, set[str] | None] = {}  # None: unknown
    for _created, i, repo, env, sha in sorted(released):
        base = previous.get((repo, env.lower()))
        previous[(repo, env.lower())] = sha
        known = parents[repo]
        usable = base is not None and base in known and sha in known
        ranges[i] = reachable(known, sha) - reachable(known, base) if usable else None
    expected = {}
    for repo, number, merged, merge_sha in db.execute(
        "select repo_full_name, number, merged_at, merge_commit_sha from gh_pull_requests "
        "where merged_at is not null"
    ).fetchall():
        mine = [r for r in sorted(released) if r[2] == repo]
        by_range = [r for r in mine if ranges[r[1]] is not None and merge_sha in ranges[r[1]]]
        by_time = [r for r in mine if ranges[r[1]] is None and r[0] >= merged]
        ship = (by_range[0][1], "commit_range") if by_range else (
            (by_time[0][1], "time") if by_time else (None, None))  # fmt: skip
        expected[(repo, number)] = ship
    truth = {
        (r, n): (d, rule)
        for r, n, d, rule in db.execute(
            "select repo_full_name, number, shipping_deployment_id, ship_rule "
            "from truth_pull_requests where merged_at is not null"
        ).fetchall()
    }
    assert truth == expected
    rules = {rule for _, rule in truth.values()}
    assert rules == {"commit_range", "time", None}


def test_tiny_has_every_naming_merge_style_and_range_case(db) -> None:
    environments = {
        (env, flag)
        for env, flag in db.execute(
            "select distinct environment, production_environment from gh_deployments"
        ).fetchall()
    }
    names = {env for env, _ in environments}
    assert {"production", "Production", "prod", "PRODUCTION", "prod-eu", "prod-us", "live",
            "eu-central-1", "staging"} <= names  # fmt: skip
    assert ("eu-central-1", True) in environments and ("staging", False) in environments
    production = {
        env: p
        for env, p in db.execute(
            "select distinct environment, is_production from truth_deployments"
        ).fetchall()
    }
    assert production == {env: env != "staging" for env in names}
    # each merge style lands a PR that a range shipped
    styles = {
        kind
        for (kind,) in db.execute(
            """select distinct g.kind from truth_pull_requests t
               join gh_pull_requests p using (repo_full_name, number)
               join gh_git_commits g on g.repo_full_name = p.repo_full_name
                   and g.sha = p.merge_commit_sha
               where t.ship_rule = 'commit_range'"""
        ).fetchall()
    }
    assert styles == {"merge", "squash", "rebase"}
    assert scalar(db, "select count(*) from gh_git_commits where kind = 'push'") > 0
    statuses = {
        s for (s,) in db.execute("select distinct range_status from truth_deployments").fetchall()
    }
    assert statuses == {"ahead", "behind", "identical", "not_found", None}
    # a redeploy of an older release (behind) or of what runs (identical) ships nothing
    assert (
        scalar(
            db,
            "select count(*) from truth_deployments where range_status in ('behind', 'identical') "
            "and shipped_prs > 0",
        )
        == 0
    )
    # the range and the time rule disagree: a PR merged after the build's cut
    disagree = scalar(
        db,
        """select count(*) from truth_pull_requests t where t.ship_rule = 'commit_range'
           and t.shipping_deployment_id <> (select d.deployment_id from truth_deployments d
               where d.repo_full_name = t.repo_full_name and d.is_production
                 and d.is_successful and d.created_at >= t.merged_at
               order by d.created_at, d.deployment_id limit 1)""",
    )
    assert disagree > 0
    # the time rule ships after a first deployment and after a compare GitHub cannot answer
    fallbacks = {
        status
        for (status,) in db.execute(
            """select distinct d.range_status from truth_pull_requests t
               join truth_deployments d on d.deployment_id = t.shipping_deployment_id
               where t.ship_rule = 'time'"""
        ).fetchall()
    }
    assert fallbacks == {None, "not_found"}


def test_change_failures_are_the_incidents_attributed_to_deployments(db) -> None:
    links = db.execute(
        "select deployment_id, incident_id, rule from truth_deployment_incidents"
    ).fetchall()
    per_deployment: dict[int, set[str]] = {}
    for deployment_id, incident, _ in links:
        per_deployment.setdefault(deployment_id, set()).add(incident)
    for deployment_id, successful, incidents, failure in db.execute(
        "select deployment_id, is_successful, incidents, is_change_failure from truth_deployments"
    ).fetchall():
        assert incidents == len(per_deployment.get(deployment_id, ()))
        assert failure == (successful and incidents > 0)
    # explicit: the deployments that shipped the named PRs
    explicit = {
        (d, i)
        for d, i in db.execute(
            """select distinct t.shipping_deployment_id, a.defect_id
               from truth_defect_attribution a join truth_pull_requests t
                   using (repo_full_name, number)
               where a.defect_kind = 'incident' and a.rule = 'explicit'
                 and t.shipping_deployment_id is not null"""
        ).fetchall()
    }
    assert {(d, i) for d, i, rule in links if rule == "explicit"} == explicit
    # time: even a deployment that shipped no PR fails (the incident is unattributed to PRs)
    no_pr = db.execute(
        """select l.incident_id, d.is_change_failure from truth_deployment_incidents l
           join truth_deployments d using (deployment_id)
           where l.rule = 'time' and d.shipped_prs = 0"""
    ).fetchall()
    assert no_pr and all(failure for _, failure in no_pr)
    assert {rule for _, _, rule in links} == {"explicit", "deployment", "time"}
