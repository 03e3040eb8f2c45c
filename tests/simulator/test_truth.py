"""Ground truth holds together: what METRICS.md's rules imply is visible in the records."""

from __future__ import annotations

from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path

import duckdb
import pytest


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
        left join gh_deployments d on d.id = t.shipping_deployment_id
            and d.repo_full_name = t.repo_full_name
            and d.environment in ('production', 'prod') and d.created_at >= t.merged_at
        left join gh_deployment_statuses s on s.deployment_id = d.id and s.state = 'success'
            and s.created_at = t.shipped_at
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
