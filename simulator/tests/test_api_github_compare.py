"""The simulated compare endpoint (`/repos/{o}/{r}/compare/{base}...{head}`) and deployments.

A small handcrafted history for the edge cases (every status, paging, the 250-commit answer
without paging, the clock, unknown shas), then the tiny organisation: every range its
deployments need, walked page by page, equals what the store's commit graph implies, found
by walking parents (not by the positions the endpoint itself uses).
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path

import duckdb
import pytest
import requests

from org_simulator.credentials import SIM_CREDENTIALS
from org_simulator.faults import Fault
from org_simulator.schema import create_all
from org_simulator.server import SimulatorServer
from org_simulator.truth_ranges import reachable

AUTH = {"Authorization": f"Bearer {SIM_CREDENTIALS['github']}"}
AS_OF = datetime(2026, 9, 1)


def sha(name: str) -> str:
    return hashlib.sha1(name.encode()).hexdigest()


# acme/api: R (root) -> P0 (push) -> M1 (merge of PR 1, whose branch A1 -> A2 forked at R)
# -> P (push) -> Q1, Q2 (PR 2 rebased) -> S (PR 3 squashed on 08-25).
API = [  # name, kind, pr, parents, committed, seq, main_seq
    ("R", "root", None, [], datetime(2026, 1, 1), 0, 0),
    ("P0", "push", None, ["R"], datetime(2026, 6, 2), 1, 1),
    ("A1", "pr_commit", 1, ["R"], datetime(2026, 6, 1), 2, 4),
    ("A2", "pr_commit", 1, ["A1"], datetime(2026, 6, 1, 1), 3, 4),
    ("M1", "merge", 1, ["P0", "A2"], datetime(2026, 6, 3), 4, 4),
    ("P", "push", None, ["M1"], datetime(2026, 6, 10), 5, 5),
    ("Q1", "rebase", 2, ["P"], datetime(2026, 8, 20), 6, 6),
    ("Q2", "rebase", 2, ["Q1"], datetime(2026, 8, 20), 7, 7),
    ("S", "squash", 3, ["Q2"], datetime(2026, 8, 25), 8, 8),
]
WEB_PUSHES = 260  # acme/web: a root and 260 pushes, for the unpaged 250-commit answer


def _git_row(repo: str, name: str, kind: str, pr, parents, at, seq, main_seq) -> tuple:
    github = kind in ("merge", "rebase", "squash")
    committer = ("GitHub", "noreply@github.com", "web-flow") if github else (
        "Alice", "alice@acme.test", "alice")  # fmt: skip
    return (repo, sha(name), seq, main_seq, kind, pr, json.dumps([sha(p) for p in parents]),
            f"{kind} {name}", "Alice", "alice@acme.test", "alice", at - timedelta(hours=1),
            *committer, at)  # fmt: skip


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SimulatorServer]:
    path = tmp_path_factory.mktemp("compare") / "store.duckdb"
    con = duckdb.connect(str(path))
    create_all(con)
    con.execute("insert into org_meta values ('as_of', ?)", [AS_OF.isoformat()])
    con.execute("""insert into org_people values ('p1', 'Alice', 't', 'eng', 'alice@acme.test',
                   null, 'alice', 1001, null, null, null, false, false, true, 1.0, 0.5)""")
    for rid, name in ((1, "api"), (2, "web")):
        con.execute(
            "insert into gh_repositories values (?, 'acme', ?, ?, 't', '', 'Python', 'main', "
            "true, timestamp '2026-01-01', timestamp '2026-08-25')",
            [rid, name, f"acme/{name}"],
        )
    rows = [_git_row("acme/api", *c) for c in API]
    rows.append(_git_row("acme/web", "w0", "root", None, [], datetime(2026, 2, 1), 0, 0))
    for n in range(1, WEB_PUSHES + 1):
        at = datetime(2026, 2, 1) + timedelta(hours=n)
        rows.append(_git_row("acme/web", f"w{n}", "push", None, [f"w{n - 1}"], at, n, n))
    con.executemany(f"insert into gh_git_commits values ({','.join('?' * 16)})", rows)
    con.close()
    with SimulatorServer(path) as sim:
        yield sim


@pytest.fixture
def sim(server: SimulatorServer) -> Iterator[SimulatorServer]:
    server.set_now(AS_OF)
    server.faults.clear()
    server.reset_stats()
    yield server
    server.faults.clear()


def get(sim: SimulatorServer, repo: str, basehead: str, **params) -> requests.Response:
    url = f"{sim.base_url('github')}/repos/{repo}/compare/{basehead}"
    return requests.get(url, params=params, headers=AUTH, timeout=10)


def links(response: requests.Response) -> dict[str, str]:
    return {
        rel: url
        for url, rel in re.findall(r'<([^>]+)>; rel="(\w+)"', response.headers.get("link", ""))
    }


def follow(response: requests.Response) -> Iterator[requests.Response]:
    """The response and every page after it (Link rel="next")."""
    while True:
        assert response.status_code == 200, response.text
        yield response
        nxt = links(response).get("next")
        if not nxt:
            return
        response = requests.get(nxt, headers=AUTH, timeout=10)


def walk(sim: SimulatorServer, repo: str, basehead: str, per_page: int) -> list[dict]:
    """Every page of a comparison, following Link rel="next"; each page's body."""
    return [page.json() for page in follow(get(sim, repo, basehead, per_page=per_page))]


def names(commits: list[dict]) -> list[str]:
    by_sha = {sha(c[0]): c[0] for c in API}
    return [by_sha[c["sha"]] for c in commits]


# --- handcrafted --------------------------------------------------------------------------------


def test_ahead_lists_every_commit_head_reaches_oldest_first_in_pages(sim):
    pages = walk(sim, "acme/api", f"{sha('R')}...{sha('S')}", per_page=3)
    assert [len(p["commits"]) for p in pages] == [3, 3, 2]
    first = pages[0]
    assert (first["status"], first["ahead_by"], first["behind_by"]) == ("ahead", 8, 0)
    assert all(p["total_commits"] == 8 and p["status"] == "ahead" for p in pages)
    listed = [c for p in pages for c in p["commits"]]
    # the merge brings PR 1's own commits; the rebase two copies; the squash one commit
    assert names(listed) == ["P0", "A1", "A2", "M1", "P", "Q1", "Q2", "S"]
    merge = listed[3]
    assert [p["sha"] for p in merge["parents"]] == [sha("P0"), sha("A2")]
    assert merge["committer"]["login"] == "web-flow"
    assert merge["commit"]["committer"]["date"] == "2026-06-03T00:00:00Z"
    assert merge["commit"]["author"]["date"] == "2026-06-02T23:00:00Z"
    assert merge["commit"]["message"] == "merge M1"
    # the changed files come with the first page only
    assert first["files"] and all(p["files"] == [] for p in pages[1:])
    assert {"filename", "status", "additions", "deletions", "changes", "patch"} <= set(
        first["files"][0]
    )
    assert first["base_commit"]["sha"] == first["merge_base_commit"]["sha"] == sha("R")
    assert first["html_url"] == f"https://github.com/acme/api/compare/{sha('R')}...{sha('S')}"
    assert first["permalink_url"].endswith(f"acme:{sha('R')}...acme:{sha('S')}")
    assert sim.stats()["by_route"] == {"github.compare": 3}


def test_behind_identical_and_diverged(sim):
    behind = get(sim, "acme/api", f"{sha('S')}...{sha('P')}").json()
    assert (behind["status"], behind["ahead_by"], behind["behind_by"]) == ("behind", 0, 3)
    assert behind["commits"] == [] and behind["total_commits"] == 0 and behind["files"] == []
    assert behind["merge_base_commit"]["sha"] == sha("P")
    same = get(sim, "acme/api", f"{sha('M1')}...{sha('M1')}").json()
    assert (same["status"], same["ahead_by"], same["behind_by"]) == ("identical", 0, 0)
    # PR 1's branch and the push made on main while it was open: neither reaches the other
    diverged = get(sim, "acme/api", f"{sha('A2')}...{sha('P0')}").json()
    assert (diverged["status"], diverged["ahead_by"], diverged["behind_by"]) == (
        "diverged",
        1,
        2,
    )
    assert names(diverged["commits"]) == ["P0"]
    assert diverged["merge_base_commit"]["sha"] == sha("R")
    # a branch commit as base: everything since, the merge that brought it included
    branch = get(sim, "acme/api", f"{sha('A1')}...{sha('P')}").json()
    assert branch["status"] == "ahead" and names(branch["commits"]) == ["P0", "A2", "M1", "P"]


def test_refs_the_clock_and_unknown_commits(sim):
    short = get(sim, "acme/api", f"{sha('P')[:7]}...main", per_page=100).json()
    assert names(short["commits"]) == ["Q1", "Q2", "S"]
    sim.set_now(datetime(2026, 8, 15))
    # main's head as of the clock; a commit made later does not exist yet
    assert get(sim, "acme/api", f"{sha('P')}...main").json()["status"] == "identical"
    later = get(sim, "acme/api", f"{sha('P')}...{sha('Q2')}")
    assert later.status_code == 404
    assert later.json() == {
        "message": "Not Found",
        "documentation_url": "https://docs.github.com/rest",
        "status": "404",
    }
    sim.set_now(AS_OF)
    for basehead in (f"{sha('R')}...{'f' * 40}", f"{sha('R')}..{sha('S')}", "R...S"):
        assert get(sim, "acme/api", basehead).status_code == 404, basehead
    assert get(sim, "acme/nope", f"{sha('R')}...{sha('S')}").status_code == 404


def test_without_paging_the_250_most_recent_commits(sim):
    root, newest = sha("w0"), sha(f"w{WEB_PUSHES}")
    response = get(sim, "acme/web", f"{root}...{newest}")
    body = response.json()
    assert "link" not in response.headers
    assert body["total_commits"] == body["ahead_by"] == WEB_PUSHES
    assert [c["sha"] for c in body["commits"]] == [
        sha(f"w{n}") for n in range(WEB_PUSHES - 249, WEB_PUSHES + 1)
    ]
    pages = walk(sim, "acme/web", f"{root}...{newest}", per_page=100)
    assert [c["sha"] for p in pages for c in p["commits"]] == [
        sha(f"w{n}") for n in range(1, WEB_PUSHES + 1)
    ]


def test_faults_and_etags_apply(sim):
    sim.inject(Fault("server_error", vendor="github", path=r"/compare/"))
    basehead = f"{sha('R')}...{sha('S')}"
    assert get(sim, "acme/api", basehead).status_code == 503
    first = get(sim, "acme/api", basehead)
    assert first.status_code == 200
    again = requests.get(
        first.url, headers={**AUTH, "If-None-Match": first.headers["etag"]}, timeout=10
    )
    assert again.status_code == 304
    assert sim.stats()["by_route"] == {"github.compare": 3}


# --- the tiny organisation ----------------------------------------------------------------------


def _graph(store: Path) -> dict[str, dict[str, tuple[int, list[str]]]]:
    with duckdb.connect(str(store), read_only=True) as con:
        rows = con.execute(
            "select repo_full_name, sha, seq, parents from gh_git_commits"
        ).fetchall()
    graph: dict[str, dict[str, tuple[int, list[str]]]] = {}
    for repo, commit, seq, parents in rows:
        graph.setdefault(repo, {})[commit] = (seq, json.loads(parents))
    return graph


def test_tiny_ranges_walk_to_what_the_commit_graph_implies(simulator, tiny_store):
    graph = _graph(tiny_store)
    with duckdb.connect(str(tiny_store), read_only=True) as con:
        pairs = con.execute(
            """select t.repo_full_name, b.sha, d.sha from truth_deployments t
               join gh_deployments d on d.id = t.deployment_id
               join gh_deployments b on b.id = t.base_deployment_id
               order by t.deployment_id"""
        ).fetchall()
    statuses = set()
    for repo, base, head in pairs:
        commits = graph[repo]
        if base not in commits or head not in commits:
            assert get(simulator, repo, f"{base}...{head}").status_code == 404
            statuses.add("not_found")
            continue
        parents = {sha: commit[1] for sha, commit in commits.items()}
        from_head, from_base = reachable(parents, head), reachable(parents, base)
        want = sorted(from_head - from_base, key=lambda c: commits[c][0])
        pages = walk(simulator, repo, f"{base}...{head}", per_page=3)
        assert [c["sha"] for p in pages for c in p["commits"]] == want
        assert pages[0]["behind_by"] == len(from_base - from_head)
        statuses.add(pages[0]["status"])
    assert statuses == {"ahead", "behind", "identical", "not_found"}


def test_tiny_deployments_carry_githubs_production_flags(simulator, tiny_store):
    with duckdb.connect(str(tiny_store), read_only=True) as con:
        repos = [r[0] for r in con.execute("select full_name from gh_repositories").fetchall()]
    seen = set()
    for repo in repos:
        url = f"{simulator.base_url('github')}/repos/{repo}/deployments"
        first = requests.get(url, params={"per_page": 100}, headers=AUTH, timeout=10)
        for page in follow(first):
            for d in page.json():
                seen.add((d["environment"], d["production_environment"]))
                assert d["transient_environment"] is False
    # GitHub's default is true only for `production`; the region name is flagged by its
    # deploy workflow; staging is not production; the rest is production by name only.
    assert {("production", True), ("eu-central-1", True), ("staging", False)} <= seen
    assert {("PRODUCTION", False), ("prod", False), ("prod-eu", False), ("live", False)} <= seen
    assert all(flag == (env in ("production", "eu-central-1")) for env, flag in seen)
