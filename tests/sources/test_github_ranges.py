"""The commit ranges of production deployments (pipelines/sources/github/ranges.py).

The history loads in test_github.py check the ranges of two repositories against the store
over a backfill, an incremental load and a load with nothing new (no compare asked again).
Here: one repository since a recent start date, paged small; a deployment whose success
arrives after a load; the production patterns; and the state kept between loads.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import duckdb
from dlt.common.versioned_state import decompress_state

from org_simulator.faults import Fault
from org_simulator.truth_ranges import range_commit_rows, range_rows, served_ranges
from pipelines.sources.github.ranges import ProductionEnvironments, Released, _pairs, _prune
from tests.sources.conftest import Loader
from tests.sources.test_github import SMALL_REPO, SMALL_START, configure, query

START = datetime.fromisoformat(SMALL_START)
AS_OF = datetime(2026, 11, 1)


def loaded_ranges(loader: Loader) -> list[tuple]:
    return loader.rows(
        """select deployment_id, base_deployment_id, repo_full_name, environment, base_sha,
               head_sha, status, ahead_by, behind_by, total_commits, commits_loaded
           from raw_github.deployment_ranges order by all"""
    )


def loaded_commits(loader: Loader) -> list[tuple]:
    rows = loader.rows(
        """select deployment_id, base_deployment_id, repo_full_name, sha, position,
               author_date::timestamp, committer_date::timestamp, parents_count
           from raw_github.deployment_range_commits order by all"""
    )
    return sorted(rows)


def compares(loader: Loader) -> int:
    return loader.sim.stats()["by_route"].get("github.compare", 0)


def test_a_long_comparison_is_read_page_by_page(loader: Loader, monkeypatch):
    repo = "acme/payments-api"  # merges with merge commits: PR commits come along
    configure(monkeypatch, loader.sim, [repo], SMALL_START)
    monkeypatch.setenv("SOURCES__GITHUB__PER_PAGE", "3")
    loader.load("github")
    served = served_ranges(loader.store, [repo], AS_OF, START)
    assert any(len(r.commits) > 3 for r in served.values())  # some take several pages
    assert compares(loader) == sum(r.pages(per_page=3) for r in served.values())
    assert loaded_ranges(loader) == range_rows(served)
    assert loaded_commits(loader) == range_commit_rows(served)


def test_a_deployment_that_succeeds_after_a_load_is_compared_on_the_next(loader, monkeypatch):
    configure(monkeypatch, loader.sim, [SMALL_REPO], SMALL_START)
    (deployment_id, created, succeeded), *_ = query(
        loader.store,
        """select d.id, d.created_at, s.created_at from gh_deployments d
           join gh_deployment_statuses s on s.deployment_id = d.id and s.state = 'success'
           where d.repo_full_name = $1 and d.created_at >= $2 and d.environment = 'PRODUCTION'
             and s.created_at > d.created_at + interval 3 minute
           order by d.created_at desc""",
        [SMALL_REPO, START],
    )
    before = created + timedelta(minutes=1)  # created, in progress
    loader.sim.set_now(before)
    loader.load("github")
    first = served_ranges(loader.store, [SMALL_REPO], before, START)
    assert all(d != deployment_id for d, _ in first) and len(first) > 0
    assert loaded_ranges(loader) == range_rows(first)

    after = succeeded + timedelta(seconds=1)
    loader.sim.set_now(after)
    loader.sim.reset_stats()
    loader.load("github")
    now = served_ranges(loader.store, [SMALL_REPO], after, START)
    new = {k: r for k, r in now.items() if k not in first}
    assert [d for d, _ in new] == [deployment_id]
    assert compares(loader) == sum(r.pages() for r in new.values())
    assert loaded_ranges(loader) == range_rows({**first, **now})

    loader.sim.reset_stats()
    loader.load("github")
    assert compares(loader) == 0


def test_production_patterns_come_from_the_dbt_vars_or_the_setting(loader, monkeypatch):
    repo = "acme/checkout-web"  # deploys to `live` and to `eu-central-1`, flagged production
    configure(monkeypatch, loader.sim, [repo], SMALL_START)
    monkeypatch.setenv("SOURCES__GITHUB__PRODUCTION_ENVIRONMENTS", json.dumps(["PROD-*"]))
    loader.load("github")
    served = served_ranges(loader.store, [repo], AS_OF, START, patterns=["PROD-*"])
    assert loaded_ranges(loader) == range_rows(served)
    assert {r[3] for r in loaded_ranges(loader)} == {"eu-central-1"}  # by the flag alone

    default = served_ranges(loader.store, [repo], AS_OF, START)
    assert {r.environment for r in default.values()} == {"eu-central-1", "live"}


def test_production_environments_rule():
    production = ProductionEnvironments(["production", "prod-*", "live", "a_b", "100%"])
    assert production("PRODUCTION", None) and production("Prod-EU", False)
    assert production("live", None) and production("a_b", None) and production("100%", None)
    # `*` is the only wildcard: LIKE's `_` and `%` and regex characters are literal
    for name in ("production-eu", "prod", "axb", "1000", "lives", "staging", None):
        assert not production(name, False), name
    assert production("eu-central-1", True) and production(None, True)
    assert (
        ProductionEnvironments().patterns
        == ProductionEnvironments(["production", "prod", "prod-*", "production-*", "live"]).patterns
    )  # the dbt project's var by default


def _released(i: int, env: str, day: int) -> Released:
    return Released(i, env, datetime(2026, 10, day, 12, tzinfo=UTC), f"sha{i}")


def test_the_state_keeps_only_what_a_later_run_can_need():
    known = {
        d.id: d
        for d in (
            _released(1, "production", 1),
            _released(2, "Production", 2),  # the same environment, typed by hand
            _released(3, "live", 3),
            _released(4, "production", 9),
            _released(5, "live", 10),
        )
    }
    pairs = [(head.id, base.id) for head, base in _pairs(known)]
    assert pairs == [(2, 1), (4, 2), (5, 3)]
    state: dict = {}
    _prune(state, known, {"2:1", "4:2", "5:3"}, floor=datetime(2026, 10, 8, tzinfo=UTC))
    # from the floor on, and the latest before it in each environment
    assert sorted(int(k) for k in state["released"]) == [2, 3, 4, 5]
    assert state["asked"] == ["4:2", "5:3"]
    assert state["released"]["2"] == ["Production", "2026-10-02T12:00:00+00:00", "sha2"]
    again = {int(k): Released.from_state(k, v) for k, v in state["released"].items()}
    assert again == {k: v for k, v in known.items() if k != 1}


def test_the_state_stays_small_over_a_long_history(loader: Loader, monkeypatch):
    """A backfill of two and a half months leaves a few days of deployments in the state."""
    configure(monkeypatch, loader.sim, [SMALL_REPO])
    loader.load("github")
    with duckdb.connect(str(loader.warehouse), read_only=True) as con:
        (state,) = con.execute(
            "select state from raw_github._dlt_pipeline_state order by created_at desc limit 1"
        ).fetchone()
    kept = decompress_state(state)["sources"]["github"]["resources"]["deployment_ranges"]
    repo = kept["repos"][SMALL_REPO]
    (released,) = query(
        loader.store,
        """select count(*) from gh_deployments d where repo_full_name = $1
           and exists (select 1 from gh_deployment_statuses s where s.deployment_id = d.id
                       and s.state = 'success') and environment <> 'staging'""",
        [SMALL_REPO],
    )[0]
    assert released > 40
    assert 0 < len(repo["released"]) <= 12 and len(repo["asked"]) < len(repo["released"])


def test_a_comparison_github_keeps_failing_leaves_the_range_unknown_until_it_answers(
    loader: Loader, monkeypatch
):
    """GitHub answers 500 for a comparison whose diff takes too long to generate: after the
    retries the pair is kept as unavailable (the time rule applies), the load goes on, and
    the next load asks again."""
    configure(monkeypatch, loader.sim, [SMALL_REPO], SMALL_START)
    served = served_ranges(loader.store, [SMALL_REPO], AS_OF, START)
    failing = next(r for r in served.values() if r.status == "ahead")
    loader.sim.inject(
        Fault("server_error", vendor="github", path=f"/compare/{failing.base_sha}", times=-1)
    )
    loader.load("github")
    rows = {(r[0], r[1]): r for r in loaded_ranges(loader)}
    key = (failing.deployment_id, failing.base_deployment_id)
    assert rows[key][6:] == ("unavailable", None, None, None, 0)
    assert {k: r for k, r in rows.items() if k != key} == {
        (r[0], r[1]): r for r in range_rows(served) if (r[0], r[1]) != key
    }
    loader.sim.faults.clear()
    loader.sim.reset_stats()
    loader.load("github")
    assert compares(loader) == failing.pages()
    assert loaded_ranges(loader) == range_rows(served)
