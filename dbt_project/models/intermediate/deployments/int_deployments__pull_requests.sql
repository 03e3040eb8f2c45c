{#-
    Which successful production deployment shipped each merged PR (docs/metrics.md section 3).

    Range rule (wins): the earliest (created_at, deployment_id) deployment whose usable range
    (int_deployments__ranges) lists the PR's merge_commit_sha: the commit GitHub put on the
    base branch, whether a merge commit, a squash commit or the last commit of a rebase.
    Time rule (fallback, for a PR in no usable range): the first deployment of its repository
    created at or after the merge whose range is unknown (the first of its environment, or
    one GitHub could not compare). A deployment with a known range that does not list the
    PR did not ship it; with no range data at all, every range is unknown and this is the
    time rule of docs/metrics.md.
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

ranges as (

    select * from {{ ref('int_deployments__ranges') }}

),

range_commits as (

    select * from {{ ref('stg_github__deployment_range_commits') }}

),

usable_range_commits as (

    -- The commits of each usable range: the row of the deployment's current pair only.
    select
        ranges.deployment_id,
        range_commits.commit_sha
    from ranges
    inner join range_commits
        on ranges.deployment_id = range_commits.deployment_id
            and ranges.base_deployment_id = range_commits.base_deployment_id
    where ranges.is_range_usable

),

range_matches as (

    select
        pull_requests.pull_request_id,
        production_deployments.deployment_id,
        production_deployments.finished_at as shipped_at,
        'commit_range' as ship_rule,
        row_number() over (
            partition by pull_requests.pull_request_id
            order by production_deployments.created_at, production_deployments.deployment_id
        ) as match_rank
    from pull_requests
    inner join usable_range_commits
        on pull_requests.merge_commit_sha = usable_range_commits.commit_sha
    inner join production_deployments
        on usable_range_commits.deployment_id = production_deployments.deployment_id
            and pull_requests.repo_full_name = production_deployments.repo_full_name

),

unknown_range_deployments as (

    select production_deployments.*
    from production_deployments
    inner join ranges
        on production_deployments.deployment_id = ranges.deployment_id
    where not ranges.is_range_usable

),

time_matches as (

    select
        pull_requests.pull_request_id,
        unknown_range_deployments.deployment_id,
        unknown_range_deployments.finished_at as shipped_at,
        'time' as ship_rule,
        row_number() over (
            partition by pull_requests.pull_request_id
            order by
                unknown_range_deployments.created_at,
                unknown_range_deployments.deployment_id
        ) as match_rank
    from pull_requests
    inner join unknown_range_deployments
        on pull_requests.repo_full_name = unknown_range_deployments.repo_full_name
            and pull_requests.merged_at <= unknown_range_deployments.created_at
    where pull_requests.pull_request_id not in (
            select range_matches.pull_request_id from range_matches
        )

),

shipped as (

    select * from range_matches
    where match_rank = 1
    union all
    select * from time_matches
    where match_rank = 1

),

final as (

    select

        ----------  ids
        shipped.deployment_id,
        shipped.pull_request_id,
        pull_requests.repo_full_name,
        pull_requests.pull_request_number,

        ---------- shipping
        shipped.ship_rule,
        pull_requests.merged_at,
        shipped.shipped_at

    from shipped
    inner join pull_requests
        on shipped.pull_request_id = pull_requests.pull_request_id

)

select * from final
