with

deployments as (

    select * from {{ ref('stg_github__deployments') }}

),

statuses as (

    select * from {{ ref('stg_github__deployment_statuses') }}

),

status_times as (

    -- A deployment finishes when it first reports success; it fails when it first
    -- reports failure or error.
    select
        deployment_id,
        min(case when deployment_state = 'success' then created_at end) as finished_at,
        min(case when deployment_state in ('failure', 'error') then created_at end) as failed_at
    from statuses
    group by deployment_id

),

latest_status as (

    select
        deployment_id,
        deployment_state,
        row_number() over (
            partition by deployment_id
            order by created_at desc, deployment_status_id desc
        ) as status_rank
    from statuses

),

final as (

    select

        ----------  ids
        deployments.deployment_id,
        deployments.repo_full_name,

        ---------- what and where
        deployments.environment,
        {{ is_production_environment(
            'deployments.environment', 'deployments.is_production_environment_flag') }}
            as is_production,
        deployments.is_production_environment_flag,
        deployments.sha,
        deployments.previous_sha,
        deployments.ref,
        deployments.creator_login,

        ---------- outcome
        latest_status.deployment_state as latest_state,
        status_times.finished_at is not null as is_successful,

        ---------- timestamps (UTC)
        deployments.created_at,
        status_times.finished_at,
        status_times.failed_at

    from deployments
    left join status_times
        on deployments.deployment_id = status_times.deployment_id
    left join latest_status
        on deployments.deployment_id = latest_status.deployment_id
            and latest_status.status_rank = 1

)

select * from final
