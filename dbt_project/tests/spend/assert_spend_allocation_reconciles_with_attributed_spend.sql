{#- docs/metrics.md section 6: allocated + unallocated spend = attributed spend. Per person and day
    the allocation rows must add up to the day's attributed spend rounded once to the
    micro-dollar (no cent created or lost by the equal split), and per day the allocation must
    match the reconciliation's attributed_usd within the section 2 tolerance (0.01 USD).
    Returns the person-days and days that break it. -#}
with

spend_person_days as (

    select
        person_id,
        day,
        sum(cost_usd) as attributed_usd
    from {{ ref('int_ai_spend') }}
    where person_id is not null
    group by person_id, day

),

allocation_person_days as (

    select
        person_id,
        day,
        sum(cost_usd) as allocated_usd
    from {{ ref('int_spend_allocation') }}
    group by person_id, day

),

person_day_breaks as (

    select
        'person_day' as level,
        coalesce(spend_person_days.day, allocation_person_days.day) as day,
        coalesce(spend_person_days.person_id, allocation_person_days.person_id) as person_id,
        spend_person_days.attributed_usd,
        allocation_person_days.allocated_usd
    from spend_person_days
    full outer join allocation_person_days
        on spend_person_days.person_id = allocation_person_days.person_id
            and spend_person_days.day = allocation_person_days.day
    where spend_person_days.person_id is null
        or allocation_person_days.person_id is null
        or allocation_person_days.allocated_usd
        <> {{ spend_round_half_even('spend_person_days.attributed_usd', 6) }}

),

reconciliation_days as (

    select
        day,
        sum(attributed_usd) as attributed_usd
    from {{ ref('int_ai_spend__reconciliation') }}
    group by day

),

allocation_days as (

    select
        day,
        sum(cost_usd) as allocated_usd
    from {{ ref('int_spend_allocation') }}
    group by day

),

day_breaks as (

    select
        'day' as level,
        reconciliation_days.day,
        cast(null as {{ dbt.type_string() }}) as person_id,
        reconciliation_days.attributed_usd,
        coalesce(allocation_days.allocated_usd, 0) as allocated_usd
    from reconciliation_days
    left join allocation_days
        on reconciliation_days.day = allocation_days.day
    where abs(reconciliation_days.attributed_usd - coalesce(allocation_days.allocated_usd, 0))
        > 0.01

)

select * from person_day_breaks
union all
select * from day_breaks
