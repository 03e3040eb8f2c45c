{#- Cost per shipped and per surviving PR, per team x month (docs/metrics.md section 6): the team's
    attributed spend in the month (spend attributed to a person of the team), whatever it went
    to, over the team's PRs shipped in the month, and over those that survived H. The team's
    budget view of what its spend bought; for AI-assisted against other PRs, through the spend
    allocated to them, see mart_cost_per_outcome_by_ai (allocated_cost_per_surviving_pr).
    Spend on the team's team-only API keys is not attributed to a person, so it stays out of
    the ratio (as the reconciliation counts it unattributed) and is reported beside it; in the
    no-team group (macros/no_team.sql) that is the spend attributed to no one. Spend needs a
    billing source, PRs need GitHub: a figure whose source is not available is null, with the
    reason. -#}
{%- set needs = {
    'billing': ['attributed_spend_usd', 'team_key_spend_usd', 'cost_per_shipped_pr',
                'cost_per_surviving_pr'],
    'github': ['shipped_prs', 'survival_evaluated_prs', 'surviving_prs', 'cost_per_shipped_pr',
               'cost_per_surviving_pr'],
} -%}
with

spend as (

    select
        {{ reporting_group('team_id') }} as team_id,
        cast({{ dbt.date_trunc('month', 'day') }} as date) as month,
        sum(case when person_id is not null then cost_usd else 0 end) as attributed_spend_usd,
        sum(case when person_id is null then cost_usd else 0 end) as team_key_spend_usd
    from {{ ref('int_ai_spend__daily') }}
    group by
        {{ reporting_group('team_id') }},
        cast({{ dbt.date_trunc('month', 'day') }} as date)

),

shipped as (

    select
        {{ reporting_group('lifecycle.team_id') }} as team_id,
        cast({{ dbt.date_trunc('month', 'lifecycle.shipped_at') }} as date) as month,
        count(*) as shipped_prs,
        sum(case when survival.is_censored then 0 else cast(1 as bigint) end) as survival_evaluated_prs,
        sum(case when survival.survived then cast(1 as bigint) else 0 end) as surviving_prs
    from {{ ref('int_pull_requests__lifecycle') }} as lifecycle
    left join {{ ref('int_pull_requests__survival') }} as survival
        on lifecycle.pull_request_id = survival.pull_request_id
    where lifecycle.shipped_at is not null
    group by
        {{ reporting_group('lifecycle.team_id') }},
        cast({{ dbt.date_trunc('month', 'lifecycle.shipped_at') }} as date)

),

team_months as (

    select team_id, month from spend
    union
    select team_id, month from shipped

),

final as (

    select

        ----------  keys
        team_months.team_id,
        team_months.month,

        ---------- spend (USD)
        {{ when_available(needs, 'attributed_spend_usd',
            'cast(coalesce(spend.attributed_spend_usd, 0) as decimal(38, 6))') }}
            as attributed_spend_usd,
        {{ when_available(needs, 'team_key_spend_usd',
            'cast(coalesce(spend.team_key_spend_usd, 0) as decimal(38, 6))') }}
            as team_key_spend_usd,

        ---------- outcomes
        {{ when_available(needs, 'shipped_prs', 'coalesce(shipped.shipped_prs, 0)') }}
            as shipped_prs,
        {{ when_available(needs, 'survival_evaluated_prs',
            'coalesce(shipped.survival_evaluated_prs, 0)') }} as survival_evaluated_prs,
        {{ when_available(needs, 'surviving_prs', 'coalesce(shipped.surviving_prs, 0)') }}
            as surviving_prs,

            ---------- ratios (USD per PR)
        {{ when_available(needs, 'cost_per_shipped_pr',
            usd_per('spend.attributed_spend_usd', 'shipped.shipped_prs')) }} as cost_per_shipped_pr,
        {{ when_available(needs, 'cost_per_surviving_pr',
            usd_per('spend.attributed_spend_usd', 'shipped.surviving_prs')) }}
            as cost_per_surviving_pr,

        ---------- figures null for want of a source
        {{ unavailable_reason(needs) }} as unavailable_reason

    from team_months
    left join spend
        on team_months.team_id = spend.team_id
            and team_months.month = spend.month
    left join shipped
        on team_months.team_id = shipped.team_id
            and team_months.month = shipped.month

)

select * from final
-- No group too small to hide in (docs/metrics.md section 11).
where {{ shown_group('team_id') }}
