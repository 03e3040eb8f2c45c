{#-
    Which successful production deployment shipped each merged PR.

    Range rule (wins): a deployment carries the range (previous_sha, sha]. We have no history
    of main, only the PRs' merge commits, so a range is evaluable when both ends are merge
    commits of merged PRs of the same repository; main's order between them is the merge
    order, and the deployment ships the PRs merged after the previous_sha PR and at or before
    the sha PR. A PR inside several ranges (a redeploy) is shipped by the earliest.
    Time rule (fallback, every other merged PR): the first successful production deployment
    of the same repository created at or after the merge.
-#}

with

pull_requests as (

    select
        pull_request_id,
        repo_full_name,
        pull_request_number,
        merge_commit_sha,
        merged_at
    from {{ ref('stg_github__pull_requests') }}
    where merged_at is not null

),

production_deployments as (

    select * from {{ ref('int_deployments') }}
    where is_production and is_successful

),

ranged_deployments as (

    select
        production_deployments.deployment_id,
        production_deployments.repo_full_name,
        production_deployments.created_at,
        production_deployments.finished_at,
        range_start.merged_at as range_start_merged_at,
        range_end.merged_at as range_end_merged_at
    from production_deployments
    inner join pull_requests as range_end
        on production_deployments.repo_full_name = range_end.repo_full_name
        and production_deployments.sha = range_end.merge_commit_sha
    inner join pull_requests as range_start
        on production_deployments.repo_full_name = range_start.repo_full_name
        and production_deployments.previous_sha = range_start.merge_commit_sha

),

range_matches as (

    select
        pull_requests.pull_request_id,
        pull_requests.repo_full_name,
        ranged_deployments.deployment_id,
        ranged_deployments.finished_at as shipped_at,
        'commit_range' as ship_rule,
        row_number() over (
            partition by pull_requests.pull_request_id
            order by ranged_deployments.created_at, ranged_deployments.deployment_id
        ) as match_rank
    from pull_requests
    inner join ranged_deployments
        on pull_requests.repo_full_name = ranged_deployments.repo_full_name
        and pull_requests.merged_at > ranged_deployments.range_start_merged_at
        and pull_requests.merged_at <= ranged_deployments.range_end_merged_at

),

time_matches as (

    select
        pull_requests.pull_request_id,
        pull_requests.repo_full_name,
        production_deployments.deployment_id,
        production_deployments.finished_at as shipped_at,
        'time' as ship_rule,
        row_number() over (
            partition by pull_requests.pull_request_id
            order by production_deployments.created_at, production_deployments.deployment_id
        ) as match_rank
    from pull_requests
    inner join production_deployments
        on pull_requests.repo_full_name = production_deployments.repo_full_name
        and production_deployments.created_at >= pull_requests.merged_at

),

first_range as (

    select * from range_matches where match_rank = 1

),

first_time as (

    select * from time_matches
    where match_rank = 1
        and pull_request_id not in (select pull_request_id from first_range)

),

unioned as (

    select * from first_range
    union all
    select * from first_time

),

final as (

    select

        ----------  ids
        unioned.deployment_id,
        unioned.pull_request_id,
        unioned.repo_full_name,
        pull_requests.pull_request_number,

        ---------- shipping
        unioned.ship_rule,
        pull_requests.merged_at,
        unioned.shipped_at

    from unioned
    inner join pull_requests
        on unioned.pull_request_id = pull_requests.pull_request_id

)

select * from final
