{#- Rollbacks are PagerDuty incidents: without PagerDuty their count is unknown, and survival
    rests on reverts alone. -#}
{%- set needs = {'pagerduty': ['rolled_back_within_h']} -%}
with

survival as (

    select * from {{ ref('int_pull_requests__survival') }}

),

final as (

    select

        ---------- the cohort
        shipped_month,
        {{ reporting_group('team_id') }} as team_id,
        is_ai_assisted,

        ---------- PRs
        count(*) as shipped,
        sum(case when is_censored then cast(1 as bigint) else 0 end) as censored,
        sum(case when is_censored then 0 else cast(1 as bigint) end) as eligible,
        sum(case when survived then cast(1 as bigint) else 0 end) as survived,
        sum(case when not is_censored and is_reverted_within_horizon then cast(1 as bigint) else 0 end)
            as reverted_within_h,
        {{ when_available(needs, 'rolled_back_within_h',
            'sum(case when not is_censored and is_rolled_back_within_horizon then cast(1 as bigint) else 0 end)') }}
            as rolled_back_within_h,

        ---------- rate
        cast(sum(case when survived then cast(1 as bigint) else 0 end) as {{ type_double() }})
        / nullif(sum(case when is_censored then 0 else cast(1 as bigint) end), 0) as survival_rate,

        ---------- figures null for want of a source
        {{ unavailable_reason(needs) }} as unavailable_reason

    from survival
    where shipped_at is not null
    group by shipped_month, {{ reporting_group('team_id') }}, is_ai_assisted

)

select * from final
-- No group too small to hide in (docs/metrics.md section 11).
where {{ shown_group('team_id') }}
