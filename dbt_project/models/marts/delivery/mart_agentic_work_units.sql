with

units as (

    select * from {{ ref('int_agentic_work_units') }}

),

spend as (

    select * from {{ ref('int_ai_spend__daily') }}

),

unit_weeks as (

    select
        team_id,
        cast({{ dbt.date_trunc('week', 'completed_at') }} as date) as week_start,
        sum(case when unit_kind = 'work_item' and awu_status = 'awu' then 1 else 0 end)
            as work_item_awus,
        sum(case when unit_kind = 'incident' and awu_status = 'awu' then 1 else 0 end)
            as incident_awus,
        sum(case when awu_status = 'pending' then 1 else 0 end) as pending_work_items,
        sum(case when awu_status = 'reopened' then 1 else 0 end) as reopened_work_items,
        sum(case when awu_status = 'pull_request_failed' then 1 else 0 end)
            as failed_work_items,
        sum(case when awu_status = 'no_pull_request' then 1 else 0 end)
            as done_without_pull_request
    from units
    group by team_id, {{ dbt.date_trunc('week', 'completed_at') }}

),

spend_weeks as (

    -- Attributed spend: spend of the team's people. A team's shared keys' spend is
    -- unattributed for the team (METRICS.md section 2), as in mart_cost_per_outcome.
    select
        team_id,
        cast({{ dbt.date_trunc('week', 'day') }} as date) as week_start,
        sum(cost_usd) as attributed_spend_usd
    from spend
    where team_id is not null
        and person_id is not null
    group by team_id, {{ dbt.date_trunc('week', 'day') }}

),

team_weeks as (

    select team_id, week_start from unit_weeks
    union
    select team_id, week_start from spend_weeks

),

final as (

    select

        ---------- the grain
        team_weeks.team_id,
        team_weeks.week_start,

        ---------- agentic work units
        coalesce(unit_weeks.work_item_awus, 0) as work_item_awus,
        coalesce(unit_weeks.incident_awus, 0) as incident_awus,
        coalesce(unit_weeks.work_item_awus, 0) + coalesce(unit_weeks.incident_awus, 0) as awus,

        ---------- done work items that are not (yet) units
        coalesce(unit_weeks.pending_work_items, 0) as pending_work_items,
        coalesce(unit_weeks.reopened_work_items, 0) as reopened_work_items,
        coalesce(unit_weeks.failed_work_items, 0) as failed_work_items,
        coalesce(unit_weeks.done_without_pull_request, 0) as done_without_pull_request,

        ---------- cost
        coalesce(spend_weeks.attributed_spend_usd, 0) as attributed_spend_usd,
        coalesce(spend_weeks.attributed_spend_usd, 0)
        / nullif(coalesce(unit_weeks.work_item_awus, 0) + coalesce(unit_weeks.incident_awus, 0), 0)
            as cost_per_awu

    from team_weeks
    left join unit_weeks
        on coalesce(team_weeks.team_id, '') = coalesce(unit_weeks.team_id, '')
        and team_weeks.week_start = unit_weeks.week_start
    left join spend_weeks
        on coalesce(team_weeks.team_id, '') = coalesce(spend_weeks.team_id, '')
        and team_weeks.week_start = spend_weeks.week_start

)

select * from final
