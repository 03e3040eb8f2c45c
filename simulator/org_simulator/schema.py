"""Tables of the simulator store: the simulated organisation, vendor-neutral, plus ground truth.

The generator writes these; the vendor API modules render them into each vendor's JSON at
request time (state as of the server's clock); tests compare the warehouse with `truth_*`.
Timestamps are naive UTC. Nested values that a vendor returns as objects are kept as JSON text.
"""

ORG_TABLES: dict[str, str] = {
    # --- organisation ------------------------------------------------------------------
    "org_meta": """
        key VARCHAR PRIMARY KEY, value VARCHAR""",
    "org_teams": """
        team_id VARCHAR PRIMARY KEY, name VARCHAR, jira_project_key VARCHAR,
        jira_locale VARCHAR, pd_team_id VARCHAR, openai_project_id VARCHAR,
        anthropic_workspace_id VARCHAR""",
    # Every actor the simulation knows, human or bot, with their identity in each system.
    # `in_people_seed` says whether the organisation's identity seed lists them.
    "org_people": """
        person_id VARCHAR PRIMARY KEY, display_name VARCHAR, team_id VARCHAR, role VARCHAR,
        work_email VARCHAR, personal_email VARCHAR, github_login VARCHAR, github_id BIGINT,
        jira_account_id VARCHAR, pagerduty_user_id VARCHAR, openai_user_id VARCHAR,
        is_bot BOOLEAN, is_agent BOOLEAN, in_people_seed BOOLEAN, spend_multiplier DOUBLE,
        ai_propensity DOUBLE""",
    # --- GitHub ------------------------------------------------------------------------
    "gh_repositories": """
        id BIGINT PRIMARY KEY, owner VARCHAR, name VARCHAR, full_name VARCHAR, team_id VARCHAR,
        description VARCHAR, language VARCHAR, default_branch VARCHAR, private BOOLEAN,
        created_at TIMESTAMP, pushed_at TIMESTAMP""",
    "gh_pull_requests": """
        id BIGINT PRIMARY KEY, repo_full_name VARCHAR, number INTEGER, title VARCHAR,
        body VARCHAR, author_login VARCHAR, head_ref VARCHAR, head_sha VARCHAR, base_ref VARCHAR,
        labels VARCHAR, draft BOOLEAN, ready_for_review_at TIMESTAMP, created_at TIMESTAMP,
        closed_at TIMESTAMP, merged_at TIMESTAMP, merge_commit_sha VARCHAR,
        merged_by_login VARCHAR, additions INTEGER, deletions INTEGER, changed_files INTEGER""",
    # Every moment a PR changed (opened, pushed, reviewed, commented, merged, closed): its
    # `updated_at` as of a clock is the latest of these not after the clock.
    "gh_pull_request_activity": """
        repo_full_name VARCHAR, number INTEGER, "at" TIMESTAMP""",
    "gh_commits": """
        repo_full_name VARCHAR, pr_number INTEGER, sha VARCHAR, position INTEGER,
        message VARCHAR, author_name VARCHAR, author_email VARCHAR, author_login VARCHAR,
        author_date TIMESTAMP, committer_name VARCHAR, committer_email VARCHAR,
        committer_date TIMESTAMP""",
    "gh_reviews": """
        id BIGINT PRIMARY KEY, repo_full_name VARCHAR, pr_number INTEGER, user_login VARCHAR,
        state VARCHAR, body VARCHAR, commit_id VARCHAR, submitted_at TIMESTAMP""",
    "gh_review_comments": """
        id BIGINT PRIMARY KEY, repo_full_name VARCHAR, pr_number INTEGER, review_id BIGINT,
        user_login VARCHAR, body VARCHAR, path VARCHAR, line INTEGER, commit_id VARCHAR,
        created_at TIMESTAMP, updated_at TIMESTAMP""",
    "gh_issue_comments": """
        id BIGINT PRIMARY KEY, repo_full_name VARCHAR, pr_number INTEGER, user_login VARCHAR,
        body VARCHAR, created_at TIMESTAMP, updated_at TIMESTAMP""",
    # payload carries {"previous_sha": ...}: what the environment ran before, as the deployer
    # says. production_environment and transient_environment as GitHub serves them (the
    # creator's values, or GitHub's defaults).
    "gh_deployments": """
        id BIGINT PRIMARY KEY, repo_full_name VARCHAR, sha VARCHAR, ref VARCHAR, task VARCHAR,
        environment VARCHAR, description VARCHAR, creator_login VARCHAR, payload VARCHAR,
        production_environment BOOLEAN, created_at TIMESTAMP, updated_at TIMESTAMP,
        transient_environment BOOLEAN""",
    "gh_deployment_statuses": """
        id BIGINT PRIMARY KEY, deployment_id BIGINT, repo_full_name VARCHAR, state VARCHAR,
        environment VARCHAR, description VARCHAR, creator_login VARCHAR, created_at TIMESTAMP""",
    # Every commit reachable from main (simulator/org_simulator/git_history.py): seq is its place
    # in a topological order of the history, main_seq the seq of the main-line commit that
    # made it reachable, so main-line commit h reaches exactly the commits with main_seq <=
    # h.seq. kind: root, push (to main, no PR), merge, squash, rebase (the commits GitHub
    # made), pr_commit (a PR's own commit a merge brought in). parents: JSON array of shas.
    "gh_git_commits": """
        repo_full_name VARCHAR, sha VARCHAR, seq INTEGER, main_seq INTEGER, kind VARCHAR,
        pr_number INTEGER, parents VARCHAR, message VARCHAR, author_name VARCHAR,
        author_email VARCHAR, author_login VARCHAR, author_date TIMESTAMP,
        committer_name VARCHAR, committer_email VARCHAR, committer_login VARCHAR,
        committer_date TIMESTAMP""",
    # One row per run (its latest attempt); jobs carry the attempt they belong to.
    "gh_workflow_runs": """
        id BIGINT PRIMARY KEY, repo_full_name VARCHAR, workflow_id BIGINT, name VARCHAR,
        path VARCHAR, event VARCHAR, head_branch VARCHAR, head_sha VARCHAR, pr_number INTEGER,
        actor_login VARCHAR, run_number INTEGER, run_attempt INTEGER, status VARCHAR,
        conclusion VARCHAR, created_at TIMESTAMP, run_started_at TIMESTAMP,
        updated_at TIMESTAMP""",
    "gh_workflow_jobs": """
        id BIGINT PRIMARY KEY, run_id BIGINT, repo_full_name VARCHAR, run_attempt INTEGER,
        name VARCHAR, head_sha VARCHAR, status VARCHAR, conclusion VARCHAR,
        created_at TIMESTAMP, started_at TIMESTAMP, completed_at TIMESTAMP,
        runner_name VARCHAR""",
    # --- Jira --------------------------------------------------------------------------
    "jira_users": """
        account_id VARCHAR PRIMARY KEY, display_name VARCHAR, email VARCHAR,
        account_type VARCHAR, active BOOLEAN""",
    # issuetype_name is in the project's own language (e.g. 缺陷 for Bug); status as now.
    "jira_issues": """
        id BIGINT PRIMARY KEY, key VARCHAR, project_key VARCHAR, issuetype_id VARCHAR,
        issuetype_name VARCHAR, summary VARCHAR, description VARCHAR, priority VARCHAR,
        assignee_account_id VARCHAR, reporter_account_id VARCHAR, labels VARCHAR,
        caused_by_pr VARCHAR, created TIMESTAMP, updated TIMESTAMP""",
    # One row per changed field; status history drives status, statusCategory and
    # resolutiondate as of the clock.
    "jira_changelog": """
        history_id BIGINT, issue_key VARCHAR, author_account_id VARCHAR, created TIMESTAMP,
        field VARCHAR, from_value VARCHAR, from_string VARCHAR, to_value VARCHAR,
        to_string VARCHAR, to_status_category VARCHAR""",
    # Stored once; a row reads "outward_issue_key <outward_desc> inward_issue_key" (X causes
    # Y). Rendered on X as {outwardIssue: Y} and on Y as {inwardIssue: X}, as Jira does.
    "jira_issue_links": """
        id BIGINT PRIMARY KEY, type_name VARCHAR, inward_desc VARCHAR, outward_desc VARCHAR,
        outward_issue_key VARCHAR, inward_issue_key VARCHAR, created TIMESTAMP""",
    "jira_remote_links": """
        id BIGINT PRIMARY KEY, issue_key VARCHAR, url VARCHAR, title VARCHAR,
        relationship VARCHAR, created TIMESTAMP""",
    # --- PagerDuty ---------------------------------------------------------------------
    "pd_services": """
        id VARCHAR PRIMARY KEY, name VARCHAR, team_id VARCHAR, repo_full_name VARCHAR""",
    "pd_users": """
        id VARCHAR PRIMARY KEY, name VARCHAR, email VARCHAR""",
    "pd_incidents": """
        id VARCHAR PRIMARY KEY, incident_number INTEGER, title VARCHAR, description VARCHAR,
        urgency VARCHAR, priority VARCHAR, service_id VARCHAR, team_id VARCHAR,
        assignee_id VARCHAR, incident_key VARCHAR, created_at TIMESTAMP,
        acknowledged_at TIMESTAMP, resolved_at TIMESTAMP""",
    # type: trigger_log_entry, acknowledge_log_entry, annotate_log_entry, resolve_log_entry
    "pd_log_entries": """
        id VARCHAR PRIMARY KEY, incident_id VARCHAR, type VARCHAR, created_at TIMESTAMP,
        agent_type VARCHAR, agent_id VARCHAR, summary VARCHAR, note VARCHAR""",
    # --- LLM billing -------------------------------------------------------------------
    "llm_model_prices": """
        provider VARCHAR, model VARCHAR, token_kind VARCHAR, usd_per_mtok DECIMAL(12, 4),
        valid_from DATE, valid_to DATE""",
    "anthropic_workspaces": """
        id VARCHAR PRIMARY KEY, name VARCHAR, team_id VARCHAR""",
    "anthropic_api_keys": """
        id VARCHAR PRIMARY KEY, name VARCHAR, workspace_id VARCHAR, owner_person_id VARCHAR,
        created_at TIMESTAMP""",
    # Daily buckets at the finest grain the API groups by.
    "anthropic_messages_usage": """
        bucket_date DATE, api_key_id VARCHAR, workspace_id VARCHAR, model VARCHAR,
        service_tier VARCHAR, context_window VARCHAR, uncached_input_tokens BIGINT,
        cache_creation_5m_input_tokens BIGINT, cache_creation_1h_input_tokens BIGINT,
        cache_read_input_tokens BIGINT, output_tokens BIGINT, web_search_requests BIGINT""",
    # Claude Code daily report per actor; tokens here are also in the messages usage above.
    "anthropic_claude_code_usage": """
        date DATE, actor_type VARCHAR, email_address VARCHAR, api_key_name VARCHAR,
        terminal_type VARCHAR, num_sessions INTEGER, lines_added INTEGER,
        lines_removed INTEGER, commits_by_claude_code INTEGER,
        pull_requests_by_claude_code INTEGER, edit_accepted INTEGER, edit_rejected INTEGER,
        write_accepted INTEGER, write_rejected INTEGER, model_breakdown VARCHAR""",
    "openai_projects": """
        id VARCHAR PRIMARY KEY, name VARCHAR, team_id VARCHAR""",
    "openai_users": """
        id VARCHAR PRIMARY KEY, email VARCHAR, name VARCHAR""",
    "openai_api_keys": """
        id VARCHAR PRIMARY KEY, name VARCHAR, project_id VARCHAR, owner_user_id VARCHAR""",
    "openai_completions_usage": """
        bucket_date DATE, project_id VARCHAR, user_id VARCHAR, api_key_id VARCHAR,
        model VARCHAR, batch BOOLEAN, service_tier VARCHAR, input_tokens BIGINT,
        input_cached_tokens BIGINT, output_tokens BIGINT, num_model_requests BIGINT""",
    # --- what the organisation's admins would write into the dbt seeds -----------------
    "seed_people": """
        person_id VARCHAR, display_name VARCHAR, team VARCHAR, role VARCHAR, emails VARCHAR,
        github_login VARCHAR, jira_account_id VARCHAR, pagerduty_user_id VARCHAR,
        is_bot BOOLEAN""",
    "seed_api_keys": """
        provider VARCHAR, api_key_id VARCHAR, workspace_or_project VARCHAR,
        person_id VARCHAR, team VARCHAR""",
    "seed_service_repos": """
        service_id VARCHAR, service_name VARCHAR, repo_full_name VARCHAR""",
    "seed_ai_signatures": """
        kind VARCHAR, pattern VARCHAR, tool VARCHAR""",
    "seed_ai_budgets": """
        scope VARCHAR, team VARCHAR, period_start DATE, period_end DATE, usd DECIMAL(14, 2)""",
}

# Ground truth: every derived fact docs/metrics.md defines, computed by the generator from the
# records above by the metric's own rule (not by the intent that produced them).
TRUTH_TABLES: dict[str, str] = {
    "truth_parameters": """
        name VARCHAR PRIMARY KEY, value VARCHAR""",
    # One row per external identity seen in any system, and whom the rules resolve it to.
    "truth_identities": """
        system VARCHAR, external_id VARCHAR, true_person_id VARCHAR,
        resolved_person_id VARCHAR, resolved_by VARCHAR""",
    "truth_pull_requests": """
        repo_full_name VARCHAR, number INTEGER, pr_id BIGINT, author_login VARCHAR,
        author_person_id VARCHAR, team_id VARCHAR, is_bot_author BOOLEAN,
        is_ai_assisted BOOLEAN, ai_reasons VARCHAR, commit_count INTEGER,
        ai_commit_count INTEGER, ai_commit_share DOUBLE, first_commit_at TIMESTAMP,
        opened_at TIMESTAMP, first_human_event_at TIMESTAMP, merged_at TIMESTAMP,
        closed_at TIMESTAMP, outcome VARCHAR, shipped_at TIMESTAMP,
        shipping_deployment_id BIGINT, ship_rule VARCHAR, reverted_at TIMESTAMP,
        reverted_by_number INTEGER, rolled_back_at TIMESTAMP, censored BOOLEAN, survived BOOLEAN,
        review_hours DOUBLE, human_reviewers INTEGER, changes_requested INTEGER,
        implements_work_item VARCHAR""",
    "truth_review_sessions": """
        repo_full_name VARCHAR, number INTEGER, reviewer_login VARCHAR, session_index INTEGER,
        started_at TIMESTAMP, ended_at TIMESTAMP, events INTEGER, minutes DOUBLE""",
    # Every deployment with the facts of docs/metrics.md sections 3 and 8: production (D1),
    # success, its range (the previous successful production deployment of its environment
    # and GitHub's compare of the two: status, whether usable), what it shipped and the
    # incidents attributed to it (change failure).
    "truth_deployments": """
        deployment_id BIGINT, repo_full_name VARCHAR, environment VARCHAR,
        is_production BOOLEAN, is_successful BOOLEAN, created_at TIMESTAMP,
        finished_at TIMESTAMP, base_deployment_id BIGINT, range_status VARCHAR,
        range_usable BOOLEAN, ahead_by INTEGER, behind_by INTEGER, total_commits INTEGER,
        shipped_prs INTEGER, shipped_pr_numbers VARCHAR, incidents INTEGER,
        rolled_back_incidents INTEGER, is_change_failure BOOLEAN""",
    # Incidents attributed to production deployments, by the rule that attributed them
    # (explicit: a PR it shipped; deployment: named; time: the latest before the incident).
    "truth_deployment_incidents": """
        deployment_id BIGINT, incident_id VARCHAR, rule VARCHAR""",
    # defect_id is the Jira key or the PagerDuty incident id; weight sums to 1 per defect.
    "truth_defect_attribution": """
        defect_id VARCHAR, defect_kind VARCHAR, created_at TIMESTAMP, rule VARCHAR,
        repo_full_name VARCHAR, number INTEGER, weight DOUBLE""",
    # Billed cost per person (null = unattributed), provider, model and UTC day.
    "truth_spend": """
        day DATE, provider VARCHAR, model VARCHAR, person_id VARCHAR, team_id VARCHAR,
        attributed_by VARCHAR, cost_usd DECIMAL(18, 6)""",
    # A person's attributed spend on a day split over their PRs in flight; number null =
    # unallocated.
    "truth_spend_allocation": """
        day DATE, person_id VARCHAR, repo_full_name VARCHAR, number INTEGER,
        cost_usd DECIMAL(18, 6)""",
}

ALL_TABLES = {**ORG_TABLES, **TRUTH_TABLES}


def create_all(con) -> None:
    """Create every store table on a DuckDB connection (idempotent)."""
    for name, columns in ALL_TABLES.items():
        con.execute(f"create table if not exists {name} ({columns})")
