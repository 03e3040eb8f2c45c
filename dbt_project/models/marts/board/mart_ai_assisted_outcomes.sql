{#- AI-assisted PRs against the others over the whole history: one row per is_ai_assisted. The
    figures `make demo` prints (pipelines/serving/summary.py reads them here, never recomputes): the
    funnel (opened -> merged -> shipped -> survived H), the spend allocated to the PRs and the
    allocated cost per surviving PR (the formula of mart_cost_per_outcome_by_ai over the whole
    history: spend allocated to the cohort's PRs, whatever became of them, over its surviving
    PRs; not the team-month cost per surviving PR of mart_cost_per_outcome), bugs per shipped
    PR (defect weight within H of the PRs observed H days, over those PRs, as in
    mart_bugs_per_shipped_pr) and review hours per PR. Null when a source a figure needs is not
    available, with the reason. -#}
{%- set needs = {
    'billing': ['allocated_spend_usd', 'allocated_cost_per_surviving_pr'],
    'defects': ['defect_weight', 'bugs_per_shipped_pr'],
} -%}
with

prs as (

    select * from {{ ref('fct_pull_requests') }}

),

cohorts as (

    select
        coalesce(is_ai_assisted, false) as is_ai_assisted,
        count(*) as opened,
        sum(case when outcome = 'merged' then cast(1 as bigint) else 0 end) as merged,
        sum(case when shipped_at is not null then cast(1 as bigint) else 0 end) as shipped,
        sum(case when survived is not null then cast(1 as bigint) else 0 end) as shipped_observed,
        sum(case when survived then cast(1 as bigint) else 0 end) as survived,
        sum(allocated_spend_usd) as allocated_spend_usd,
        {{ exact_sum('case when survived is not null then defect_weight_within_h else 0 end',
                     1000000000000) }} as defect_weight,
        {{ exact_sum('review_hours', 3600000) }} as review_hours
    from prs
    group by coalesce(is_ai_assisted, false)

),

final as (

    select

        ---------- the cohort
        is_ai_assisted,

        ---------- the funnel
        opened,
        merged,
        shipped,
        shipped_observed,
        survived,
        cast(survived as {{ type_double() }}) / nullif(opened, 0) as survived_share,

        ---------- spend allocated to the cohort's PRs (USD)
        {{ when_available(needs, 'allocated_spend_usd',
            'cast(allocated_spend_usd as decimal(38, 6))') }} as allocated_spend_usd,
        {{ when_available(needs, 'allocated_cost_per_surviving_pr',
            usd_per('allocated_spend_usd', 'survived')) }} as allocated_cost_per_surviving_pr,

        ---------- quality
        {{ when_available(needs, 'defect_weight', 'defect_weight') }} as defect_weight,
        {{ when_available(needs, 'bugs_per_shipped_pr',
            'defect_weight / nullif(shipped_observed, 0)') }} as bugs_per_shipped_pr,

        ---------- review effort
        review_hours,
        review_hours / nullif(opened, 0) as review_hours_per_pr,

        ---------- figures null for want of a source
        {{ unavailable_reason(needs) }} as unavailable_reason,
        {{ stale_sources() }} as stale_sources

    from cohorts

)

select * from final
