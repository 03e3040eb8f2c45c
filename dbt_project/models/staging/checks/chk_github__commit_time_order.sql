{#-
    Every commit of a pull request beside its PR's opening and merge, for the blocking suite
    expectations/chk_github__commit_time_order.json. A commit is legitimately authored
    before its PR is opened (a PR is in flight from its first commit, docs/metrics.md
    section 6), so the opening is no bound. What is checked:
    - not after the merge: a merged PR's commits were on its head when it merged. The
      author date comes from the developer's machine, not GitHub, so the suite allows
      `commit_clock_tolerance_minutes` of clock error.
    - not absurdly early: a first commit long before the opening stretches the PR's coding
      time, lead time and the days its spend is spread over; more than
      `commit_max_lead_days` before the opening is a wrong clock or a rewritten date far
      more often than a real branch, and is stopped for a look.
    The author date is the one checked because it is the one the models read.
-#}

with

pull_requests as (

    select * from {{ ref('stg_github__pull_requests') }}

),

commits as (

    select * from {{ ref('stg_github__pull_request_commits') }}
    where authored_at is not null

),

final as (

    select

        ----------  ids
        commits.pull_request_commit_key,
        commits.commit_sha,
        pull_requests.pull_request_id,
        commits.repo_full_name,
        commits.pull_request_number,

        ---------- timestamps (UTC)
        commits.authored_at,
        pull_requests.created_at as opened_at,
        pull_requests.merged_at,

        ---------- measures
        -- Null for a PR not merged: its commits have no upper bound yet.
        {{ minutes_between('pull_requests.merged_at', 'commits.authored_at') }}
            as minutes_after_merged,
        {{ minutes_between('commits.authored_at', 'pull_requests.created_at') }} / 1440.0
            as days_before_opened

    from commits
    inner join pull_requests
        on commits.repo_full_name = pull_requests.repo_full_name
            and commits.pull_request_number = pull_requests.pull_request_number

)

select * from final
