{#- Waste share per team x month and for the organisation x month (docs/metrics.md section 6):
    spend allocated to PRs that were abandoned, merged but never shipped, or shipped and
    reverted, plus unallocated spend, over total spend. Spend is attributed spend (to a
    person), the spend the allocation splits; total = allocated + unallocated. Each PR falls in
    one class, as of the as-of date, in this order: abandoned (closed unmerged), never shipped
    (merged, no production deployment yet), reverted (shipped, then reverted), in progress
    (still open: not waste yet), productive (shipped and not reverted). Spend with no person
    (team-only keys, unattributed) cannot be allocated; it is reported beside the share, not in
    it. Team rows follow the no-team rule (macros/no_team.sql); organisation rows have no team.
    The classes need GitHub (without it every dollar would look unallocated): null then, with
    the reason; the totals need only the billing sources the rows come from. -#}
{%- set needs = {'github': [
    'abandoned_spend_usd', 'never_shipped_spend_usd', 'reverted_spend_usd',
    'unallocated_spend_usd', 'in_progress_spend_usd', 'productive_spend_usd', 'waste_spend_usd',
    'waste_share']} -%}
with

pull_requests as (

    select
        pull_request_id,
        case
            when outcome = 'abandoned' then 'abandoned'
            when outcome = 'open' then 'in_progress'
            when shipped_at is null then 'never_shipped'
            when reverted_at is not null then 'reverted'
            else 'productive'
        end as pull_request_class
    from {{ ref('int_pull_requests__lifecycle') }}

),

allocation as (

    select
        allocation.team_id,
        cast({{ dbt.date_trunc('month', 'allocation.day') }} as date) as month,
        coalesce(pull_requests.pull_request_class, 'unallocated') as spend_class,
        allocation.cost_usd
    from {{ ref('int_spend_allocation') }} as allocation
    left join pull_requests
        on allocation.pull_request_id = pull_requests.pull_request_id

),

not_attributed as (

    select
        team_id,
        cast({{ dbt.date_trunc('month', 'day') }} as date) as month,
        cost_usd
    from {{ ref('int_ai_spend__daily') }}
    where person_id is null

),

by_scope as (

    select
        'team' as scope,
        {{ reporting_group('team_id') }} as team_id,
        month,
        spend_class,
        cost_usd
    from allocation

    union all

    select
        'organisation' as scope,
        cast(null as {{ dbt.type_string() }}) as team_id,
        month,
        spend_class,
        cost_usd
    from allocation

    union all

    select
        'team' as scope,
        {{ reporting_group('team_id') }} as team_id,
        month,
        'not_attributed' as spend_class,
        cost_usd
    from not_attributed

    union all

    select
        'organisation' as scope,
        cast(null as {{ dbt.type_string() }}) as team_id,
        month,
        'not_attributed' as spend_class,
        cost_usd
    from not_attributed

),

components as (

    select
        scope,
        team_id,
        month,
        {% for spend_class in ['abandoned', 'never_shipped', 'reverted', 'unallocated',
                               'in_progress', 'productive', 'not_attributed'] %}
        sum(case when spend_class = '{{ spend_class }}' then cost_usd else 0 end)
            as {{ spend_class }}_usd,
        {% endfor %}
        sum(case when spend_class <> 'not_attributed' then cost_usd else 0 end) as total_usd
    from by_scope
    group by scope, team_id, month

),

final as (

    select

        ----------  keys
        scope,
        team_id,
        month,

        ---------- components (USD)
        {%- for spend_class in ['abandoned', 'never_shipped', 'reverted', 'unallocated',
                                'in_progress', 'productive'] %}
        {{ when_available(needs, spend_class ~ '_spend_usd',
            'cast(' ~ spend_class ~ '_usd as decimal(38, 6))') }} as {{ spend_class }}_spend_usd,
        {%- endfor %}
        {{ when_available(needs, 'waste_spend_usd',
            'cast(abandoned_usd + never_shipped_usd + reverted_usd + unallocated_usd
                as decimal(38, 6))') }} as waste_spend_usd,
        cast(total_usd as decimal(38, 6)) as total_spend_usd,
        cast(not_attributed_usd as decimal(38, 6)) as not_attributed_spend_usd,

        ---------- share
        {{ when_available(needs, 'waste_share', 'case
            when total_usd > 0
                then ' ~ round_double(
                    'cast(abandoned_usd + never_shipped_usd + reverted_usd + unallocated_usd
                        as ' ~ type_double() ~ ')
                    / cast(total_usd as ' ~ type_double() ~ ')', 6
                ) ~ '
        end') }} as waste_share,

        ---------- figures null for want of a source
        {{ unavailable_reason(needs) }} as unavailable_reason

    from components

)

select * from final
-- No group too small to hide in (docs/metrics.md section 11).
where {{ shown_group('team_id') }}
