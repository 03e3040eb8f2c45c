"""Pull requests, review sessions and identities against the simulator's ground truth.

The truth (simulator/org_simulator/truth.py) computes from the simulated records with their full
precision; the warehouse sees them through the GitHub API, which speaks whole seconds. So
truth times are compared truncated to the second, and durations (session minutes, review
hours) against the truth's own sessions re-timed from those truncated times: the same rule
on the same instants must give the same number (within float rounding, 1e-9). Everything
else is compared exactly.
"""

from __future__ import annotations

import pytest

TOLERANCE = 1e-9
OUR_MODELS = (
    "int_people",
    "int_identities",
    "int_review_events",
    "int_review_sessions",
    "int_pull_requests__ai_classification",
    "int_pull_requests__reverts",
    "int_pull_requests__work_item_refs",
    "int_deployments",
    "int_deployments__ranges",
    "int_deployments__pull_requests",
    "int_pull_requests__lifecycle",
)


def _session_minutes(session: str) -> str:
    """A truth session's minutes, re-timed at the API's precision (seconds), with the
    parameters the truth was computed with."""
    param = "(select cast(value as double) from sim.truth_parameters where name = '{}')"
    started = f"epoch(date_trunc('second', {session}.started_at))"
    ended = f"epoch(date_trunc('second', {session}.ended_at))"
    return (
        f"least({param.format('review_session_cap_minutes')}, "
        f"({ended} - {started}) / 60.0 + {param.format('review_session_floor_minutes')})"
    )


def _same(column: str) -> str:
    return f"l.{column} is not distinct from t.{column}"


def _same_time(column: str) -> str:
    """Equal at the API's precision: the truth's time truncated to the second."""
    return f"l.{column} is not distinct from date_trunc('second', t.{column})"


# lifecycle column -> the condition under which it equals the truth (l: ours, t: truth).
LIFECYCLE_CHECKS = {
    **{
        c: _same(c)
        for c in (
            "author_person_id",
            "team_id",
            "is_bot_author",
            "is_ai_assisted",
            "ai_reasons",
            "commit_count",
            "ai_commit_count",
            "outcome",
            "shipping_deployment_id",
            "ship_rule",
            "reverted_by_number",
            "human_reviewers",
            "changes_requested",
        )
    },
    **{
        c: _same_time(c)
        for c in (
            "first_commit_at",
            "opened_at",
            "first_human_event_at",
            "merged_at",
            "closed_at",
            "shipped_at",
            "reverted_at",
        )
    },
    "ai_commit_share": (
        f"coalesce(abs(l.ai_commit_share - t.ai_commit_share) < {TOLERANCE}, "
        "l.ai_commit_share is null and t.ai_commit_share is null)"
    ),
    # Against the truth's sessions re-timed at the API's precision (see _session_minutes).
    "review_hours": f"abs(l.review_hours - coalesce(s.review_hours, 0)) < {TOLERANCE}",
}


def _ours(unique_id: str, models: tuple[str, ...]) -> bool:
    """The node is one of `models` or one of their unit tests (data tests are checked for the
    whole project by test_project.py)."""
    kind, _, name, *_ = unique_id.split(".")
    return kind in ("model", "unit_test") and name in models


def _require_built(built_org, *models: str) -> None:
    """Our models built, and their unit tests passed, in this organisation's build."""
    failed = [
        (n.unique_id, n.status, n.message)
        for n in built_org.build.nodes
        if _ours(n.unique_id, models) and n.status not in ("success", "pass")
    ]
    assert failed == []


def test_our_models_build_and_pass_their_tests(built_org):
    _require_built(built_org, *OUR_MODELS)
    built = {
        n.unique_id.split(".")[2] for n in built_org.build.nodes if _ours(n.unique_id, OUR_MODELS)
    }
    assert set(OUR_MODELS) - built == set()


def test_every_truth_pull_request_is_in_the_lifecycle_once(built_org):
    _require_built(built_org, "int_pull_requests__lifecycle")
    truth = built_org.scalar("select count(*) from sim.truth_pull_requests")
    ours = built_org.scalar("select count(*) from intermediate.int_pull_requests__lifecycle")
    matched = built_org.scalar(
        "select count(*) from sim.truth_pull_requests t "
        "join intermediate.int_pull_requests__lifecycle l on l.pull_request_id = t.pr_id "
        "and l.repo_full_name = t.repo_full_name and l.pull_request_number = t.number"
    )
    assert truth > 0
    assert (ours, matched) == (truth, truth)


@pytest.mark.parametrize("column", sorted(LIFECYCLE_CHECKS))
def test_lifecycle_column_equals_the_truth(built_org, column):
    _require_built(built_org, "int_pull_requests__lifecycle")
    rows = built_org.rows(f"""
        with truth_hours as (
            select repo_full_name, number, sum({_session_minutes("ts")}) / 60.0 as review_hours
            from sim.truth_review_sessions as ts
            group by repo_full_name, number
        )
        select t.repo_full_name, t.number
        from sim.truth_pull_requests as t
        left join intermediate.int_pull_requests__lifecycle as l on l.pull_request_id = t.pr_id
        left join truth_hours as s on s.repo_full_name = t.repo_full_name and s.number = t.number
        where not coalesce({LIFECYCLE_CHECKS[column]}, false)
        order by 1, 2
    """)
    assert rows == []


def test_the_truth_exercises_the_rules(built_org):
    """The comparisons mean something only if the data has each case in it."""
    counts = built_org.rows("""
        select
            count(*) filter (where shipped_at is not null),
            count(*) filter (where reverted_at is not null),
            count(*) filter (where is_ai_assisted),
            count(*) filter (where outcome = 'abandoned'),
            count(*) filter (where review_hours > 0)
        from sim.truth_pull_requests
    """)[0]
    assert all(c > 0 for c in counts), counts


def test_review_sessions_equal_the_truth(built_org):
    _require_built(built_org, "int_review_sessions")
    truth = built_org.scalar("select count(*) from sim.truth_review_sessions")
    ours = built_org.scalar("select count(*) from intermediate.int_review_sessions")
    unmatched = built_org.rows(f"""
        select t.repo_full_name, t.number, t.reviewer_login, t.session_index
        from sim.truth_review_sessions as t
        left join intermediate.int_review_sessions as s
            on s.repo_full_name = t.repo_full_name
            and s.pull_request_number = t.number
            and s.reviewer_login = t.reviewer_login
            and s.session_index = t.session_index
            and s.started_at = date_trunc('second', t.started_at)
            and s.ended_at = date_trunc('second', t.ended_at)
            and s.events = t.events
            and abs(s.minutes - {_session_minutes("t")}) < {TOLERANCE}
        where s.pull_request_id is null
        order by 1, 2, 3, 4
    """)
    assert truth > 0
    assert ours == truth
    assert unmatched == []


def test_identities_equal_the_truth(built_org):
    _require_built(built_org, "int_identities")
    truth = built_org.scalar("select count(*) from sim.truth_identities")
    ours = built_org.scalar("select count(*) from intermediate.int_identities")
    different = built_org.rows("""
        select coalesce(t.system, i.system), coalesce(t.external_id, i.external_id),
            t.resolved_person_id, i.person_id, t.resolved_by, i.resolved_by
        from sim.truth_identities as t
        full join intermediate.int_identities as i
            on i.system = t.system and i.external_id = t.external_id
        where t.system is null or i.system is null
            or i.person_id is distinct from t.resolved_person_id
            or i.resolved_by is distinct from t.resolved_by
        order by 1, 2
    """)
    assert truth > 0
    assert ours == truth
    assert different == []


def test_every_kind_of_identity_resolution_is_exercised(built_org):
    kinds = {
        r[0]
        for r in built_org.rows(
            "select distinct coalesce(resolved_by, 'unresolved') from intermediate.int_identities"
        )
    }
    assert {"github_login", "email", "noreply_email", "unresolved"} <= kinds


def test_work_item_refs_name_the_truths_work_items(built_org):
    """Filtered by the Jira keys that exist, the candidates are the truth's work items."""
    _require_built(built_org, "int_pull_requests__work_item_refs")
    different = built_org.rows("""
        with ours as (
            select pull_request_id, string_agg(work_item_key, ',' order by work_item_key) as keys
            from intermediate.int_pull_requests__work_item_refs
            where work_item_key in (select key from raw_jira.issues)
            group by pull_request_id
        )
        select t.repo_full_name, t.number, t.implements_work_item, o.keys
        from sim.truth_pull_requests as t
        left join ours as o on o.pull_request_id = t.pr_id
        where t.implements_work_item is distinct from o.keys
    """)
    assert different == []
