"""Privacy by group (docs/metrics.md section 11): no mart row describes fewer than
min_group_size people, against the simulator's truth.

The shared builds (`built_org`) run with the default minimum. `solo_org` is the tiny
organisation with one person moved to a team of their own ("solo") and a minimum of 3, so it
holds every case at once: payments (3 people) reports as itself; solo (1) and the no-team group
(bots only) are merged into `other`, and, that being still below 3, checkout (3, the smallest
team left) joins it.
"""

from __future__ import annotations

import csv
import shutil
from collections import Counter, defaultdict
from pathlib import Path

import duckdb
import pytest

from org_simulator.seeds import export_seeds, store_as_of
from pipelines.transform.dbt_runner import build_models
from tests.transform.reporting_groups import NO_TEAM, OTHER, group_of, reporting_groups

SOLO = "p000000"  # chen-okafor of payments, an author of merged PRs and a spender
MINIMUM = 3


def _team_marts(con: duckdb.DuckDBPyConnection) -> list[str]:
    return [
        table
        for (table,) in con.execute(
            "select table_name from information_schema.columns "
            "where table_schema = 'marts' and column_name = 'team_id' order by 1"
        ).fetchall()
    ]


def test_every_team_column_shows_groups_of_at_least_the_minimum(built_org):
    group = group_of(built_org)
    people = Counter(
        group(team)
        for team, is_bot in built_org.rows("select team, is_bot from sim.seed_people")
        if not is_bot
    )
    with built_org._connect() as con:
        marts = _team_marts(con)
        assert len(marts) >= 14
        for mart in marts:
            where = {
                "mart_outcome_board": "board_level = 'team'",
                "mart_budget_runway": "scope = 'team'",
            }
            shown = {
                team
                for (team,) in con.execute(
                    f"select distinct team_id from marts.{mart} "
                    f"where team_id is not null and {where.get(mart, 'true')}"
                ).fetchall()
            }
            assert all(people[team] >= 5 for team in shown), (mart, shown, people)
            assert shown <= set(people), mart
    if built_org.size == "tiny":  # checkout (3), payments (4) and the bots: one group of 7
        assert dict(people) == {OTHER: 7}
    else:  # data (4) and the no-team group, filled up by platform (6), the smallest team
        assert group("data") == group("platform") == group(None) == OTHER
        assert people[OTHER] == 10 and group("checkout") == "checkout"


def test_the_rule_merges_small_teams_and_fills_the_other_group():
    def seed(**sizes):
        return [(team, False) for team, n in sizes.items() for _ in range(n)] + [(None, True)]

    assert reporting_groups(seed(a=5, b=6, c=3, d=2), minimum=5) == {
        "a": "a",
        "b": "b",
        "c": OTHER,
        "d": OTHER,
        NO_TEAM: OTHER,
    }
    # c alone is 2: the smallest team (a, 5; then ties by name) joins the other teams.
    assert reporting_groups(seed(a=5, b=5, c=2), minimum=5) == {
        "a": OTHER,
        "b": "b",
        "c": OTHER,
        NO_TEAM: OTHER,
    }
    assert set(reporting_groups(seed(a=2, b=1), minimum=5).values()) == {OTHER}


@pytest.fixture(scope="module")
def solo_org(tiny_store, tiny_raw_warehouse, tmp_path_factory):
    """The tiny organisation, SOLO moved to a team of one, a team budget for it, built with a
    minimum of 3. Returns (warehouse, store, (team, is_bot) of each person, the build, seeds)."""
    work = tmp_path_factory.mktemp("solo")
    seeds = export_seeds(tiny_store, work / "seeds")
    people = seeds / "people.csv"
    with people.open(newline="") as f:
        rows = list(csv.DictReader(f))
    for row in rows:
        if row["person_id"] == SOLO:
            assert row["team"] == "payments"
            row["team"] = "solo"
    with people.open("w", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    with (seeds / "ai_budgets.csv").open("a") as f:
        f.write("team,solo,2026-10-01,2026-10-31,100.00\n")
    warehouse = work / "warehouse.duckdb"
    shutil.copyfile(tiny_raw_warehouse, warehouse)
    build = build_models(
        warehouse,
        seeds_dir=seeds,
        as_of=store_as_of(tiny_store),
        dbt_vars={"min_group_size": MINIMUM},
    )
    teams = {r["person_id"]: (r["team"] or None, r["is_bot"] == "true") for r in rows}
    return warehouse, tiny_store, teams, build, seeds


def _connect(warehouse: Path, store: Path) -> duckdb.DuckDBPyConnection:
    con = duckdb.connect(str(warehouse), read_only=True)
    con.execute(f"attach '{store}' as sim (read_only)")
    return con


def test_a_one_person_team_shows_in_no_mart(solo_org):
    warehouse, store, teams, build, _ = solo_org
    assert build.success, build.error or build.failed  # the privacy tests among the rest
    groups = reporting_groups(teams.values(), minimum=MINIMUM)
    assert groups == {"payments": "payments", "checkout": OTHER, "solo": OTHER, NO_TEAM: OTHER}
    with _connect(warehouse, store) as con:
        assert con.execute(
            "select reporting_group, group_people from intermediate.int_reporting_groups "
            "where team_id = 'solo'"
        ).fetchall() == [(OTHER, 4)]
        for mart in _team_marts(con):
            shown = {
                t for (t,) in con.execute(f"select distinct team_id from marts.{mart}").fetchall()
            }
            assert not shown & {"solo", "checkout", NO_TEAM}, mart
        # The person is in no row of a mart but the PR record, which names its author.
        for mart, column in con.execute(
            "select table_name, column_name from information_schema.columns "
            "where table_schema = 'marts' and column_name in ('person_id', 'author_person_id')"
        ).fetchall():
            found = con.execute(
                f"select count(*) from marts.{mart} where {column} = '{SOLO}'"
            ).fetchone()[0]
            assert found == 0 or mart == "fct_pull_requests", mart
        assert (
            con.execute(
                f"select count(*) from marts.fct_pull_requests where author_person_id = '{SOLO}'"
            ).fetchone()[0]
            > 0
        )  # the person did ship work: the test is not vacuous
        persons = con.execute(
            "select distinct person_id from marts.mart_outcome_board where board_level = 'person'"
        ).fetchall()
        assert {teams[p][0] for (p,) in persons} == {"payments"}
        budgets = con.execute(
            "select distinct team_id from marts.mart_budget_runway where scope = 'team'"
        ).fetchall()
        assert budgets == [("payments",)]


def test_the_other_group_is_the_truths_sum_of_the_small_teams(solo_org):
    warehouse, store, teams, _, _ = solo_org
    groups = reporting_groups(teams.values(), minimum=MINIMUM)

    def group(person_id, team=None):
        # A person's team is the edited seed's; spend of no person keeps its key's team.
        owner = teams[person_id][0] if person_id in teams else team
        return groups.get(owner or NO_TEAM, OTHER)

    with _connect(warehouse, store) as con:
        opened, shipped = Counter(), Counter()
        for person, shipped_at in con.execute(
            "select author_person_id, shipped_at from sim.truth_pull_requests"
        ).fetchall():
            opened[group(person)] += 1
            shipped[group(person)] += shipped_at is not None
        spend = defaultdict(float)
        for person, team, usd in con.execute(
            "select person_id, team_id, cost_usd from sim.truth_spend"
        ).fetchall():
            spend[group(person, team)] += float(usd)

        assert set(opened) == {"payments", OTHER} and opened[OTHER] > 0
        assert dict(
            con.execute(
                "select team_id, sum(opened) from marts.mart_delivery_funnel group by 1"
            ).fetchall()
        ) == dict(opened)
        assert dict(
            con.execute(
                "select team_id, sum(shipped_prs) from marts.mart_cost_per_outcome group by 1"
            ).fetchall()
        ) == dict(shipped)
        got = dict(
            con.execute(
                "select team_id, sum(attributed_spend_usd + team_key_spend_usd) "
                "from marts.mart_cost_per_outcome group by 1"
            ).fetchall()
        )
        assert set(got) == set(spend)
        for team, usd in spend.items():
            assert abs(float(got[team]) - usd) < 0.01, team
        # The totals are the organisation's: nothing suppressed, nothing counted twice.
        totals = con.execute(
            "select count(*), count(shipped_at), (select sum(cost_usd) from sim.truth_spend) "
            "from sim.truth_pull_requests"
        ).fetchone()
        assert sum(opened.values()) == totals[0] and sum(shipped.values()) == totals[1]
        assert abs(sum(float(v) for v in got.values()) - float(totals[2])) < 0.01
        board = con.execute(
            "select sum(shipped_prs) from marts.mart_outcome_board where board_level = 'team'"
        ).fetchone()[0]
        assert board == totals[1]


def test_the_check_fails_on_a_mart_that_shows_a_small_team(solo_org, tmp_path):
    """Two marts that forgot the groups: one shows the team of one, one a team of three
    (at the minimum, but merged, so no group of its own holds its people)."""
    warehouse, store, _, _, seeds = solo_org
    corrupted = tmp_path / "warehouse.duckdb"
    shutil.copyfile(warehouse, corrupted)
    with duckdb.connect(str(corrupted)) as con:
        con.execute(
            "update marts.mart_cost_per_outcome set team_id = 'solo' "
            "where team_id = 'other' "
            "and month = (select min(month) from marts.mart_cost_per_outcome)"
        )
        con.execute(
            "update marts.mart_delivery_funnel set team_id = 'checkout' where team_id = 'other'"
        )
    result = build_models(
        corrupted,
        select="test_name:describes_enough_people",
        seeds_dir=seeds,
        as_of=store_as_of(store),
        dbt_vars={"min_group_size": MINIMUM},
    )
    assert not result.success
    failed = sorted(f.unique_id.split(".")[2] for f in result.failed)
    assert failed == [
        "describes_enough_people_mart_cost_per_outcome_team_id",
        "describes_enough_people_mart_delivery_funnel_team_id",
    ], failed
