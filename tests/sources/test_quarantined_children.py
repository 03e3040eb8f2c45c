"""Quarantined child records are read again with their parent (issue 15, problem 3): a
review, commit, job, deployment status or comment (GitHub), a remote link (Jira) or a log
entry (PagerDuty) that one load quarantines is read again by the next load, whose window no
longer lists it, from its parent's own list; nothing is lost and its quarantine row is
resolved. A child is found again even when its own id is what broke."""

from __future__ import annotations

import json
from datetime import UTC, datetime

from org_simulator.faults import Fault
from org_simulator.vendors import anthropic as anthropic_vendor
from org_simulator.vendors import jira as jira_vendor
from pipelines.sources.contract import Quarantine
from tests.sources.conftest import Loader
from tests.sources.test_quarantine import REPO, quarantine_rows

GITHUB_CHILDREN = (
    "pull_request_reviews",
    "pull_request_commits",
    "workflow_jobs",
    "deployment_statuses",
    "pull_request_review_comments",
    "issue_comments",
)
# Tables the children feed, to be whole again too.
GITHUB_TABLES = (*GITHUB_CHILDREN, "pull_requests", "workflow_runs", "deployments")


def counts(loader: Loader, dataset: str, tables: tuple[str, ...]) -> dict[str, int]:
    return {t: loader.scalar(f"select count(*) from {dataset}.{t}") for t in tables}


def test_quarantined_github_children_are_read_again_with_their_parents(
    loader: Loader, monkeypatch, tmp_path
):
    monkeypatch.setenv("SOURCES__GITHUB__REPOSITORIES", json.dumps([REPO]))
    clean = Loader(loader.sim, loader.store, tmp_path / "clean.duckdb")
    clean.load("github")
    whole = counts(clean, "raw_github", GITHUB_TABLES)
    # One parent of each kind that has children, from the clean load.
    reviewed = clean.scalar("select min(pr_number) from raw_github.pull_request_reviews")
    committed = clean.scalar("select max(pr_number) from raw_github.pull_request_commits")
    run = clean.scalar(
        "select max(j.run_id) from raw_github.workflow_jobs j "
        "join raw_github.workflow_runs r on r.id = j.run_id where r.status = 'completed'"
    )
    deployment = clean.scalar("select max(deployment_id) from raw_github.deployment_statuses")
    assert None not in (reviewed, committed, run, deployment) and reviewed != committed

    shas = clean.scalar(
        f"select count(*) from raw_github.pull_request_commits where pr_number = {committed}"
    )
    # The first child of each list arrives broken (its id null, its times garbled); the
    # repository-wide comment walks lose their oldest comment; a PR's commits lack their sha.
    loader.sim.inject(
        Fault("drop_field", vendor="github", path=rf"/pulls/{committed}/commits$", field="sha")
    )
    for path in (
        rf"/pulls/{reviewed}/reviews$",
        rf"/actions/runs/{run}/jobs$",
        rf"/deployments/{deployment}/statuses$",
        r"/pulls/comments$",
        r"/issues/comments$",
    ):
        loader.sim.inject(Fault("malformed", vendor="github", path=path))
    loader.load("github")
    rows = quarantine_rows(loader, "github")
    parents = {row["resource"]: row["parent_key"] for row in rows}
    assert sorted(parents) == sorted(GITHUB_CHILDREN)
    assert len(rows) == len(GITHUB_CHILDREN) - 1 + shas
    assert parents["pull_request_reviews"] == f"/repos/{REPO}/pulls/{reviewed}"
    assert parents["pull_request_commits"] == f"/repos/{REPO}/pulls/{committed}"
    assert parents["workflow_jobs"] == f"/repos/{REPO}/actions/runs/{run}"
    assert parents["deployment_statuses"] == f"/repos/{REPO}/deployments/{deployment}"
    for resource, kind in (("pull_request_review_comments", "pulls"), ("issue_comments", "issues")):
        assert parents[resource].startswith(f"/repos/{REPO}/{kind}/")
        assert parents[resource].endswith("/comments")
    lost = counts(loader, "raw_github", GITHUB_CHILDREN)
    assert lost == {t: whole[t] - (shas if t == "pull_request_commits" else 1) for t in lost}

    # The next load lists none of them again (nothing changed); it reads each parent again.
    loader.sim.reset_stats()
    loader.load("github")
    by_route = loader.sim.stats()["by_route"]
    assert by_route["github.pull"] == 2  # the reviewed and the committed PR
    assert by_route["github.run"] == 1 and by_route["github.deployment"] == 1
    # (Besides the recheck of the re-read PRs' review comments, see comments.py.)
    assert by_route["github.pull_review_comments"] >= 1
    assert by_route["github.pull_issue_comments"] == 1
    assert counts(loader, "raw_github", GITHUB_TABLES) == whole  # 0 lost, 0 doubled
    assert all(row["resolved_at"] is not None for row in quarantine_rows(loader, "github"))

    # Nothing is left to read again.
    loader.sim.reset_stats()
    loader.load("github")
    by_route = loader.sim.stats()["by_route"]
    for route in ("pull", "run", "deployment", "pull_review_comments", "pull_issue_comments"):
        assert f"github.{route}" not in by_route


def test_a_quarantined_jira_changelog_item_is_read_again_with_its_issue(
    loader: Loader, monkeypatch, tmp_path
):
    # Histories past the first come from the changelog endpoint, which the fault breaks.
    monkeypatch.setattr(jira_vendor, "INLINE_CHANGELOG_LIMIT", 1)
    clean = Loader(loader.sim, loader.store, tmp_path / "clean.duckdb")
    clean.load("jira")
    tables = ("issues", "issues__changelog", "issues__links")
    whole = counts(clean, "raw_jira", tables)
    issue, items = clean.rows(
        "select issue_id, count(*) filter (where history_id = oldest) from ("
        "  select *, min(history_id) over (partition by issue_id) as oldest"
        "  from raw_jira.issues__changelog) "
        "group by issue_id having count(distinct history_id) >= 2 order by issue_id limit 1"
    )[0]

    # The oldest history of the issue arrives broken: its id null, its time garbled.
    loader.sim.inject(Fault("malformed", vendor="jira", path=rf"/issue/{issue}/changelog$"))
    loader.load("jira")
    rows = quarantine_rows(loader, "jira")
    assert len(rows) == items
    assert {(r["resource"], r["parent_key"]) for r in rows} == {("issues__changelog", str(issue))}
    assert counts(loader, "raw_jira", tables)["issues__changelog"] == (
        whole["issues__changelog"] - items
    )

    loader.sim.reset_stats()
    loader.load("jira")
    assert loader.sim.stats()["by_route"]["jira.issue"] == 1
    assert counts(loader, "raw_jira", tables) == whole
    assert all(row["resolved_at"] is not None for row in quarantine_rows(loader, "jira"))


def test_a_quarantined_pagerduty_log_entry_is_read_again_with_its_incident(
    loader: Loader, tmp_path
):
    clean = Loader(loader.sim, loader.store, tmp_path / "clean.duckdb")
    clean.load("pagerduty")
    whole = clean.scalar("select count(*) from raw_pagerduty.incident_log_entries")

    loader.sim.inject(Fault("malformed", vendor="pagerduty", path=r"^/log_entries$"))
    loader.load("pagerduty")
    (row,) = quarantine_rows(loader, "pagerduty")
    assert row["resource"] == "incident_log_entries" and row["parent_key"]
    incident = row["parent_key"]
    assert loader.scalar("select count(*) from raw_pagerduty.incident_log_entries") == whole - 1

    loader.sim.reset_stats()
    loader.load("pagerduty")
    assert loader.sim.stats()["by_route"]["pagerduty.incident_log_entries"] == 1
    assert loader.scalar("select count(*) from raw_pagerduty.incident_log_entries") == whole
    assert loader.scalar(
        f"select count(*) from raw_pagerduty.incident_log_entries where incident_id = '{incident}'"
    ) == clean.scalar(
        f"select count(*) from raw_pagerduty.incident_log_entries where incident_id = '{incident}'"
    )
    (row,) = quarantine_rows(loader, "pagerduty")
    assert row["resolved_at"] is not None


def _pending(quarantine: Quarantine, resource: str, rows: list[dict]) -> None:
    """Rows an earlier load left unresolved (outside a load nothing is read from a warehouse)."""
    quarantine._pending = {resource: {}}
    for row in rows:
        key = row["record_key"] or row["record_hash"]
        quarantine._pending[resource].setdefault(key, []).append(row)


def test_reading_a_parents_list_resolves_its_children_but_those_rejected_again():
    quarantine = Quarantine("github")
    earlier = datetime(2026, 1, 1, tzinfo=UTC)

    def row(digest: str, key: str | None, parent: str) -> dict:
        return {
            "record_hash": digest,
            "record_key": key,
            "parent_key": parent,
            "payload": "{}",
            "quarantined_at": earlier,
        }

    pr1, pr2 = "/repos/acme/api/pulls/1", "/repos/acme/api/pulls/2"
    _pending(
        quarantine,
        "pull_request_reviews",
        [row("h1", None, pr1), row("h2", "acme/api#1 7", pr1), row("h3", None, pr2)],
    )
    assert quarantine.parents("pull_request_reviews") == [pr1, pr2]
    # PR 1's reviews read again: review 7 broken again (another payload, the same key).
    broken = {"id": 7, "submitted_at": "garbled"}
    quarantine.add("pull_request_reviews", broken, "bad", key="acme/api#1 7", parent=pr1)
    quarantine.children_read("pull_request_reviews", pr1)
    assert [r["record_hash"] for r in quarantine._resolved] == ["h1"]
    assert quarantine.parents("pull_request_reviews") == [pr1, pr2]  # review 7, PR 2's
    quarantine.children_read("pull_request_reviews", pr2)
    assert [r["record_hash"] for r in quarantine._resolved] == ["h1", "h3"]
    assert quarantine.parents("pull_request_reviews") == [pr1]


def test_quarantined_billing_records_are_read_again_with_their_day(
    loader: Loader, monkeypatch, tmp_path
):
    clean = Loader(loader.sim, loader.store, tmp_path / "clean.duckdb")
    clean.load("anthropic")
    tables = ("messages_usage", "claude_code_usage")
    whole = counts(clean, "raw_anthropic", tables)
    # The oldest days with usage: far behind the next load's look-back.
    usage_day = clean.scalar("select min(bucket_start)::date from raw_anthropic.messages_usage")
    code_day = clean.scalar("select min(usage_date)::date from raw_anthropic.claude_code_usage")

    # While `on`, the first usage result of that day sends its token count in words, and
    # every Claude Code record of its day its sessions.
    report, record, on = anthropic_vendor._report, anthropic_vendor._claude_code_record, [1]

    def garbled_report(page, results):
        broken = dict(results)
        for start, found in results.items():
            if on and start.date() == usage_day and found:
                broken[start] = [{**found[0], "uncached_input_tokens": "many"}, *found[1:]]
        return report(page, broken)

    def garbled_record(row, org_id):
        rendered = record(row, org_id)
        if on and row["date"] == code_day:
            rendered["core_metrics"] = {**rendered["core_metrics"], "num_sessions": "many"}
        return rendered

    monkeypatch.setattr(anthropic_vendor, "_report", garbled_report)
    monkeypatch.setattr(anthropic_vendor, "_claude_code_record", garbled_record)
    loader.load("anthropic")
    rows = quarantine_rows(loader, "anthropic")
    days = {(r["resource"], r["parent_key"], r["field"]) for r in rows}
    assert days == {
        ("messages_usage", usage_day.isoformat(), "uncached_input_tokens"),
        ("claude_code_usage", code_day.isoformat(), "core_metrics.num_sessions"),
    }
    lost = {t: sum(r["resource"] == t for r in rows) for t in tables}
    assert lost["messages_usage"] == 1
    assert counts(loader, "raw_anthropic", tables) == {t: whole[t] - lost[t] for t in tables}

    # Fixed at the vendor: the next load reads those days again on their own.
    on.clear()
    loader.load("anthropic")
    assert counts(loader, "raw_anthropic", tables) == whole
    tokens = "select sum(uncached_input_tokens) from raw_anthropic.messages_usage"
    assert loader.scalar(tokens) == clean.scalar(tokens)
    assert all(row["resolved_at"] is not None for row in quarantine_rows(loader, "anthropic"))
