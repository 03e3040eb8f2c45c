{%- set needs = dora_figure_needs() -%}
{#- The deployment columns scoped_deployments carries (team_id is replaced by the grain's). -#}
{%- set deployment_columns = [
    'deployment_id', 'deployment_day', 'is_successful', 'shipped_prs',
    'is_change_failure', 'is_rolled_back', 'is_rework',
] -%}
with

deployments as (

    select * from {{ ref('int_deployments__outcomes') }}

),

deployment_incidents as (

    select * from {{ ref('int_deployments__incidents') }}

),

pull_requests as (

    select * from {{ ref('int_pull_requests__lifecycle') }}

),

period as (

    -- The whole period: from the day of the organisation's first production deployment to
    -- the as-of day (exclusive), the same for every team so frequencies compare.
    select
        min(deployment_day) as period_start,
        {{ as_of_date() }} as period_end,
        cast({{ dbt.datediff('min(deployment_day)', as_of_date(), 'day') }} as bigint)
            as period_days
    from deployments

),

deployment_figures as (

    select
        deployment_id,
        team_id as deployment_team_id,
        is_successful,
        is_change_failure,
        is_rolled_back,
        is_rework,
        shipped_prs
    from deployments

),

scoped_deployments as (

    select
        'team' as grain,
        {{ reporting_group('deployment_team_id') }} as team_id,
        deployment_figures.*
    from deployment_figures
    union all
    select
        'all' as grain,
        cast(null as {{ dbt.type_string() }}) as team_id,
        deployment_figures.*
    from deployment_figures

),

counts as (

    select
        grain,
        team_id,
        count(*) as deployments,
        sum(case when is_successful then cast(1 as bigint) else 0 end) as successful_deployments,
        sum(case when is_change_failure then cast(1 as bigint) else 0 end) as change_failures,
        sum(case when is_rolled_back then cast(1 as bigint) else 0 end) as rolled_back_deployments,
        sum(case when is_rework then cast(1 as bigint) else 0 end) as rework_deployments,
        sum(case when is_successful then shipped_prs else 0 end) as shipped_prs
    from scoped_deployments
    group by grain, team_id

),

lead_times as (

    select
        scoped_deployments.grain,
        scoped_deployments.team_id,
        percentile_cont(0.5) within group (
            order by
                {{ minutes_between('pull_requests.first_commit_at', 'pull_requests.shipped_at') }}
                / 60.0
        ) as lead_time_median_hours,
        percentile_cont(0.75) within group (
            order by
                {{ minutes_between('pull_requests.first_commit_at', 'pull_requests.shipped_at') }}
                / 60.0
        ) as lead_time_p75_hours
    from pull_requests
    inner join scoped_deployments
        on pull_requests.shipping_deployment_id = scoped_deployments.deployment_id
    where pull_requests.shipped_at is not null
        and pull_requests.first_commit_at is not null
    group by scoped_deployments.grain, scoped_deployments.team_id

),

recoveries as (

    select
        grain,
        team_id,
        count(*) as recovered_incidents,
        percentile_cont(0.5) within group (order by resolution_hours)
            as recovery_time_median_hours
    from (
        select distinct
            scoped_deployments.grain,
            scoped_deployments.team_id,
            deployment_incidents.incident_id,
            deployment_incidents.resolution_hours
        from deployment_incidents
        inner join scoped_deployments
            on deployment_incidents.deployment_id = scoped_deployments.deployment_id
        where scoped_deployments.is_successful
            and deployment_incidents.incident_resolved_at is not null
    ) as recovered
    group by grain, team_id

),

metrics as (

    select
        counts.grain,
        counts.team_id,
        counts.deployments,
        counts.successful_deployments,
        {{ when_available(needs, 'change_failures', 'counts.change_failures') }}
            as change_failures,
        {{ when_available(needs, 'rolled_back_deployments', 'counts.rolled_back_deployments') }}
            as rolled_back_deployments,
        counts.rework_deployments,
        counts.shipped_prs,
        period.period_start,
        period.period_end,
        period.period_days,
        cast(counts.successful_deployments as {{ type_double() }}) / nullif(period.period_days, 0)
            as deployments_per_day,
        cast(7 * counts.successful_deployments as {{ type_double() }})
        / nullif(period.period_days, 0)
            as deployments_per_week,
        lead_times.lead_time_median_hours,
        lead_times.lead_time_p75_hours,
        {{ when_available(needs, 'change_failure_rate',
            'cast(counts.change_failures as ' ~ type_double() ~ ') / nullif(counts.successful_deployments, 0)') }}
            as change_failure_rate,
        {{ when_available(needs, 'recovered_incidents',
            'coalesce(recoveries.recovered_incidents, 0)') }} as recovered_incidents,
        {{ when_available(needs, 'recovery_time_median_hours',
            'recoveries.recovery_time_median_hours') }} as recovery_time_median_hours,
        cast(counts.rework_deployments as {{ type_double() }}) / nullif(counts.successful_deployments, 0)
            as deployment_rework_rate
    from counts
    cross join period
    left join lead_times
        on counts.grain = lead_times.grain
            and coalesce(counts.team_id, '') = coalesce(lead_times.team_id, '')
    left join recoveries
        on counts.grain = recoveries.grain
            and coalesce(counts.team_id, '') = coalesce(recoveries.team_id, '')

),

final as (

    select

        ---------- the grain
        grain,
        team_id,
        period_start,
        period_end,
        period_days,

        ---------- deployment frequency
        deployments,
        successful_deployments,
        deployments_per_day,
        deployments_per_week,
        {{ dora_tier('deployment_frequency', 'deployments_per_day') }}
            as deployment_frequency_tier,

        ---------- lead time for changes
        shipped_prs,
        lead_time_median_hours,
        lead_time_p75_hours,
        {{ dora_tier('lead_time_for_changes', 'lead_time_median_hours') }}
            as lead_time_tier,

        ---------- change failure rate
        change_failures,
        rolled_back_deployments,
        change_failure_rate,
        {{ dora_tier('change_failure_rate', 'change_failure_rate') }}
            as change_failure_rate_tier,

        ---------- failed deployment recovery time
        recovered_incidents,
        recovery_time_median_hours,
        {{ dora_tier('failed_deployment_recovery_time', 'recovery_time_median_hours') }}
            as recovery_time_tier,

        ---------- deployment rework rate
        rework_deployments,
        deployment_rework_rate,
        {{ dora_tier('deployment_rework_rate', 'deployment_rework_rate') }}
            as deployment_rework_rate_tier,

        ---------- figures null for want of a source
        {{ unavailable_reason(needs) }} as unavailable_reason

    from metrics

)

select * from final
-- No group too small to hide in (docs/metrics.md section 11).
where {{ shown_group('team_id') }}
