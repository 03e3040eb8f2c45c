"""What the simulator computes once (org_simulator.render_cache) never changes an answer.

A page asked again comes from the page cache and every per-parent list from one query for
all parents; neither may skip what each request must get: authentication, the clock, faults,
rate-limit accounting, conditional requests, absent fields and statistics.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import duckdb
import pytest
import requests

from org_simulator.credentials import SIM_CREDENTIALS
from org_simulator.faults import Fault
from org_simulator.http import Response, dumps
from org_simulator.options import without_fields
from org_simulator.process import SimulatorProcess
from org_simulator.render_cache import Memo, PageCache
from org_simulator.server import SimulatorServer
from org_simulator.sources_env import simulator_sources_env
from org_simulator.vendors import github_transport

AUTH = {"Authorization": f"Bearer {SIM_CREDENTIALS['github']}"}


@pytest.fixture
def simulator(tiny_store: Path) -> Iterator[SimulatorServer]:
    """A fresh server over the tiny store that keeps the pages it renders (servers render
    every page anew unless asked: a test that changes how a page renders must see it)."""
    with SimulatorServer(tiny_store, page_cache_mib=64) as sim:
        yield sim


@pytest.fixture
def http() -> Iterator[requests.Session]:
    with requests.Session() as session:  # keep-alive, as a loader's client
        yield session


def _one(store: Path, sql: str) -> tuple:
    con = duckdb.connect(str(store), read_only=True)
    try:
        return con.execute(sql).fetchone()
    finally:
        con.close()


@pytest.fixture(scope="module")
def busy_pull(tiny_store: Path) -> tuple[str, int, list, list]:
    """The PR with the most reviews: (repository, number, its reviews' submission times and
    ids, in id order)."""
    repo, number = _one(
        tiny_store,
        "select repo_full_name, pr_number from gh_reviews group by 1, 2 "
        "order by count(*) desc, 1, 2 limit 1",
    )
    con = duckdb.connect(str(tiny_store), read_only=True)
    try:
        rows = con.execute(
            "select id, submitted_at from gh_reviews where repo_full_name = ? and pr_number = ? "
            "order by id",
            [repo, number],
        ).fetchall()
    finally:
        con.close()
    return repo, number, [r[1] for r in rows], [r[0] for r in rows]


def _get(http: requests.Session, sim, path: str, headers=None, **params) -> requests.Response:
    return http.get(
        sim.base_url("github") + path, params=params, headers={**AUTH, **(headers or {})}
    )


def _body(response: requests.Response, sim) -> bytes:
    """The body but for the server's own address in the URLs it holds."""
    return response.content.replace(sim.url.encode(), b"")


def test_a_page_asked_again_is_the_same_bytes_and_counted(simulator, http, busy_pull):
    repo, number, _, review_ids = busy_pull
    path = f"/repos/{repo}/pulls/{number}/reviews"
    first, again = _get(http, simulator, path), _get(http, simulator, path)
    assert first.status_code == again.status_code == 200
    assert first.content == again.content and first.headers["etag"] == again.headers["etag"]
    assert [r["id"] for r in again.json()] == review_ids
    stats = simulator.stats()
    assert stats["by_route"] == {"github.reviews": 2}
    assert stats["page_cache"]["hits"] == 1 and stats["page_cache"]["misses"] == 1
    # Another query is another page: the second of one review each.
    second = _get(http, simulator, path, per_page=1, page=2)
    assert [r["id"] for r in second.json()] == review_ids[1:2]
    assert 'rel="prev"' in second.headers["link"]


def test_the_same_pages_with_no_cache(simulator, tiny_store, http, busy_pull):
    """Pages rendered per request (no page cache) and pages from the cache are the same."""
    repo, number, _, _ = busy_pull
    run_id, deployment_id = (
        _one(tiny_store, f"select id from gh_workflow_runs where repo_full_name = '{repo}' "
                         "order by id limit 1")[0],
        _one(tiny_store, "select deployment_id from gh_deployment_statuses order by 1 limit 1")[0],
    )  # fmt: skip
    deployment_repo = _one(
        tiny_store, f"select repo_full_name from gh_deployments where id = {deployment_id}"
    )[0]
    paths = [
        f"/repos/{repo}/pulls/{number}/{child}" for child in ("reviews", "commits", "comments")
    ]
    paths += [
        f"/repos/{repo}/issues/{number}/comments",
        f"/repos/{repo}/actions/runs/{run_id}/jobs?filter=all",
        f"/repos/{repo}/actions/runs/{run_id}/attempts/1/jobs",
        f"/repos/{deployment_repo}/deployments/{deployment_id}/statuses?per_page=1",
        f"/repos/{repo}/pulls?state=all&per_page=5&page=2",
    ]
    with SimulatorServer(tiny_store, page_cache_mib=0) as plain:
        for path in paths:
            want = _get(http, plain, path)
            assert want.status_code == 200, path
            for _ in range(2):
                got = _get(http, simulator, path)
                assert _body(got, simulator) == _body(want, plain), path
                assert got.headers.get("link", "").replace(simulator.url, "") == want.headers.get(
                    "link", ""
                ).replace(plain.url, "")
        assert plain.stats()["page_cache"] is None
    assert simulator.stats()["page_cache"]["hits"] == len(paths)


def test_a_bad_token_is_refused_on_a_cached_page(simulator, http, busy_pull):
    repo, number, _, _ = busy_pull
    path = f"/repos/{repo}/pulls/{number}/reviews"
    assert _get(http, simulator, path).status_code == 200
    for headers in ({"Authorization": "Bearer wrong"}, {"Authorization": ""}):
        refused = _get(http, simulator, path, headers=headers)
        assert refused.status_code == 401
        assert refused.json()["message"] == "Bad credentials"
    assert _get(http, simulator, path).status_code == 200


def test_a_changed_clock_changes_a_cached_page(simulator, http, busy_pull):
    repo, number, submitted, review_ids = busy_pull
    path = f"/repos/{repo}/pulls/{number}/reviews"
    now = simulator.now
    before = _get(http, simulator, path)
    # Just before the last review: the page lacks it; before the first, still more.
    simulator.set_now(submitted[-1] - timedelta(seconds=1))
    earlier = _get(http, simulator, path)
    assert earlier.status_code == 200
    assert [r["id"] for r in earlier.json()] == [
        i for i, at in zip(review_ids, submitted, strict=True) if at < submitted[-1]
    ]
    simulator.set_now(submitted[0] - timedelta(seconds=1))
    first = _get(http, simulator, path)
    assert first.status_code == 200 and first.json() == []
    simulator.set_now(now)
    assert _get(http, simulator, path).content == before.content


def test_a_fault_switched_on_after_caching_hits_the_cached_page(simulator, http, busy_pull):
    repo, number, _, review_ids = busy_pull
    path = f"/repos/{repo}/pulls/{number}/reviews"
    clean = _get(http, simulator, path)
    simulator.inject(Fault(kind="server_error", vendor="github", path="/reviews"))
    assert _get(http, simulator, path).status_code == 503
    simulator.inject(Fault(kind="malformed", vendor="github", path="/reviews"))
    broken = _get(http, simulator, path).json()
    assert broken[0]["id"] is None and broken[0]["_malformed"] is True
    simulator.inject(Fault(kind="drop_field", vendor="github", path="/reviews", field="state"))
    assert all("state" not in r for r in _get(http, simulator, path).json())
    # Spent faults leave the cached page as it was.
    after = _get(http, simulator, path)
    assert after.content == clean.content and [r["id"] for r in after.json()] == review_ids


def test_cached_pages_count_against_the_rate_limit(simulator, http, busy_pull, monkeypatch):
    repo, number, _, _ = busy_pull
    path = f"/repos/{repo}/pulls/{number}/reviews"
    monkeypatch.setattr(github_transport, "RATE_LIMIT", 4)
    github_transport.reset_rate_limits()
    try:
        answers = [_get(http, simulator, path) for _ in range(5)]
        assert [a.status_code for a in answers] == [200, 200, 200, 200, 403]
        assert [a.headers["x-ratelimit-used"] for a in answers[:4]] == ["1", "2", "3", "4"]
        assert answers[3].headers["x-ratelimit-remaining"] == "0"
        # A conditional request that matches is answered 304 and given back.
        github_transport.reset_rate_limits()
        etag = answers[0].headers["etag"]
        assert _get(http, simulator, path).headers["x-ratelimit-used"] == "1"
        again = _get(http, simulator, path, headers={"If-None-Match": etag})
        assert again.status_code == 304 and again.headers["x-ratelimit-used"] == "1"
    finally:
        github_transport.reset_rate_limits()


def test_absent_fields_are_left_out_of_cached_pages(tiny_store, http, busy_pull):
    repo, number, _, _ = busy_pull
    path = f"/repos/{repo}/pulls/{number}/reviews"
    absent = {"github": ("node_id",)}
    with SimulatorServer(tiny_store, absent_fields=absent, page_cache_mib=64) as sim:
        for _ in range(2):
            reviews = _get(http, sim, path).json()
            assert reviews and all("node_id" not in r for r in reviews)
        assert sim.stats()["page_cache"]["hits"] == 1


def test_dumps_writes_what_json_writes():
    body = {
        "cost": 3e-06,
        "ratio": 0.25,
        "big": 2**70,
        "tiny": [-1e-07, 9.999e-05],
        "text": 'é\u2028\x1f"',
        "zero": 0.0,
        "note": "model e-1 at 0.00001",
    }
    want = json.dumps(body, ensure_ascii=False, separators=(",", ":")).encode()
    assert dumps(body) == want
    assert dumps({1: "one"}) == b'{"1":"one"}'
    with pytest.raises(TypeError):
        dumps({"x": object()})


def test_simulator_process_answers_as_the_server(simulator, tiny_store, http, busy_pull):
    repo, number, _, _ = busy_pull
    path = f"/repos/{repo}/pulls/{number}/reviews"
    absent = {"github": ("node_id", "author_association")}
    with SimulatorProcess(tiny_store, absent_fields=absent, github_rate_limit=100) as child:
        assert child.repositories() == simulator.repositories()
        assert child.jira_projects() == simulator.jira_projects()
        assert child.history_start() == simulator.history_start()
        assert child.now == simulator.now
        ours, theirs = _get(http, simulator, path), _get(http, child, path)
        assert _body(theirs, child) == without_fields(_body(ours, simulator), absent["github"])
        assert theirs.headers["x-ratelimit-limit"] == "100"
        assert child.stats()["by_route"] == {"github.reviews": 1}
        env = simulator_sources_env(child)
        assert env["SOURCES__GITHUB__BASE_URL"] == f"{child.url}/github"
        child.set_now(simulator.now - timedelta(days=3))
        assert child.now == simulator.now - timedelta(days=3)
        pid = child.pid
    assert not Path(f"/proc/{pid}").exists()  # stopped and reaped


def test_the_page_cache_keeps_at_most_its_size():
    pages = PageCache(max_bytes=10)
    for n in range(4):
        pages.put(("k", n), Response(200, b"1234"))  # 4 bytes each: two fit
    assert pages.describe()["pages"] == 2 and pages.size == 8
    assert pages.get(("k", 0)) is None and pages.get(("k", 3)).body == b"1234"
    hit = pages.get(("k", 3))
    hit.headers["x"] = "changed"  # a hit is the caller's own copy
    assert "x" not in pages.get(("k", 3)).headers
    pages.put(("big",), Response(200, b"x" * 11))  # larger than the cache: not kept
    assert pages.get(("big",)) is None


def test_the_memo_computes_each_key_once_for_concurrent_askers():
    memo = Memo(max_entries=2)
    calls: list[str] = []
    gate = threading.Event()

    def slow() -> str:
        calls.append("a")
        gate.wait(5)
        return "value"

    threads = [threading.Thread(target=memo, args=("a", slow)) for _ in range(4)]
    for thread in threads:
        thread.start()
    time.sleep(0.2)
    gate.set()
    for thread in threads:
        thread.join(5)
    assert calls == ["a"] and memo("a", lambda: "other") == "value"
    memo("b", lambda: 1)
    memo("c", lambda: 2)  # the least recently used ("a") goes
    assert memo("a", lambda: "again") == "again"
