{#- The spend-vs-output curve per person x quarter (docs/metrics.md section 6): each person's
    attributed spend, its quintile among everyone's in the quarter, and the PRs they shipped
    and that survived H. Only people of teams that report as themselves (at least var
    min_group_size non-bot people, docs/metrics.md section 11) get a row, so no one is shown
    alone; people with no spend are in (quintile 1).
    Quintiles are buckets for the curve (mart_spend_vs_output_quintiles), not a ranking: there
    is no rank column. Quarters: every quarter with spend in the organisation (so rows need a
    billing source). People with no team are no team's members: no rows. The PRs need GitHub:
    null without it, with the reason. -#}
{%- set needs = {'github': ['shipped_prs', 'surviving_prs']} -%}
with

people as (

    select
        person_id,
        team_id
    from {{ ref('int_people') }}
    where not is_bot
        and team_id is not null

),

eligible_people as (

    -- People of teams that report as themselves (macros/reporting_group.sql).
    select *
    from people
    where {{ reports_as_itself('team_id') }}

),

spend as (

    select
        person_id,
        cast({{ dbt.date_trunc('quarter', 'day') }} as date) as quarter,
        sum(cost_usd) as spend_usd
    from {{ ref('int_ai_spend__daily') }}
    where person_id is not null
    group by person_id, cast({{ dbt.date_trunc('quarter', 'day') }} as date)

),

quarters as (

    select distinct cast({{ dbt.date_trunc('quarter', 'day') }} as date) as quarter
    from {{ ref('int_ai_spend__daily') }}

),

outcomes as (

    select
        lifecycle.author_person_id as person_id,
        cast({{ dbt.date_trunc('quarter', 'lifecycle.shipped_at') }} as date) as quarter,
        count(*) as shipped_prs,
        sum(case when survival.survived then cast(1 as bigint) else 0 end) as surviving_prs
    from {{ ref('int_pull_requests__lifecycle') }} as lifecycle
    left join {{ ref('int_pull_requests__survival') }} as survival
        on lifecycle.pull_request_id = survival.pull_request_id
    where lifecycle.shipped_at is not null
        and lifecycle.author_person_id is not null
    group by
        lifecycle.author_person_id,
        cast({{ dbt.date_trunc('quarter', 'lifecycle.shipped_at') }} as date)

),

person_quarters as (

    select
        eligible_people.person_id,
        eligible_people.team_id,
        quarters.quarter,
        coalesce(spend.spend_usd, 0) as spend_usd,
        coalesce(outcomes.shipped_prs, 0) as shipped_prs,
        coalesce(outcomes.surviving_prs, 0) as surviving_prs
    from eligible_people
    cross join quarters
    left join spend
        on eligible_people.person_id = spend.person_id
            and quarters.quarter = spend.quarter
    left join outcomes
        on eligible_people.person_id = outcomes.person_id
            and quarters.quarter = outcomes.quarter

),

final as (

    select

        ----------  keys
        person_id,
        team_id,
        quarter,

        ---------- spend
        cast(spend_usd as decimal(38, 6)) as spend_usd,
        cast(ntile(5) over (partition by quarter order by spend_usd, person_id) as bigint)
            as spend_quintile,

        ---------- outcomes
        {{ when_available(needs, 'shipped_prs', 'shipped_prs') }} as shipped_prs,
        {{ when_available(needs, 'surviving_prs', 'surviving_prs') }} as surviving_prs,

        ---------- figures null for want of a source
        {{ unavailable_reason(needs) }} as unavailable_reason

    from person_quarters

)

select * from final
