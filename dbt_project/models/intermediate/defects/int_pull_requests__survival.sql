{%- set horizon_days = var('survival_horizon_days') -%}
with

pull_requests as (

    select * from {{ ref('int_pull_requests__lifecycle') }}

),

attribution as (

    select * from {{ ref('int_defect_attribution') }}

),

rollbacks as (

    select * from {{ ref('int_incidents__rollbacks') }}

),

rolled_back as (

    -- The earliest rollback of an incident attributed to the PR (by any rule).
    select
        attribution.pull_request_id,
        min(rollbacks.rolled_back_at) as rolled_back_at
    from attribution
    inner join rollbacks
        on attribution.defect_id = rollbacks.incident_id
    where attribution.defect_kind = 'incident'
        and attribution.pull_request_id is not null
        and rollbacks.is_rolled_back
    group by attribution.pull_request_id

),

failures as (

    select
        pull_requests.pull_request_id,
        pull_requests.repo_full_name,
        pull_requests.pull_request_number,
        pull_requests.team_id,
        pull_requests.is_ai_assisted,
        pull_requests.shipped_at,
        pull_requests.reverted_at,
        rolled_back.rolled_back_at,
        case
            when pull_requests.reverted_at is null then rolled_back.rolled_back_at
            when rolled_back.rolled_back_at is null then pull_requests.reverted_at
            when rolled_back.rolled_back_at < pull_requests.reverted_at
                then rolled_back.rolled_back_at
            else pull_requests.reverted_at
        end as failed_at,
        {{ dbt.dateadd('day', horizon_days, 'pull_requests.shipped_at') }} as horizon_ends_at
    from pull_requests
    left join rolled_back
        on pull_requests.pull_request_id = rolled_back.pull_request_id

),

final as (

    select

        ----------  ids
        pull_request_id,
        repo_full_name,
        pull_request_number,
        team_id,
        is_ai_assisted,

        ---------- timestamps (UTC)
        shipped_at,
        cast({{ dbt.date_trunc('month', 'shipped_at') }} as date) as shipped_month,
        horizon_ends_at,
        reverted_at,
        rolled_back_at,
        failed_at,

        ---------- survival at H
        -- Shipped less than H days before as-of: the window is not over yet.
        case
            when shipped_at is not null
                then shipped_at > {{ dbt.dateadd('day', -horizon_days, as_of_timestamp()) }}
        end as is_censored,
        case
            when shipped_at is not null
                then coalesce(reverted_at <= horizon_ends_at, false)
        end as is_reverted_within_horizon,
        case
            when shipped_at is not null
                then coalesce(rolled_back_at <= horizon_ends_at, false)
        end as is_rolled_back_within_horizon,
        case
            when shipped_at is null then null
            when shipped_at > {{ dbt.dateadd('day', -horizon_days, as_of_timestamp()) }}
                then null
            else not coalesce(failed_at <= horizon_ends_at, false)
        end as survived,
        {{ minutes_between('shipped_at', 'failed_at') }} / 1440.0 as days_to_failure

    from failures

)

select * from final
