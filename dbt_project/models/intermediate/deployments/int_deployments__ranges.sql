{#-
    The commit range of each successful production deployment: its previous successful
    production deployment of the same repository and environment (environments compared
    ignoring case; ordered by created_at, then deployment_id), and what GitHub's compare of
    the two answered (stg_github__deployment_ranges, the row of exactly that pair: a row
    compared with another base, before a late success changed the order, is stale).
    Usable: ahead, identical or behind (the last two ship nothing new) with every commit
    loaded. Unknown: no previous deployment, not compared yet, or an answer that is not a
    clean list (diverged, not_found, unavailable, or fewer commits loaded than listed).
-#}

with

deployments as (

    select * from {{ ref('int_deployments') }}
    where is_production and is_successful

),

ranges as (

    select * from {{ ref('stg_github__deployment_ranges') }}

),

ordered as (

    select
        deployment_id,
        repo_full_name,
        environment,
        lag(deployment_id) over (
            partition by repo_full_name, lower(environment)
            order by created_at, deployment_id
        ) as base_deployment_id
    from deployments

),

final as (

    select

        ----------  ids
        ordered.deployment_id,
        ordered.repo_full_name,
        ordered.environment,
        ordered.base_deployment_id,

        ---------- GitHub's answer
        ranges.range_status,
        ranges.ahead_by,
        ranges.behind_by,
        ranges.total_commits,
        ranges.commits_loaded,
        ranges.compared_at,
        coalesce(
            ranges.range_status in ('ahead', 'identical', 'behind')
            and ranges.commits_loaded >= ranges.total_commits,
            false
        ) as is_range_usable

    from ordered
    left join ranges
        on ordered.deployment_id = ranges.deployment_id
            and ordered.base_deployment_id = ranges.base_deployment_id

)

select * from final
