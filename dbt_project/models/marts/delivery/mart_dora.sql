{%- set needs = dora_figure_needs() -%}
with

deployments as (

    -- A repository is shown under its own name only when its team reports as itself; the
    -- repositories of the other teams are one row per week (docs/metrics.md section 11).
    select
        deployment_id,
        case
            when {{ reports_as_itself('team_id') }}
                then repo_full_name
            else {{ other_teams_label() }}
        end as repo_full_name,
        {{ reporting_group('team_id') }} as team_id,
        deployment_week,
        is_successful,
        is_change_failure,
        is_rolled_back,
        is_rework,
        shipped_prs
    from {{ ref('int_deployments__outcomes') }}

),

deployment_incidents as (

    select * from {{ ref('int_deployments__incidents') }}

),

pull_requests as (

    select * from {{ ref('int_pull_requests__lifecycle') }}

),

weekly_deployments as (

    select
        repo_full_name,
        deployment_week,
        max(team_id) as team_id,
        count(*) as deployments,
        sum(case when is_successful then cast(1 as bigint) else 0 end) as successful_deployments,
        sum(case when is_change_failure then cast(1 as bigint) else 0 end) as change_failures,
        sum(case when is_rolled_back then cast(1 as bigint) else 0 end) as rolled_back_deployments,
        sum(case when is_rework then cast(1 as bigint) else 0 end) as rework_deployments,
        sum(case when is_successful then shipped_prs else 0 end) as shipped_prs
    from deployments
    group by repo_full_name, deployment_week

),

lead_times as (

    -- Per shipped PR: shipped_at - first commit, in the week of the deployment that shipped it.
    select
        deployments.repo_full_name,
        deployments.deployment_week,
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
    inner join deployments
        on pull_requests.shipping_deployment_id = deployments.deployment_id
    where pull_requests.shipped_at is not null
        and pull_requests.first_commit_at is not null
    group by deployments.repo_full_name, deployments.deployment_week

),

recoveries as (

    -- Failed deployment recovery: resolved - created of each resolved incident attributed to
    -- a successful deployment of the week (an incident counts once per repository and week).
    select
        repo_full_name,
        deployment_week,
        count(*) as recovered_incidents,
        percentile_cont(0.5) within group (order by resolution_hours)
            as recovery_time_median_hours
    from (
        select distinct
            deployments.repo_full_name,
            deployments.deployment_week,
            deployment_incidents.incident_id,
            deployment_incidents.resolution_hours
        from deployment_incidents
        inner join deployments
            on deployment_incidents.deployment_id = deployments.deployment_id
        where deployments.is_successful
            and deployment_incidents.incident_resolved_at is not null
    ) as recovered
    group by repo_full_name, deployment_week

),

metrics as (

    select
        weekly_deployments.repo_full_name,
        weekly_deployments.deployment_week,
        weekly_deployments.team_id,
        weekly_deployments.deployments,
        weekly_deployments.successful_deployments,
        {{ when_available(needs, 'change_failures', 'weekly_deployments.change_failures') }}
            as change_failures,
        {{ when_available(needs, 'rolled_back_deployments',
            'weekly_deployments.rolled_back_deployments') }} as rolled_back_deployments,
        weekly_deployments.rework_deployments,
        weekly_deployments.shipped_prs,
        cast(weekly_deployments.successful_deployments as {{ type_double() }}) / 7 as deployments_per_day,
        lead_times.lead_time_median_hours,
        lead_times.lead_time_p75_hours,
        {{ when_available(needs, 'change_failure_rate', 'cast(weekly_deployments.change_failures as ' ~ type_double() ~ ')
            / nullif(weekly_deployments.successful_deployments, 0)') }} as change_failure_rate,
        {{ when_available(needs, 'recovered_incidents',
            'coalesce(recoveries.recovered_incidents, 0)') }} as recovered_incidents,
        {{ when_available(needs, 'recovery_time_median_hours',
            'recoveries.recovery_time_median_hours') }} as recovery_time_median_hours,
        cast(weekly_deployments.rework_deployments as {{ type_double() }})
        / nullif(weekly_deployments.successful_deployments, 0) as deployment_rework_rate
    from weekly_deployments
    left join lead_times
        on weekly_deployments.repo_full_name = lead_times.repo_full_name
            and weekly_deployments.deployment_week = lead_times.deployment_week
    left join recoveries
        on weekly_deployments.repo_full_name = recoveries.repo_full_name
            and weekly_deployments.deployment_week = recoveries.deployment_week

),

final as (

    select

        ---------- the grain
        repo_full_name,
        deployment_week,
        team_id,

        ---------- deployment frequency
        deployments,
        successful_deployments,
        deployments_per_day,
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
