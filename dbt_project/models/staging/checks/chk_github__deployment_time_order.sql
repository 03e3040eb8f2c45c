{#-
    Every deployment whose commit range holds a merged pull request's merge commit, beside
    the PR's merge, for the blocking suite expectations/chk_github__deployment_time_order.json.
    These are the deployments the range rule can credit with shipping the PR (docs/metrics.md
    section 3). GitHub creates the merge commit when the PR merges, so no deployment can hold
    it before then: one created earlier means a wrong merge time or a wrong range, and a
    shipped time before the merge. `minutes_before_merged` is positive for such a
    deployment; the suite allows `time_order_tolerance_minutes`. Any environment and any
    range counts (not only the usable production ones the rule reads): the bound holds for
    all of them. The time rule credits only deployments created at or after the merge.
-#}

with

pull_requests as (

    select * from {{ ref('stg_github__pull_requests') }}
    where merged_at is not null and merge_commit_sha is not null

),

deployments as (

    select * from {{ ref('stg_github__deployments') }}

),

range_commits as (

    select * from {{ ref('stg_github__deployment_range_commits') }}

),

held as (

    -- A commit can sit in several ranges of one deployment (one per base it was compared
    -- with): one row per deployment and commit, so one per deployment and PR below.
    select distinct
        range_commits.deployment_id,
        range_commits.commit_sha
    from range_commits

),

final as (

    select

        ----------  ids
        deployments.deployment_id,
        pull_requests.pull_request_id,
        deployments.repo_full_name,
        pull_requests.pull_request_number,
        deployments.environment,

        ---------- timestamps (UTC)
        deployments.created_at as deployment_created_at,
        pull_requests.merged_at,

        ---------- measures
        {{ minutes_between('deployments.created_at', 'pull_requests.merged_at') }}
            as minutes_before_merged

    from held
    inner join deployments
        on held.deployment_id = deployments.deployment_id
    inner join pull_requests
        on held.commit_sha = pull_requests.merge_commit_sha
            and deployments.repo_full_name = pull_requests.repo_full_name

)

select * from final
