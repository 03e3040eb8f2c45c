{%- set horizon_days = var('survival_horizon_days') -%}
with

work_items as (

    select * from {{ ref('int_work_items') }}

),

work_item_pull_requests as (

    select * from {{ ref('int_work_items__pull_requests') }}

),

survival as (

    select * from {{ ref('int_pull_requests__survival') }}

),

incidents as (

    select * from {{ ref('int_incidents') }}

),

log_entries as (

    select * from {{ ref('stg_pagerduty__incident_log_entries') }}

),

people as (

    select * from {{ ref('int_people') }}

),

implementing as (

    -- The implementing PRs of an item: the merged PRs naming its key (an abandoned PR was
    -- replaced by another; a PR still open on a done item is ignored).
    select
        work_item_pull_requests.work_item_key,
        count(*) as merged_prs,
        sum(case when survival.shipped_at is null then cast(1 as bigint) else 0 end) as unshipped_prs,
        sum(case when survival.is_censored then cast(1 as bigint) else 0 end) as censored_prs,
        sum(case when survival.survived = false then cast(1 as bigint) else 0 end) as failed_prs
    from work_item_pull_requests
    inner join survival
        on work_item_pull_requests.pull_request_id = survival.pull_request_id
    where work_item_pull_requests.is_merged
    group by work_item_pull_requests.work_item_key

),

work_item_units as (

    select
        work_items.work_item_key as unit_id,
        'work_item' as unit_kind,
        work_items.team_id,
        work_items.assignee_person_id as person_id,
        work_items.done_at as completed_at,
        coalesce(implementing.merged_prs, 0) as implementing_prs,
        case
            when implementing.work_item_key is null then 'no_pull_request'
            when work_items.reopened_at
                <= {{ dbt.dateadd('day', horizon_days, 'work_items.done_at') }}
                then 'reopened'
            when implementing.failed_prs > 0 then 'pull_request_failed'
            when implementing.unshipped_prs > 0
                or implementing.censored_prs > 0
                or {{ dbt.dateadd('day', horizon_days, 'work_items.done_at') }}
                > {{ as_of_timestamp() }}
                then 'pending'
            else 'awu'
        end as awu_status
    from work_items
    left join implementing
        on work_items.work_item_key = implementing.work_item_key
    where not work_items.is_defect
        and work_items.done_at is not null

),

resolvers as (

    -- The person who resolved the incident: the user of its first resolve log entry.
    select
        incident_id,
        agent_id as pagerduty_user_id
    from (
        select
            incident_id,
            agent_id,
            row_number() over (
                partition by incident_id
                order by created_at, log_entry_id
            ) as entry_rank
        from log_entries
        where log_entry_type = 'resolve_log_entry'
            and agent_type = 'user_reference'
    ) as ranked
    where entry_rank = 1

),

incident_units as (

    select
        incidents.incident_id as unit_id,
        'incident' as unit_kind,
        incidents.team_id,
        people.person_id,
        incidents.resolved_at as completed_at,
        0 as implementing_prs,
        'awu' as awu_status
    from incidents
    left join resolvers
        on incidents.incident_id = resolvers.incident_id
    left join people
        on resolvers.pagerduty_user_id = people.pagerduty_user_id
    where incidents.resolved_at is not null

),

final as (

    select * from work_item_units
    union all
    select * from incident_units

)

select * from final
