{#- The allocation (int_spend_allocation) split by the provider x model the person used that
    day: each allocation row's cost x the model's share of the person-day's spend. Grain: day x
    person_id x pull_request_id (null = unallocated) x provider x model. The split is
    proportional, so a person-day's rows still add up to its allocation (up to the float
    rounding of the share, below 1e-9 USD per row). -#}
with

allocation as (

    select * from {{ ref('int_spend_allocation') }}

),

person_day_models as (

    select
        person_id,
        day,
        provider,
        model,
        sum(cost_usd) as model_cost_usd
    from {{ ref('int_ai_spend') }}
    where person_id is not null
    group by person_id, day, provider, model

),

person_days as (

    select
        person_id,
        day,
        sum(model_cost_usd) as person_day_cost_usd
    from person_day_models
    group by person_id, day

),

shares as (

    select
        person_day_models.person_id,
        person_day_models.day,
        person_day_models.provider,
        person_day_models.model,
        case
            when person_days.person_day_cost_usd > 0
                then cast(person_day_models.model_cost_usd as {{ type_double() }})
                    / cast(person_days.person_day_cost_usd as {{ type_double() }})
            else 0
        end as model_share
    from person_day_models
    inner join person_days
        on person_day_models.person_id = person_days.person_id
            and person_day_models.day = person_days.day

),

final as (

    select

        ----------  keys
        {{ dbt.hash(dbt.concat([
            "allocation.allocation_id", "'|'", "shares.provider", "'|'", "shares.model",
        ])) }} as allocation_model_id,
        allocation.allocation_id,
        allocation.day,
        allocation.person_id,
        allocation.team_id,
        allocation.pull_request_id,
        shares.provider,
        shares.model,

        ---------- amounts (USD)
        -- A fixed-scale decimal, so sums downstream do not depend on the order of addition.
        cast(
            cast(allocation.cost_usd as {{ type_double() }}) * shares.model_share
            as decimal(38, 10)
        ) as cost_usd

    from allocation
    inner join shares
        on allocation.person_id = shares.person_id
            and allocation.day = shares.day

)

select * from final
