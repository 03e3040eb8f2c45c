{#- Allocated cost per shipped and surviving PR, AI-assisted PRs against the others, per team x
    month x is_ai_assisted (docs/metrics.md section 6, through the allocation). allocated_spend_usd
    is the spend allocated in the month to the team's PRs with that flag (whatever became of
    them: the cost of attempts that failed is part of the cost of the ones that shipped); the
    outcomes are the team's PRs with that flag shipped in the month and surviving H. Unallocated
    spend belongs to neither flag (see mart_waste_share), so these ratios are not the team's
    cost per surviving PR (mart_cost_per_outcome, all the team's attributed spend): they carry
    their own names. Spend needs a billing source. -#}
{%- set needs = {'billing': ['allocated_spend_usd', 'prs_with_spend',
                             'allocated_cost_per_shipped_pr',
                             'allocated_cost_per_surviving_pr']} -%}
with

pull_requests as (

    select
        lifecycle.pull_request_id,
        {{ reporting_group('lifecycle.team_id') }} as team_id,
        coalesce(lifecycle.is_ai_assisted, false) as is_ai_assisted,
        lifecycle.shipped_at,
        survival.is_censored,
        survival.survived
    from {{ ref('int_pull_requests__lifecycle') }} as lifecycle
    left join {{ ref('int_pull_requests__survival') }} as survival
        on lifecycle.pull_request_id = survival.pull_request_id

),

allocated as (

    select
        pull_requests.team_id,
        cast({{ dbt.date_trunc('month', 'allocation.day') }} as date) as month,
        pull_requests.is_ai_assisted,
        sum(allocation.cost_usd) as allocated_spend_usd,
        count(distinct allocation.pull_request_id) as prs_with_spend
    from {{ ref('int_spend_allocation') }} as allocation
    inner join pull_requests
        on allocation.pull_request_id = pull_requests.pull_request_id
    group by
        pull_requests.team_id,
        cast({{ dbt.date_trunc('month', 'allocation.day') }} as date),
        pull_requests.is_ai_assisted

),

shipped as (

    select
        team_id,
        cast({{ dbt.date_trunc('month', 'shipped_at') }} as date) as month,
        is_ai_assisted,
        count(*) as shipped_prs,
        sum(case when is_censored then 0 else cast(1 as bigint) end) as survival_evaluated_prs,
        sum(case when survived then cast(1 as bigint) else 0 end) as surviving_prs
    from pull_requests
    where shipped_at is not null
    group by
        team_id,
        cast({{ dbt.date_trunc('month', 'shipped_at') }} as date),
        is_ai_assisted

),

cohorts as (

    select team_id, month, is_ai_assisted from allocated
    union
    select team_id, month, is_ai_assisted from shipped

),

final as (

    select

        ----------  keys
        cohorts.team_id,
        cohorts.month,
        cohorts.is_ai_assisted,

        ---------- spend (USD)
        {{ when_available(needs, 'allocated_spend_usd',
            'cast(coalesce(allocated.allocated_spend_usd, 0) as decimal(38, 6))') }}
            as allocated_spend_usd,
        {{ when_available(needs, 'prs_with_spend', 'coalesce(allocated.prs_with_spend, 0)') }}
            as prs_with_spend,

        ---------- outcomes
        coalesce(shipped.shipped_prs, 0) as shipped_prs,
        coalesce(shipped.survival_evaluated_prs, 0) as survival_evaluated_prs,
        coalesce(shipped.surviving_prs, 0) as surviving_prs,

        ---------- ratios (allocated USD per PR)
        {{ when_available(needs, 'allocated_cost_per_shipped_pr',
            usd_per('allocated.allocated_spend_usd', 'shipped.shipped_prs')) }}
            as allocated_cost_per_shipped_pr,
        {{ when_available(needs, 'allocated_cost_per_surviving_pr',
            usd_per('allocated.allocated_spend_usd', 'shipped.surviving_prs')) }}
            as allocated_cost_per_surviving_pr,

        ---------- figures null for want of a source
        {{ unavailable_reason(needs) }} as unavailable_reason

    from cohorts
    left join allocated
        on cohorts.team_id = allocated.team_id
            and cohorts.month = allocated.month
            and cohorts.is_ai_assisted = allocated.is_ai_assisted
    left join shipped
        on cohorts.team_id = shipped.team_id
            and cohorts.month = shipped.month
            and cohorts.is_ai_assisted = shipped.is_ai_assisted

)

select * from final
-- No group too small to hide in (docs/metrics.md section 11).
where {{ shown_group('team_id') }}
