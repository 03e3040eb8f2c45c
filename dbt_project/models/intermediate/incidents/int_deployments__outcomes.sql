{%- set incident_url_pattern = "'/incidents/([A-Za-z0-9]+)'" -%}
with

deployments as (

    select * from {{ ref('int_deployments') }}

),

deployment_pull_requests as (

    select * from {{ ref('int_deployments__pull_requests') }}

),

deployment_incidents as (

    select * from {{ ref('int_deployments__incidents') }}

),

pull_requests as (

    select * from {{ ref('int_pull_requests__lifecycle') }}

),

pull_request_texts as (

    select * from {{ ref('stg_github__pull_requests') }}

),

work_items as (

    select * from {{ ref('int_work_items') }}

),

work_item_pull_requests as (

    select * from {{ ref('int_work_items__pull_requests') }}

),

incidents as (

    select * from {{ ref('int_incidents') }}

),

repository_team_votes as (

    -- A repository's team: the team that authored most of its PRs (ties: smallest team id).
    select
        repo_full_name,
        team_id,
        count(*) as votes
    from pull_requests
    where team_id is not null
    group by repo_full_name, team_id

),

repository_teams as (

    select
        repo_full_name,
        team_id
    from (
        select
            repo_full_name,
            team_id,
            row_number() over (
                partition by repo_full_name
                order by votes desc, team_id asc
            ) as team_rank
        from repository_team_votes
    ) as ranked
    where team_rank = 1

),

incident_url_refs as (

    select
        pull_request_id,
        {{ regexp_matches_unnested(
            dbt.concat(["coalesce(pull_request_title, '')", "' '", "coalesce(pull_request_body, '')"]),
            incident_url_pattern, 1) }} as incident_id
    from pull_request_texts

),

fix_pull_requests as (

    -- A fix: a PR implementing a defect's work item (a bug key in its title or branch) ...
    select work_item_pull_requests.pull_request_id
    from work_item_pull_requests
    inner join work_items
        on work_item_pull_requests.work_item_key = work_items.work_item_key
    where work_items.is_defect
    union
    -- ... naming an incident (its PagerDuty URL .../incidents/ID in the title or body) ...
    select incident_url_refs.pull_request_id
    from incident_url_refs
    inner join incidents
        on incident_url_refs.incident_id = incidents.incident_id
    union
    -- ... or reverting a PR.
    select reverted_by_pull_request_id
    from pull_requests
    where reverted_by_pull_request_id is not null

),

shipped_counts as (

    select
        deployment_pull_requests.deployment_id,
        count(*) as shipped_prs,
        sum(case when fix_pull_requests.pull_request_id is not null then cast(1 as bigint) else 0 end)
            as fix_prs
    from deployment_pull_requests
    left join fix_pull_requests
        on deployment_pull_requests.pull_request_id = fix_pull_requests.pull_request_id
    group by deployment_pull_requests.deployment_id

),

incident_counts as (

    select
        deployment_id,
        count(distinct incident_id) as incidents,
        sum(case when is_rolled_back then cast(1 as bigint) else 0 end) as rolled_back_incidents
    from deployment_incidents
    group by deployment_id

),

final as (

    select

        ----------  ids
        deployments.deployment_id,
        deployments.repo_full_name,
        repository_teams.team_id,
        deployments.environment,

        ---------- timestamps (UTC)
        deployments.created_at,
        deployments.finished_at,
        cast({{ dbt.date_trunc('week', 'deployments.created_at') }} as date) as deployment_week,
        cast({{ dbt.date_trunc('day', 'deployments.created_at') }} as date) as deployment_day,

        ---------- outcome
        deployments.is_successful,
        coalesce(shipped_counts.shipped_prs, 0) as shipped_prs,
        coalesce(shipped_counts.fix_prs, 0) as fix_prs,
        coalesce(incident_counts.incidents, 0) as incidents,
        coalesce(incident_counts.rolled_back_incidents, 0) as rolled_back_incidents,
        -- A change failure: a successful deployment that at least one incident is attributed
        -- to, by whichever rule attributed it (a PR it shipped, naming it, or by time, even
        -- when it shipped no PR); rollbacks are such incidents.
        deployments.is_successful and coalesce(incident_counts.incidents, 0) > 0
            as is_change_failure,
        deployments.is_successful and coalesce(incident_counts.rolled_back_incidents, 0) > 0
            as is_rolled_back,
        deployments.is_successful and coalesce(shipped_counts.fix_prs, 0) > 0 as is_rework

    from deployments
    left join repository_teams
        on deployments.repo_full_name = repository_teams.repo_full_name
    left join shipped_counts
        on deployments.deployment_id = shipped_counts.deployment_id
    left join incident_counts
        on deployments.deployment_id = incident_counts.deployment_id
    where deployments.is_production

)

select * from final
