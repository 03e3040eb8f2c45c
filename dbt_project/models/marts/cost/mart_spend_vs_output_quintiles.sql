{#- The spend-vs-output curve per quarter x spend quintile (docs/metrics.md section 6): people,
    spend, shipped and surviving PRs per person, and the marginal cost of one more surviving
    PR from the quintile below: (spend per person - the lower quintile's) / (surviving PRs per
    person - the lower quintile's); null for quintile 1, where surviving PRs per person do
    not grow (delta <= 0: more spend bought no more surviving output), and where the quintile
    below holds fewer than var min_group_size people. Such a quintile (a quarter of fewer than
    five times the minimum) is not shown. The PRs need GitHub:
    null without it (mart_spend_vs_output says so too), with the reason. -#}
{%- set needs = {'github': ['shipped_prs', 'surviving_prs', 'shipped_per_person',
                            'surviving_per_person', 'marginal_cost_per_surviving_pr']} -%}
with

people as (

    select * from {{ ref('mart_spend_vs_output') }}

),

quintiles as (

    select
        quarter,
        spend_quintile,
        count(*) as people,
        sum(spend_usd) as spend_usd,
        sum(shipped_prs) as shipped_prs,
        sum(surviving_prs) as surviving_prs
    from people
    group by quarter, spend_quintile

),

per_person as (

    select
        quarter,
        spend_quintile,
        people,
        spend_usd,
        shipped_prs,
        surviving_prs,
        cast(spend_usd as {{ type_double() }}) / people as spend_per_person,
        cast(shipped_prs as {{ type_double() }}) / people as shipped_per_person,
        cast(surviving_prs as {{ type_double() }}) / people as surviving_per_person
    from quintiles

),

with_previous as (

    select
        per_person.*,
        lag(people) over (partition by quarter order by spend_quintile) as previous_people,
        lag(spend_per_person) over (
            partition by quarter order by spend_quintile
        ) as previous_spend_per_person,
        lag(surviving_per_person) over (
            partition by quarter order by spend_quintile
        ) as previous_surviving_per_person
    from per_person

),

final as (

    select

        ----------  keys
        quarter,
        spend_quintile,

        ---------- totals
        people,
        cast(spend_usd as decimal(38, 6)) as spend_usd,
        shipped_prs,
        surviving_prs,

        ---------- per person
        {{ round_double('spend_per_person', 6) }} as spend_per_person,
        {{ round_double('shipped_per_person', 6) }} as shipped_per_person,
        {{ round_double('surviving_per_person', 6) }} as surviving_per_person,

        ---------- marginal cost (USD per additional surviving PR per person)
        {{ when_available(needs, 'marginal_cost_per_surviving_pr', 'case
            when previous_people < ' ~ var('min_group_size') ~ ' then null
            when surviving_per_person - previous_surviving_per_person > 0
                then ' ~ round_double(
                    '(spend_per_person - previous_spend_per_person)
                    / (surviving_per_person - previous_surviving_per_person)', 6
                ) ~ '
        end') }} as marginal_cost_per_surviving_pr,

        ---------- figures null for want of a source
        {{ unavailable_reason(needs) }} as unavailable_reason

    from with_previous

)

-- A quintile of fewer than min_group_size people is not shown, nor compared with its
-- neighbour (docs/metrics.md section 11).
select * from final
where people >= {{ var('min_group_size') }}
