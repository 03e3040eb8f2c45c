{#- AWUs per team x week and cost per AWU (docs/metrics.md section 7). Work-item units need Jira and
    GitHub (a work item is a unit once its PRs shipped and survived), incident units need
    PagerDuty, spend a billing source. awus counts the units of the sources that are available;
    it is null only when neither kind can be counted. Teams follow the no-team rule
    (macros/no_team.sql). -#}
{%- set work_item_figures = ['work_item_awus', 'pending_work_items', 'reopened_work_items',
                             'failed_work_items', 'done_without_pull_request'] -%}
{%- set needs = {
    'work_units': ['awus', 'cost_per_awu'],
    'jira': work_item_figures,
    'github': work_item_figures,
    'pagerduty': ['incident_awus'],
    'billing': ['attributed_spend_usd', 'cost_per_awu'],
} -%}
with

units as (

    select * from {{ ref('int_agentic_work_units') }}

),

spend as (

    select * from {{ ref('int_ai_spend__daily') }}

),

unit_weeks as (

    select
        {{ reporting_group('team_id') }} as team_id,
        cast({{ dbt.date_trunc('week', 'completed_at') }} as date) as week_start,
        sum(case when unit_kind = 'work_item' and awu_status = 'awu' then cast(1 as bigint) else 0 end)
            as work_item_awus,
        sum(case when unit_kind = 'incident' and awu_status = 'awu' then cast(1 as bigint) else 0 end)
            as incident_awus,
        sum(case when awu_status = 'pending' then cast(1 as bigint) else 0 end) as pending_work_items,
        sum(case when awu_status = 'reopened' then cast(1 as bigint) else 0 end) as reopened_work_items,
        sum(case when awu_status = 'pull_request_failed' then cast(1 as bigint) else 0 end)
            as failed_work_items,
        sum(case when awu_status = 'no_pull_request' then cast(1 as bigint) else 0 end)
            as done_without_pull_request
    from units
    group by {{ reporting_group('team_id') }}, {{ dbt.date_trunc('week', 'completed_at') }}

),

spend_weeks as (

    -- Attributed spend: spend of the team's people. A team's shared keys' spend is
    -- unattributed for the team (docs/metrics.md section 2), as in mart_cost_per_outcome.
    select
        {{ reporting_group('team_id') }} as team_id,
        cast({{ dbt.date_trunc('week', 'day') }} as date) as week_start,
        sum(cost_usd) as attributed_spend_usd
    from spend
    where person_id is not null
    group by {{ reporting_group('team_id') }}, {{ dbt.date_trunc('week', 'day') }}

),

team_weeks as (

    select team_id, week_start from unit_weeks
    union
    select team_id, week_start from spend_weeks

),

counted as (

    select
        team_weeks.team_id,
        team_weeks.week_start,
        {%- for figure in work_item_figures + ['incident_awus'] %}
        {{ when_available(needs, figure, 'coalesce(unit_weeks.' ~ figure ~ ', 0)') }}
            as {{ figure }},
        {%- endfor %}
        {{ when_available(needs, 'attributed_spend_usd',
            'coalesce(spend_weeks.attributed_spend_usd, 0)') }} as attributed_spend_usd
    from team_weeks
    left join unit_weeks
        on team_weeks.team_id = unit_weeks.team_id
            and team_weeks.week_start = unit_weeks.week_start
    left join spend_weeks
        on team_weeks.team_id = spend_weeks.team_id
            and team_weeks.week_start = spend_weeks.week_start

),

final as (

    select

        ---------- the grain
        team_id,
        week_start,

        ---------- agentic work units (of the sources that are available)
        work_item_awus,
        incident_awus,
        {{ when_available(needs, 'awus',
            'coalesce(work_item_awus, 0) + coalesce(incident_awus, 0)') }} as awus,

        ---------- done work items that are not (yet) units
        pending_work_items,
        reopened_work_items,
        failed_work_items,
        done_without_pull_request,

        ---------- cost
        attributed_spend_usd,
        {{ when_available(needs, 'cost_per_awu',
            'cast(attributed_spend_usd as ' ~ type_double() ~ ') / nullif(coalesce(work_item_awus, 0) + coalesce(incident_awus, 0), 0)') }}
            as cost_per_awu,

        ---------- figures null for want of a source
        {{ unavailable_reason(needs) }} as unavailable_reason

    from counted

)

select * from final
-- No group too small to hide in (docs/metrics.md section 11).
where {{ shown_group('team_id') }}
