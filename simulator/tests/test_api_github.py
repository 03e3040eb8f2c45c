"""The simulated GitHub REST API: shapes, clock semantics, pagination, auth, limits, ETags.

Two stores: a small handcrafted one for precise edge cases (the clock, the 250-commit and
1,000-run caps), and the generated `tiny` organisation (conftest) walked end to end.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import duckdb
import pytest
import requests

from org_simulator.credentials import SIM_CREDENTIALS
from org_simulator.faults import Fault
from org_simulator.schema import create_all
from org_simulator.server import SimulatorServer
from org_simulator.vendors import github_transport

AS_OF = datetime(2026, 9, 1)
AUTH = {"Authorization": f"Bearer {SIM_CREDENTIALS['github']}"}
T0 = datetime(2026, 5, 1)  # the handcrafted history starts here

# --- the handcrafted store -----------------------------------------------------------------
# acme/api PRs: 1 merged early; 2 merged on 08-20 (after the 08-10 clock some tests set);
# 3 closed unmerged; 4 created after as_of; 5 has 260 commits; 6 a draft until 08-12;
# 10..44 plain open PRs for paging. acme/web: one Dependabot PR. acme/future: created later.


def _insert(con, table: str, rows: list[tuple]) -> None:
    """One multi-row insert (far quicker than executemany on DuckDB)."""
    if rows:
        one = "(" + ",".join("?" * len(rows[0])) + ")"
        params = [value for row in rows for value in row]
        con.execute(f"insert into {table} values {','.join([one] * len(rows))}", params)


def d(*parts: int) -> datetime:
    return datetime(*parts)


def sha(*parts: object, fill: str = "c") -> str:
    return "".join(f"{p:04d}" if isinstance(p, int) else str(p) for p in parts).ljust(40, fill)


def _person(pid, name, login, gid, bot=False) -> tuple:
    email = None if bot else f"{login}@acme.test"
    return (pid, name, "t1", "bot" if bot else "eng", email, None, login, gid, None, None,
            None, bot, False, not bot, 1.0, 0.5)  # fmt: skip


def _repository(rid, name, created, pushed) -> tuple:
    return (rid, "acme", name, f"acme/{name}", "t1", f"The {name}", "Python", "main", True,
            created, pushed)  # fmt: skip


def _pr(repo, number, created, *, merged=None, closed=None, author="alice", draft=False,
        ready=None, labels='["ai-assisted"]', head_sha=None, pr_id=None) -> tuple:  # fmt: skip
    closed = closed or merged
    return (
        pr_id or 100_000 + number, repo, number, f"PR {number}", f"Body of {number}", author,
        f"feature/{number}", head_sha or sha(number, fill="f"), "main", labels, draft, ready,
        created, closed, merged, sha(number, fill="m") if merged else None,
        "bob" if merged else None, 10 * number, number, 1 + number % 3,
    )  # fmt: skip


def _commit(number, position, at, *, login="alice", email="alice@acme.test") -> tuple:
    message = f"Commit {position} of {number}\n\nCo-authored-by: Claude <noreply@anthropic.com>"
    return ("acme/api", number, sha(number, position), position, message, "Alice", email,
            login, at, "Alice", email, at)  # fmt: skip


def _review_comment(cid, number, review_id, path, created, updated) -> tuple:
    return (cid, "acme/api", number, review_id, "bob", f"comment {cid}", path, 3, "c1",
            created, updated)  # fmt: skip


def _deployment(did, sha_, env, previous, created, updated) -> tuple:
    payload = json.dumps({"previous_sha": previous})
    return (did, "acme/api", sha_, "main", "deploy", env, f"deploy {did}", "alice", payload,
            env == "production", created, updated, False)  # fmt: skip


def _job(jid, attempt, name, conclusion, created, started, completed) -> tuple:
    return (jid, 1_000_001, "acme/api", attempt, name, "x", "completed", conclusion, created,
            started, completed, f"runner {jid}")  # fmt: skip


def _web_run(i: int) -> tuple:
    created = d(2026, 8, i)
    return (2_000_000 + i, "acme/web", 88, "Deploy", ".github/workflows/deploy.yml", "push",
            "main", "b" * 40, None, "bob", i, 1, "completed", "success", created, created,
            created + timedelta(minutes=5))  # fmt: skip


def build_store(path: Path) -> Path:
    con = duckdb.connect(str(path))
    create_all(con)
    con.execute("insert into org_meta values ('as_of', ?)", [AS_OF.isoformat()])
    _insert(
        con,
        "org_people",
        [
            _person("p1", "Alice", "alice", 1001),
            _person("p2", "Bob", "bob", 1002),
            _person("p3", "Dependabot", "dependabot[bot]", 49699333, bot=True),
        ],
    )
    _insert(
        con,
        "gh_repositories",
        [
            _repository(1, "api", d(2026, 1, 1), d(2026, 8, 30)),
            _repository(2, "web", d(2026, 2, 1), d(2026, 10, 1)),
            _repository(3, "future", d(2026, 10, 1), d(2026, 10, 2)),
        ],
    )
    prs = [
        _pr("acme/api", 1, d(2026, 6, 1), merged=d(2026, 6, 3)),
        _pr("acme/api", 2, d(2026, 7, 1), merged=d(2026, 8, 20)),
        _pr("acme/api", 3, d(2026, 8, 1), closed=d(2026, 8, 5)),
        _pr("acme/api", 4, d(2026, 9, 10)),
        _pr("acme/api", 5, T0, head_sha=sha(5, 259)),
        _pr(
            "acme/api",
            6,
            d(2026, 8, 8),
            ready=d(2026, 8, 12),
            labels='[{"name": "claude-code", "color": "d97757"}]',
        ),  # fmt: skip
        _pr("acme/web", 1, d(2026, 3, 1), author="dependabot[bot]", pr_id=200_001),
    ]
    prs += [_pr("acme/api", n, T0 + timedelta(days=n), author="bob", labels=None)
            for n in range(10, 45)]  # fmt: skip
    _insert(con, "gh_pull_requests", prs)
    commits = [_commit(n, i, created + timedelta(hours=i))
               for n, created in ((1, d(2026, 6, 1)), (2, d(2026, 7, 1)), (3, d(2026, 8, 1)))
               for i in range(3)]  # fmt: skip
    # PR 2: a push on 08-15 from an email not linked to any account.
    commits.append(_commit(2, 3, d(2026, 8, 15), login=None, email="alice@personal.test"))
    commits += [_commit(5, i, T0 + timedelta(minutes=i)) for i in range(260)]
    _insert(con, "gh_commits", commits)
    activity = [(1, d(2026, 6, 1)), (1, d(2026, 6, 3)), (2, d(2026, 7, 1)), (2, d(2026, 8, 1)),
                (2, d(2026, 8, 15)), (2, d(2026, 8, 20)), (3, d(2026, 8, 1)), (3, d(2026, 8, 5)),
                (6, d(2026, 8, 8)), (6, d(2026, 8, 12))]  # fmt: skip
    activity += [(n, T0 + timedelta(days=n)) for n in range(10, 45)]
    _insert(con, "gh_pull_request_activity", [("acme/api", n, t) for n, t in activity])
    _insert(
        con,
        "gh_reviews",
        [
            (501, "acme/api", 2, "bob", "COMMENTED", "hm", "c1", d(2026, 7, 2)),
            (502, "acme/api", 2, "bob", "APPROVED", "", "c2", d(2026, 8, 16)),
            (503, "acme/api", 2, "carol", "PENDING", "", "c2", None),
        ],
    )
    _insert(
        con,
        "gh_review_comments",
        [
            _review_comment(601, 2, 501, "a.py", d(2026, 7, 2), d(2026, 8, 16)),
            _review_comment(602, 2, 502, "b.py", d(2026, 8, 16), d(2026, 8, 16)),
            _review_comment(603, 1, None, "c.py", d(2026, 6, 2), d(2026, 6, 2)),
            # drafted on 07-05 in review 502, which is only submitted on 08-16
            _review_comment(604, 2, 502, "d.py", d(2026, 7, 5), d(2026, 7, 5)),
        ],
    )
    _insert(
        con,
        "gh_issue_comments",
        [
            (701, "acme/api", 2, "bob", "LGTM", d(2026, 7, 3), d(2026, 7, 3)),
            (702, "acme/api", 2, "alice", "ty", d(2026, 8, 17), d(2026, 8, 17)),
            (703, "acme/api", 1, "bob", "late", d(2026, 6, 2), d(2026, 9, 5)),
        ],
    )
    _insert(
        con,
        "gh_deployments",
        [
            _deployment(801, "s1", "production", "s0", d(2026, 6, 4), d(2026, 6, 4, 0, 5)),
            _deployment(802, "s2", "staging", "s1", d(2026, 8, 21), d(2026, 8, 21, 1)),
            _deployment(803, "s3", "production", "s1", d(2026, 9, 3), d(2026, 9, 3)),
        ],
    )
    statuses = [(901, 801, "in_progress", "production", d(2026, 6, 4)),
                (902, 801, "success", "production", d(2026, 6, 4, 0, 5)),
                (903, 802, "success", "staging", d(2026, 8, 21, 1))]  # fmt: skip
    _insert(
        con,
        "gh_deployment_statuses",
        [(i, dep, "acme/api", st, env, "", "alice", t) for i, dep, st, env, t in statuses],
    )
    # 1,100 runs on acme/api, one every 2 hours from T0; run 1_000_001 has two attempts and
    # settles on 2026-08-11 (after the 08-10 clock). acme/web gets 3 runs.
    con.execute(
        """insert into gh_workflow_runs
           select 1000000 + i, 'acme/api', 77, 'CI', '.github/workflows/ci.yml',
               case when i % 2 = 0 then 'push' else 'pull_request' end,
               case when i % 2 = 0 then 'main' else 'feature/' || i end,
               lpad(i::varchar, 40, 'a'), null, 'alice', i, 1, 'completed',
               case when i % 5 = 0 then 'failure' else 'success' end,
               ts, ts + interval 1 minute, ts + interval 10 minute
           from (select i, timestamp '2026-05-01' + i * interval 2 hour as ts
                 from range(1, 1101) t(i))"""
    )
    con.execute(
        """update gh_workflow_runs set run_attempt = 2, pr_number = 2, head_sha = ?,
               created_at = timestamp '2026-08-09', run_started_at = timestamp '2026-08-10 12:00',
               updated_at = timestamp '2026-08-11'
           where id = 1000001""",
        [sha(2, 2)],
    )
    _insert(con, "gh_workflow_runs", [_web_run(i) for i in (1, 2, 3)])
    _insert(
        con,
        "gh_workflow_jobs",
        [
            _job(
                3001, 1, "test", "failure", d(2026, 8, 9), d(2026, 8, 9, 0, 1), d(2026, 8, 9, 0, 9)
            ),
            _job(
                3002, 1, "lint", "success", d(2026, 8, 9), d(2026, 8, 9, 0, 1), d(2026, 8, 9, 0, 3)
            ),
            _job(
                3003,
                2,
                "test",
                "success",
                d(2026, 8, 10, 12),
                d(2026, 8, 10, 12, 1),
                d(2026, 8, 11),
            ),
        ],
    )
    con.close()
    return path


@pytest.fixture(scope="module")
def hand_store(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_store(tmp_path_factory.mktemp("gh") / "hand.duckdb")


@pytest.fixture(scope="module")
def hand_server(hand_store: Path) -> Iterator[SimulatorServer]:
    # One server for the module (stopping one waits out serve_forever's poll interval).
    with SimulatorServer(hand_store) as sim:
        yield sim


@pytest.fixture
def hand(hand_server: SimulatorServer) -> Iterator[SimulatorServer]:
    """The handcrafted server with a clean clock, faults and statistics."""
    hand_server.set_now(AS_OF)
    hand_server.faults.clear()
    hand_server.reset_stats()
    yield hand_server
    hand_server.faults.clear()


# --- client helpers --------------------------------------------------------------------------


HTTP = requests.Session()  # keep-alive, as a loader's client would


@pytest.fixture(autouse=True)
def _close_connections() -> Iterator[None]:
    """Drop keep-alive connections after each test, so no server thread waits on one."""
    yield
    HTTP.close()


def get(sim: SimulatorServer, path: str, params=None, headers=None) -> requests.Response:
    return HTTP.get(
        sim.base_url("github") + path,
        params=params,
        headers={**AUTH, **(headers or {})},
        timeout=10,
    )


def ok(sim: SimulatorServer, path: str, params=None) -> Any:
    response = get(sim, path, params)
    assert response.status_code == 200, response.text
    return response.json()


def links(response: requests.Response) -> dict[str, str]:
    return {
        rel: url
        for url, rel in re.findall(r'<([^>]+)>; rel="(\w+)"', response.headers.get("link", ""))
    }


def walk(sim: SimulatorServer, path: str, params=None, key: str | None = None) -> list[dict]:
    """Every item of a listing, following Link rel="next" as a client would."""
    items: list[dict] = []
    url: str | None = sim.base_url("github") + path
    first = True
    while url:
        response = HTTP.get(url, params=params if first else None, headers=AUTH, timeout=10)
        assert response.status_code == 200, response.text
        body = response.json()
        items.extend(body[key] if key else body)
        url = links(response).get("next")
        first = False
    return items


def at(sim: SimulatorServer, when: datetime) -> None:
    sim.set_now(when)


# --- handcrafted: shapes and clock semantics -------------------------------------------------


def test_auth_bad_and_missing_token(hand):
    url = hand.base_url("github") + "/repos/acme/api"
    for headers in ({}, {"Authorization": "Bearer nope"}, {"Authorization": "Basic x"}):
        response = requests.get(url, headers=headers, timeout=10)
        assert response.status_code == 401
        body = response.json()
        assert body["message"] == "Bad credentials"
        assert body["documentation_url"].startswith("https://docs.github.com")
    token = {"Authorization": f"token {SIM_CREDENTIALS['github']}"}
    assert requests.get(url, headers=token, timeout=10).status_code == 200


def test_not_found_shape(hand):
    for path in (
        "/repos/acme/nope",
        "/repos/acme/future",
        "/repos/acme/api/pulls/4",
        "/repos/acme/api/pulls/x",
        "/repos/acme/api/deployments/803",
        "/repos/acme/web/actions/runs/1000001",
        "/orgs/nobody/repos",
        "/repos/acme/api/issues/999/comments",
    ):
        response = get(hand, path)
        assert response.status_code == 404, path
        assert response.json()["message"] == "Not Found"


def test_repos(hand):
    repos = ok(hand, "/orgs/acme/repos")
    assert [r["full_name"] for r in repos] == ["acme/web", "acme/api"]  # created desc
    repo = ok(hand, "/repos/ACME/Api")
    assert repo["id"] == 1 and repo["full_name"] == "acme/api"
    assert repo["owner"]["type"] == "Organization" and repo["default_branch"] == "main"
    web = ok(hand, "/repos/acme/web")
    assert web["pushed_at"] <= "2026-09-01T00:00:00Z"  # the later push is not visible
    by_name = ok(hand, "/orgs/acme/repos", {"sort": "full_name"})
    assert [r["name"] for r in by_name] == ["api", "web"]


def test_pull_list_shape_and_clock(hand):
    pulls = walk(hand, "/repos/acme/api/pulls", {"state": "all", "per_page": 100})
    numbers = [p["number"] for p in pulls]
    assert 4 not in numbers  # created after the clock
    created = [p["created_at"] for p in pulls]
    assert created == sorted(created, reverse=True)
    p1 = next(p for p in pulls if p["number"] == 1)
    assert p1["state"] == "closed" and p1["merged_at"] == "2026-06-03T00:00:00Z"
    assert p1["html_url"] == "https://github.com/acme/api/pull/1"
    assert p1["user"]["login"] == "alice" and p1["user"]["id"] == 1001
    assert p1["user"]["type"] == "User" and p1["author_association"] == "MEMBER"
    assert p1["labels"][0]["name"] == "ai-assisted" and isinstance(p1["labels"][0]["id"], int)
    assert p1["head"]["ref"] == "feature/1" and p1["base"]["ref"] == "main"
    assert p1["merge_commit_sha"] and p1["url"].endswith("/repos/acme/api/pulls/1")
    for key in ("id", "node_id", "draft", "locked", "requested_reviewers", "closed_at"):
        assert key in p1
    bot = ok(hand, "/repos/acme/web/pulls")[0]
    assert bot["user"]["type"] == "Bot" and bot["author_association"] == "NONE"
    assert bot["user"]["url"].endswith("/users/dependabot%5Bbot%5D")


def test_pull_state_as_of_clock(hand):
    at(hand, datetime(2026, 8, 10))
    pr = ok(hand, "/repos/acme/api/pulls/2")
    assert pr["state"] == "open" and pr["merged"] is False
    assert pr["merged_at"] is None and pr["closed_at"] is None and pr["merged_by"] is None
    assert pr["merge_commit_sha"] is None
    assert pr["updated_at"] == "2026-08-01T00:00:00Z"
    assert pr["commits"] == 3  # the 08-15 push is in the future
    assert pr["head"]["sha"] == f"{2:04d}{2:04d}".ljust(40, "c")
    assert pr["comments"] == 1 and pr["review_comments"] == 1
    open_numbers = {p["number"] for p in walk(hand, "/repos/acme/api/pulls", {"per_page": 50})}
    assert 2 in open_numbers and 3 not in open_numbers and 1 not in open_numbers
    assert ok(hand, "/repos/acme/api/pulls/6")["draft"] is True
    assert [r["id"] for r in ok(hand, "/repos/acme/api/pulls/2/reviews")] == [501]
    assert len(ok(hand, "/repos/acme/api/pulls/2/commits")) == 3
    assert [c["id"] for c in ok(hand, "/repos/acme/api/pulls/2/comments")] == [601]
    comment = ok(hand, "/repos/acme/api/pulls/2/comments")[0]
    assert comment["updated_at"] == "2026-07-02T00:00:00Z"  # the edit is in the future
    assert [c["id"] for c in ok(hand, "/repos/acme/api/issues/2/comments")] == [701]

    at(hand, AS_OF)
    pr = ok(hand, "/repos/acme/api/pulls/2")
    assert pr["state"] == "closed" and pr["merged"] is True
    assert pr["merged_at"] == "2026-08-20T00:00:00Z" and pr["merged_by"]["login"] == "bob"
    assert pr["updated_at"] == "2026-08-20T00:00:00Z" and pr["commits"] == 4
    assert pr["additions"] == 20 and pr["changed_files"] == 3
    assert ok(hand, "/repos/acme/api/pulls/6")["draft"] is False
    reviews = ok(hand, "/repos/acme/api/pulls/2/reviews")
    assert [r["id"] for r in reviews] == [501, 502]  # ascending; the pending one is hidden
    assert reviews[1]["state"] == "APPROVED" and reviews[1]["submitted_at"]
    assert reviews[1]["html_url"].endswith("/pull/2#pullrequestreview-502")


def test_pull_sort_updated_and_filters(hand):
    pulls = walk(
        hand,
        "/repos/acme/api/pulls",
        {"state": "all", "sort": "updated", "direction": "desc", "per_page": 7},
    )
    updated = [(p["updated_at"], p["number"]) for p in pulls]
    assert updated == sorted(updated, reverse=True)
    assert len(pulls) == len({p["number"] for p in pulls}) == 40
    default_asc = walk(hand, "/repos/acme/api/pulls", {"state": "all", "sort": "updated"})
    assert [p["updated_at"] for p in default_asc] == sorted(p["updated_at"] for p in pulls)
    asc = walk(hand, "/repos/acme/api/pulls", {"state": "closed", "direction": "asc"})
    assert [p["number"] for p in asc] == [1, 2, 3]
    assert get(hand, "/repos/acme/api/pulls", {"state": "bogus"}).status_code == 422
    long_running = ok(hand, "/repos/acme/api/pulls", {"sort": "long-running", "state": "all"})
    assert {p["number"] for p in long_running} == {2, 3}  # over 30 days old, active since


def test_commits_full_message_authors_and_cap(hand):
    commits = ok(hand, "/repos/acme/api/pulls/2/commits")
    assert commits[0]["commit"]["message"].endswith(
        "Co-authored-by: Claude <noreply@anthropic.com>"
    )
    assert commits[0]["author"]["login"] == "alice"
    assert commits[-1]["author"] is None  # an email not linked to an account
    assert commits[-1]["commit"]["author"]["email"] == "alice@personal.test"
    assert commits[1]["parents"][0]["sha"] == commits[0]["sha"]
    first = get(hand, "/repos/acme/api/pulls/5/commits", {"per_page": 100})
    assert links(first)["last"].endswith("page=3")
    allc = walk(hand, "/repos/acme/api/pulls/5/commits", {"per_page": 100})
    assert len(allc) == 250  # GitHub lists at most 250 commits
    assert ok(hand, "/repos/acme/api/pulls/5/commits", {"per_page": 100, "page": 4}) == []
    assert ok(hand, "/repos/acme/api/pulls/5")["commits"] == 260
    assert allc[100]["parents"][0]["sha"] == allc[99]["sha"]  # parents across pages


def test_comment_since_and_repo_wide(hand):
    review = walk(hand, "/repos/acme/api/pulls/comments")
    assert [c["id"] for c in review] == [601, 602, 603, 604]  # ascending id by default
    drafted = review[3]  # shows its drafting time once its review is submitted
    assert drafted["created_at"] == "2026-07-05T00:00:00Z"
    assert drafted["pull_request_review_id"] == 502
    since = walk(hand, "/repos/acme/api/pulls/comments", {"since": "2026-08-01T00:00:00Z"})
    assert [c["id"] for c in since] == [601, 602]
    desc = walk(hand, "/repos/acme/api/pulls/comments", {"sort": "updated", "direction": "desc"})
    assert [c["id"] for c in desc] == [602, 601, 604, 603]
    issue = walk(hand, "/repos/acme/api/issues/comments")
    assert [c["id"] for c in issue] == [701, 702, 703]
    c = issue[0]
    assert c["html_url"] == "https://github.com/acme/api/pull/2#issuecomment-701"
    assert c["issue_url"].endswith("/repos/acme/api/issues/2")
    assert issue[2]["updated_at"] == "2026-06-02T00:00:00Z"  # the 09-05 edit is later
    late = walk(hand, "/repos/acme/api/issues/comments", {"since": "2026-08-17T00:00:00Z"})
    assert [c["id"] for c in late] == [702]


def test_deployments(hand):
    deployments = walk(hand, "/repos/acme/api/deployments")
    assert [d["id"] for d in deployments] == [802, 801]  # newest first; 803 is later
    assert deployments[1]["payload"] == {"previous_sha": "s0"}
    assert deployments[1]["creator"]["login"] == "alice"
    prod = walk(hand, "/repos/acme/api/deployments", {"environment": "production"})
    assert [d["id"] for d in prod] == [801]
    assert walk(hand, "/repos/acme/api/deployments", {"sha": "s2"})[0]["id"] == 802
    assert ok(hand, "/repos/acme/api/deployments/801")["production_environment"] is True
    statuses = walk(hand, "/repos/acme/api/deployments/801/statuses")
    assert [(s["id"], s["state"]) for s in statuses] == [(902, "success"), (901, "in_progress")]
    at(hand, datetime(2026, 6, 4, 0, 1))
    assert [s["id"] for s in walk(hand, "/repos/acme/api/deployments/801/statuses")] == [901]
    assert ok(hand, "/repos/acme/api/deployments/801")["updated_at"] == "2026-06-04T00:00:00Z"


def test_runs_listing_filters_and_cap(hand):
    first = get(hand, "/repos/acme/api/actions/runs", {"per_page": 100})
    body = first.json()
    assert body["total_count"] == 1100 and len(body["workflow_runs"]) == 100
    assert links(first)["last"].endswith("page=11")
    # unfiltered: every run is reachable
    assert (
        len(walk(hand, "/repos/acme/api/actions/runs", {"per_page": 100}, "workflow_runs")) == 1100
    )
    # filtered: 1,000 at most, then empty pages
    params = {"created": ">=2026-05-01", "per_page": 100}
    runs = walk(hand, "/repos/acme/api/actions/runs", params, "workflow_runs")
    assert len(runs) == 1000
    beyond = ok(hand, "/repos/acme/api/actions/runs", {**params, "page": 11})
    assert beyond["total_count"] == 1100 and beyond["workflow_runs"] == []
    created = [r["created_at"] for r in runs]
    assert created == sorted(created, reverse=True)
    day = ok(hand, "/repos/acme/api/actions/runs", {"created": "2026-05-02", "per_page": 100})
    assert day["total_count"] == 12  # 00, 02, ..., 22 h
    rng = ok(hand, "/repos/acme/api/actions/runs", {"created": "2026-05-02..2026-05-03"})
    assert rng["total_count"] == 24
    le = ok(hand, "/repos/acme/api/actions/runs", {"created": "<=2026-05-01"})
    assert le["total_count"] == 10  # 04h..22h on the first day (run 1 moved)
    lt = ok(hand, "/repos/acme/api/actions/runs", {"created": "<2026-05-02T00:00:00Z"})
    assert lt["total_count"] == 10
    failures = walk(
        hand,
        "/repos/acme/api/actions/runs",
        {"status": "failure", "branch": "main", "per_page": 100},
        "workflow_runs",
    )
    assert failures and all(
        r["conclusion"] == "failure" and r["head_branch"] == "main" for r in failures
    )
    assert ok(hand, "/repos/acme/api/actions/runs", {"event": "push"})["total_count"] == 550
    assert get(hand, "/repos/acme/api/actions/runs", {"created": "yesterday"}).status_code == 422


def test_run_and_jobs_as_of_clock(hand):
    at(hand, datetime(2026, 8, 10, 13))
    run = ok(hand, "/repos/acme/api/actions/runs/1000001")
    assert run["status"] == "in_progress" and run["conclusion"] is None
    assert run["run_attempt"] == 2 and run["pull_requests"][0]["number"] == 2
    assert run["display_title"] == "PR 2"
    bare = ok(hand, "/repos/acme/api/actions/runs/1000001", {"exclude_pull_requests": "true"})
    assert bare["pull_requests"] == []
    assert run["head_commit"]["message"].startswith("Commit 2 of 2")
    jobs = ok(hand, "/repos/acme/api/actions/runs/1000001/jobs")
    assert jobs["total_count"] == 1 and jobs["jobs"][0]["id"] == 3003
    assert jobs["jobs"][0]["status"] == "in_progress" and jobs["jobs"][0]["conclusion"] is None
    assert jobs["jobs"][0]["completed_at"] is None
    everything = ok(hand, "/repos/acme/api/actions/runs/1000001/jobs", {"filter": "all"})
    assert [j["id"] for j in everything["jobs"]] == [3001, 3002, 3003]
    first = ok(hand, "/repos/acme/api/actions/runs/1000001/attempts/1/jobs")
    assert [(j["id"], j["conclusion"]) for j in first["jobs"]] == [
        (3001, "failure"),
        (3002, "success"),
    ]
    assert get(hand, "/repos/acme/api/actions/runs/1000001/attempts/3/jobs").status_code == 404
    in_progress = ok(hand, "/repos/acme/api/actions/runs", {"status": "in_progress"})
    assert [r["id"] for r in in_progress["workflow_runs"]] == [1000001]

    at(hand, AS_OF)
    run = ok(hand, "/repos/acme/api/actions/runs/1000001")
    assert run["status"] == "completed" and run["conclusion"] == "success"
    assert run["previous_attempt_url"].endswith("/attempts/1")
    job = ok(hand, "/repos/acme/api/actions/runs/1000001/jobs")["jobs"][0]
    assert job["status"] == "completed" and job["completed_at"] == "2026-08-11T00:00:00Z"
    at(hand, datetime(2026, 5, 1, 7))
    assert ok(hand, "/repos/acme/api/actions/runs")["total_count"] == 2


# --- handcrafted: transport ------------------------------------------------------------------


def test_link_header_format(hand):
    response = get(hand, "/repos/acme/api/pulls", {"state": "all", "per_page": 10, "page": 2})
    rels = links(response)
    assert list(rels) == ["prev", "next", "last", "first"]
    base = hand.base_url("github") + "/repos/acme/api/pulls?"
    assert rels["next"] == base + "state=all&per_page=10&page=3"
    assert rels["last"] == base + "state=all&per_page=10&page=4"
    assert rels["first"] == base + "state=all&per_page=10&page=1"
    last = get(hand, "/repos/acme/api/pulls", {"state": "all", "per_page": 10, "page": 4})
    assert list(links(last)) == ["prev", "first"] and len(last.json()) == 10
    single = get(hand, "/repos/acme/api/pulls/2/reviews")
    assert "link" not in single.headers
    assert len(ok(hand, "/repos/acme/api/pulls", {"state": "all", "per_page": 500})) == 40


def test_etag_304_does_not_count(hand):
    first = get(hand, "/repos/acme/api/pulls")
    etag = first.headers["etag"]
    assert re.fullmatch(r'W/"[0-9a-f]{64}"', etag)
    used = int(first.headers["x-ratelimit-used"])
    again = get(hand, "/repos/acme/api/pulls", headers={"If-None-Match": etag})
    assert again.status_code == 304 and again.content == b""
    assert again.headers["etag"] == etag
    assert int(again.headers["x-ratelimit-used"]) == used
    third = get(hand, "/repos/acme/api/pulls", headers={"If-None-Match": 'W/"other"'})
    assert third.status_code == 200 and int(third.headers["x-ratelimit-used"]) == used + 1
    limit = github_transport.RATE_LIMIT
    assert int(third.headers["x-ratelimit-remaining"]) == limit - used - 1
    assert third.headers["x-ratelimit-limit"] == str(limit)
    assert third.headers["x-ratelimit-resource"] == "core"


def test_rate_limit_fault_headers(hand):
    hand.inject(Fault(kind="rate_limit", vendor="github", status=403, retry_after=7))
    response = get(hand, "/repos/acme/api/pulls")
    assert response.status_code == 403
    assert response.headers["x-ratelimit-remaining"] == "0"
    assert response.headers["retry-after"] == "7"
    assert int(response.headers["x-ratelimit-reset"]) >= int(datetime.now().timestamp())
    assert "rate limit" in response.json()["message"]
    hand.inject(Fault(kind="rate_limit", vendor="github"))
    assert get(hand, "/repos/acme/api/pulls").status_code == 429
    assert get(hand, "/repos/acme/api/pulls").status_code == 200


def test_primary_rate_limit_exhausts(hand, monkeypatch):
    monkeypatch.setattr(github_transport, "RATE_LIMIT", 3)
    github_transport.reset_rate_limits()
    statuses = [get(hand, "/repos/acme/api").status_code for _ in range(4)]
    assert statuses == [200, 200, 200, 403]
    response = get(hand, "/repos/acme/api")
    assert response.headers["x-ratelimit-remaining"] == "0"
    assert int(response.headers["x-ratelimit-reset"]) > datetime.now().timestamp()
    github_transport.reset_rate_limits()


def test_byte_identical_bodies(hand):
    for path, params in (
        ("/repos/acme/api/pulls", {"state": "all"}),
        ("/repos/acme/api/actions/runs", {"per_page": 50}),
        ("/repos/acme/api/pulls/2/commits", None),
    ):
        a, b = get(hand, path, params), get(hand, path, params)
        assert a.content == b.content and a.headers["etag"] == b.headers["etag"]
        json.loads(a.content)


# --- the generated tiny organisation ----------------------------------------------------------


def store_rows(path: Path, sql: str, params: list | None = None) -> list[tuple]:
    con = duckdb.connect(str(path), read_only=True)
    try:
        return con.execute(sql, params or []).fetchall()
    finally:
        con.close()


def ids(items: list[dict], key: str = "id") -> list:
    return [item[key] for item in items]


def assert_walk_ids(sim, store, path, params, sql, sql_params, key=None) -> list:
    """Walking `path` yields exactly the ids `sql` selects from the store, in its order."""
    want = [r[0] for r in store_rows(store, sql, sql_params)]
    assert ids(walk(sim, path, params, key)) == want, path
    return want


def test_tiny_repos_and_listings_match_store(simulator, tiny_store):
    now = simulator.now
    repos = store_rows(
        tiny_store,
        "select full_name, owner from gh_repositories where created_at <= ? order by full_name",
        [now],
    )
    assert repos
    org = repos[0][1]
    listed = walk(simulator, f"/orgs/{org}/repos", {"per_page": 2})
    assert sorted(r["full_name"] for r in listed) == [r[0] for r in repos]
    for full, _owner in repos:
        base = f"/repos/{full}"
        assert_walk_ids(
            simulator,
            tiny_store,
            f"{base}/pulls",
            {"state": "all", "per_page": 23},
            "select id from gh_pull_requests where "
            "repo_full_name = ? and created_at <= ? order by created_at desc, "
            "number desc",
            [full, now],
        )
        open_now = {p["number"] for p in walk(simulator, f"{base}/pulls", {"per_page": 100})}
        expected_open = store_rows(
            tiny_store,
            "select number from gh_pull_requests where repo_full_name = ? and created_at <= ? "
            "and not coalesce(coalesce(closed_at, merged_at) <= ?, false)",
            [full, now, now],
        )
        assert open_now == {r[0] for r in expected_open}
        for path, table in (
            ("/pulls/comments", "gh_review_comments"),
            ("/issues/comments", "gh_issue_comments"),
        ):
            assert_walk_ids(
                simulator,
                tiny_store,
                base + path,
                {"per_page": 100},
                f"select id from {table} where repo_full_name = ? and created_at <= ? order by id",
                [full, now],
            )
        assert_walk_ids(
            simulator,
            tiny_store,
            f"{base}/deployments",
            {"per_page": 30},
            "select id from gh_deployments where repo_full_name = ? "
            "and created_at <= ? order by id desc",
            [full, now],
        )
        want = assert_walk_ids(
            simulator,
            tiny_store,
            f"{base}/actions/runs",
            {"per_page": 100},
            "select id from gh_workflow_runs where repo_full_name = ? "
            "and created_at <= ? order by created_at desc, id desc",
            [full, now],
            "workflow_runs",
        )
        first = ok(simulator, f"{base}/actions/runs", {"per_page": 1})
        assert first["total_count"] == len(want)


def test_tiny_pull_children_match_store(simulator, tiny_store):
    now = simulator.now
    # Every 8th PR, and the one with the most commits.
    sample = store_rows(
        tiny_store,
        """
        select repo_full_name, number from (
            select p.repo_full_name, p.number,
                row_number() over (order by p.repo_full_name, p.number) as rn,
                (select count(*) from gh_commits c where c.repo_full_name = p.repo_full_name
                   and c.pr_number = p.number) as n
            from gh_pull_requests p where p.created_at <= ?)
        qualify rn % 8 = 1 or n = max(n) over ()
        order by repo_full_name, number""",
        [now],
    )
    assert len(sample) >= 10
    for full, number in sample:
        base = f"/repos/{full}/pulls/{number}"
        pr = ok(simulator, base)
        assert pr["number"] == number and pr["html_url"].endswith(f"/{full}/pull/{number}")
        assert_walk_ids(
            simulator,
            tiny_store,
            f"{base}/reviews",
            {"per_page": 3},
            "select id from gh_reviews where repo_full_name = ? and "
            "pr_number = ? and submitted_at <= ? order by id",
            [full, number, now],
        )
        commits = walk(simulator, f"{base}/commits", {"per_page": 4})
        want = store_rows(
            tiny_store,
            "select sha, message from gh_commits where "
            "repo_full_name = ? and pr_number = ? and committer_date <= ? "
            "order by position",
            [full, number, now],
        )
        assert [(c["sha"], c["commit"]["message"]) for c in commits] == want[:250]
        assert pr["commits"] == len(want)
        want = assert_walk_ids(
            simulator,
            tiny_store,
            f"{base}/comments",
            {"per_page": 5},
            VISIBLE_REVIEW_COMMENTS.replace("order by", "and c.pr_number = ? order by"),
            [full, now, now, number],
        )
        assert pr["review_comments"] == len(want)
        want = assert_walk_ids(
            simulator,
            tiny_store,
            f"/repos/{full}/issues/{number}/comments",
            {"per_page": 5},
            "select id from gh_issue_comments where "
            "repo_full_name = ? and pr_number = ? and created_at <= ? order by id",
            [full, number, now],
        )
        assert pr["comments"] == len(want)


def test_tiny_deployment_statuses_and_jobs_match_store(simulator, tiny_store):
    now = simulator.now
    deployments = store_rows(
        tiny_store,
        "select repo_full_name, id from gh_deployments where created_at <= ? order by id limit 15",
        [now],
    )
    for full, did in deployments:
        assert_walk_ids(
            simulator,
            tiny_store,
            f"/repos/{full}/deployments/{did}/statuses",
            {"per_page": 1},
            "select id from gh_deployment_statuses where "
            "deployment_id = ? and created_at <= ? order by id desc",
            [did, now],
        )
    runs = store_rows(
        tiny_store,
        """
        select repo_full_name, id, run_attempt from gh_workflow_runs where created_at <= ?
        qualify row_number() over (partition by run_attempt order by id) <= 8
        order by id""",
        [now],
    )
    assert any(r[2] > 1 for r in runs)
    for full, rid, attempt in runs:
        run = ok(simulator, f"/repos/{full}/actions/runs/{rid}")
        assert run["id"] == rid and run["run_attempt"] == attempt
        assert_walk_ids(
            simulator,
            tiny_store,
            f"/repos/{full}/actions/runs/{rid}/jobs",
            {"per_page": 2},
            "select id from gh_workflow_jobs where run_id = ? and "
            "run_attempt = ? and created_at <= ? order by id",
            [rid, attempt, now],
            "jobs",
        )
        every = walk(
            simulator,
            f"/repos/{full}/actions/runs/{rid}/jobs",
            {"filter": "all", "per_page": 100},
            "jobs",
        )
        want = store_rows(
            tiny_store,
            "select id from gh_workflow_jobs where run_id = ? and created_at <= ? order by id",
            [rid, now],
        )
        assert ids(every) == [r[0] for r in want]


VISIBLE_REVIEW_COMMENTS = """
    select c.id from gh_review_comments c left join gh_reviews r on r.id = c.review_id
    where c.repo_full_name = ? and c.created_at <= ?
      and (c.review_id is null or r.submitted_at <= ?)
    order by c.id"""


def test_tiny_mid_period_clock(simulator, tiny_store):
    # The clock stops halfway through a run in the middle of the history.
    (full_run, run_id, mid), *_ = store_rows(
        tiny_store,
        """select repo_full_name, id, created_at + (updated_at - created_at) / 2
           from gh_workflow_runs where updated_at > created_at + interval 2 minute
           order by created_at, id limit 1 offset (select count(*) // 2 from gh_workflow_runs)""",
    )
    simulator.set_now(mid)
    stamp = mid.strftime("%Y-%m-%dT%H:%M:%SZ")
    run = ok(simulator, f"/repos/{full_run}/actions/runs/{run_id}")
    assert run["status"] == "in_progress" and run["conclusion"] is None
    for (full,) in store_rows(tiny_store, "select full_name from gh_repositories order by 1"):
        pulls = walk(simulator, f"/repos/{full}/pulls", {"state": "all", "per_page": 100})
        want = store_rows(
            tiny_store,
            "select number, merged_at, closed_at from gh_pull_requests"
            " where repo_full_name = ? and created_at <= ?",
            [full, mid],
        )
        assert len(pulls) == len(want)
        by_number = {p["number"]: p for p in pulls}
        for number, merged_at, closed_at in want:
            pr = by_number[number]
            closed = closed_at or merged_at
            assert pr["state"] == ("closed" if closed and closed <= mid else "open")
            if merged_at is None or merged_at > mid:
                assert pr["merged_at"] is None
            assert pr["updated_at"] <= stamp
        runs = walk(simulator, f"/repos/{full}/actions/runs", {"per_page": 100}, "workflow_runs")
        assert all(r["created_at"] <= stamp for r in runs)
        assert all(r["conclusion"] is None for r in runs if r["status"] != "completed")
        comments = walk(simulator, f"/repos/{full}/pulls/comments", {"per_page": 100})
        want = store_rows(tiny_store, VISIBLE_REVIEW_COMMENTS, [full, mid, mid])
        assert ids(comments) == [r[0] for r in want]
        issue = walk(simulator, f"/repos/{full}/issues/comments", {"per_page": 100})
        want = store_rows(
            tiny_store,
            "select id from gh_issue_comments where repo_full_name = ? and created_at <= ? "
            "order by id",
            [full, mid],
        )
        assert ids(issue) == [r[0] for r in want]


def test_tiny_transport(simulator):
    repo = simulator.repositories()[0]
    path = f"/repos/{repo}/pulls"
    assert requests.get(simulator.base_url("github") + path, timeout=10).status_code == 401
    a = get(simulator, path, {"state": "all"})
    b = get(simulator, path, {"state": "all"})
    assert a.content == b.content and a.headers["etag"] == b.headers["etag"]
    used = int(b.headers["x-ratelimit-used"])
    cached = get(simulator, path, {"state": "all"}, headers={"If-None-Match": b.headers["etag"]})
    assert cached.status_code == 304 and int(cached.headers["x-ratelimit-used"]) == used
    simulator.inject(Fault(kind="rate_limit", vendor="github", status=403, retry_after=2))
    limited = get(simulator, path)
    assert limited.status_code == 403 and limited.headers["x-ratelimit-remaining"] == "0"
    assert limited.headers["retry-after"] == "2" and "x-ratelimit-reset" in limited.headers
    assert get(simulator, path).status_code == 200
    stats = simulator.stats()
    assert stats["by_route"]["github.pulls"] >= 4
