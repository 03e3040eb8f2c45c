"""Benchmark: how many list pages a second the simulated GitHub serves, first and again.

.venv/bin/python -m benchmarks.simulator --size demo
.venv/bin/python -m benchmarks.simulator --size demo --clients 4 --routes jobs,reviews
.venv/bin/python -m benchmarks.simulator --url http://127.0.0.1:8765 --pid 1234   # a running one
.venv/bin/python -m benchmarks.simulator --size demo --digest   # and a digest of the pages

The simulator serves the store (org_simulator.demo.store_path, generated when missing) from a
process of its own (org_simulator.process), with no rate limit and a page cache big enough
for every page (`--url`: a server started otherwise, whose rate limit must allow two passes).
The list pages are the ones a
full GitHub load reads: every repository's PRs, runs and deployments, and the children of
each PR (reviews, commits, review comments, issue comments), of each run (jobs) and of each
deployment (statuses); ids are read from the store beforehand. `--clients` processes, each
with one keep-alive connection, share the pages out and ask for them twice: the first pass
renders every page (nothing computed yet), the second asks for pages already rendered.
Reported per pass: requests, wall seconds, requests/s, and the simulator's own CPU seconds
(user + system, from /proc) per 1,000 requests.
"""

from __future__ import annotations

import argparse
import hashlib
import http.client
import multiprocessing
import os
import time
from pathlib import Path
from urllib.parse import urlsplit

import duckdb

from org_simulator.credentials import SIM_CREDENTIALS
from org_simulator.demo import store_path
from org_simulator.process import SimulatorProcess

ROUTES = ("pulls", "runs", "deployments", "reviews", "commits", "review_comments",
          "issue_comments", "jobs", "statuses")  # fmt: skip


def list_pages(store: Path, routes: tuple[str, ...] = ROUTES) -> list[str]:
    """The list pages (paths below /github) a full load reads, in the store's order."""
    per_repo = {
        "pulls": "pulls?state=all&sort=updated&direction=asc",
        "runs": "actions/runs",
        "deployments": "deployments",
    }
    per_pr = {
        "reviews": "pulls/{}/reviews",
        "commits": "pulls/{}/commits",
        "review_comments": "pulls/{}/comments",
        "issue_comments": "issues/{}/comments",
    }
    con = duckdb.connect(str(store), read_only=True)
    try:
        repos = con.execute("select full_name from gh_repositories order by 1").fetchall()
        pulls = con.execute(
            "select repo_full_name, number from gh_pull_requests order by 1, 2"
        ).fetchall()
        runs = con.execute("select repo_full_name, id from gh_workflow_runs order by 1, 2")
        runs = runs.fetchall()
        deploys = con.execute("select repo_full_name, id from gh_deployments order by 1, 2")
        deploys = deploys.fetchall()
    finally:
        con.close()
    pages = []
    for route, path in per_repo.items():
        if route in routes:
            pages += [f"/repos/{r}/{path}" for (r,) in repos]
    for route, path in per_pr.items():
        if route in routes:
            pages += [f"/repos/{r}/{path.format(n)}" for r, n in pulls]
    if "jobs" in routes:
        pages += [f"/repos/{r}/actions/runs/{i}/jobs?filter=all" for r, i in runs]
    if "statuses" in routes:
        pages += [f"/repos/{r}/deployments/{i}/statuses" for r, i in deploys]
    return [p + ("&" if "?" in p else "?") + "per_page=100" for p in pages]


def _client(base_url: str, paths: list[str], digest: bool = False) -> tuple[int, int, int, list]:
    """Ask for `paths` on one keep-alive connection: (answers, bytes, answers not 200, and
    with `digest` each answer's status and body digest, the server's own URL left out)."""
    parts = urlsplit(base_url)
    own_url = base_url.encode()
    digests = []
    conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=120)
    headers = {
        "Authorization": f"Bearer {SIM_CREDENTIALS['github']}",
        "Accept": "application/vnd.github+json",
    }
    size = failed = 0
    for path in paths:
        conn.request("GET", parts.path + path, headers=headers)
        response = conn.getresponse()
        body = response.read()
        size += len(body)
        failed += response.status != 200
        if digest:
            answer = b"%d " % response.status + body.replace(own_url, b"{url}")
            digests.append(hashlib.sha256(answer).hexdigest())
    conn.close()
    return len(paths), size, failed, digests


def _cpu_seconds(pid: int | None) -> float:
    """User + system CPU seconds of a process so far (its threads included)."""
    if pid is None:
        return float("nan")
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def run_pass(
    pool, base_url: str, pages: list[str], clients: int, pid: int | None, digest: bool = False
) -> dict:
    shares = [pages[i::clients] for i in range(clients)]
    cpu = _cpu_seconds(pid)
    started = time.perf_counter()
    results = pool.starmap(_client, [(base_url, share, digest) for share in shares])
    seconds = time.perf_counter() - started
    requests = sum(r[0] for r in results)
    in_order = [""] * len(pages)  # the shares' digests back in the pages' order
    for i, result in enumerate(results if digest else ()):
        in_order[i::clients] = result[3]
    return {
        "digest": hashlib.sha256("".join(in_order).encode()).hexdigest() if digest else None,
        "requests": requests,
        "seconds": seconds,
        "per_s": requests / seconds,
        "cpu_per_1k": (_cpu_seconds(pid) - cpu) / requests * 1000,
        "mib": sum(r[1] for r in results) / 2**20,
        "failed": sum(r[2] for r in results),
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--size", default="demo")
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--clients", type=int, default=2, help="client processes")
    parser.add_argument("--routes", default=",".join(ROUTES), help="of: " + ",".join(ROUTES))
    parser.add_argument("--passes", type=int, default=2)
    parser.add_argument(
        "--page-cache-mib",
        type=float,
        default=256,
        help="the simulator's page cache (the demo's list pages are about 100 MiB)",
    )
    parser.add_argument("--url", help="a simulator already serving the store (not started)")
    parser.add_argument("--pid", type=int, help="with --url: its process, for its CPU time")
    parser.add_argument(
        "--digest",
        action="store_true",
        help="print a digest of every page's status and body per pass (the server's URL left "
        "out): equal digests, the same pages",
    )
    args = parser.parse_args()

    store = store_path(args.size, args.seed)
    pages = list_pages(store, tuple(args.routes.split(",")))
    print(f"size={args.size} seed={args.seed} store={store}")
    print(f"{len(pages):,} list pages, {args.clients} clients with a keep-alive connection each")
    print(
        f"{'pass':<8} {'requests':>9} {'seconds':>8} {'req/s':>7} {'sim CPU s/1k':>12} "
        f"{'MiB':>6} {'not 200':>7}"
    )
    sim = None
    if args.url:
        base_url, pid = args.url.rstrip("/") + "/github", args.pid
    else:
        sim = SimulatorProcess(store, github_rate_limit=10**9, page_cache_mib=args.page_cache_mib)
        sim.start()
        base_url, pid = sim.base_url("github"), sim.pid
    try:
        with multiprocessing.get_context("spawn").Pool(args.clients) as pool:
            pool.starmap(_client, [(base_url, [])] * args.clients)  # the workers are up
            for n in range(args.passes):
                r = run_pass(pool, base_url, pages, args.clients, pid, args.digest)
                name = "first" if n == 0 else "again"
                print(
                    f"{name:<8} {r['requests']:>9,} {r['seconds']:>8.1f} {r['per_s']:>7,.0f} "
                    f"{r['cpu_per_1k']:>12.2f} {r['mib']:>6,.0f} {r['failed']:>7,}"
                    + (f"  digest {r['digest']}" if args.digest else "")
                )
    finally:
        if sim is not None:
            sim.stop()


if __name__ == "__main__":
    main()
