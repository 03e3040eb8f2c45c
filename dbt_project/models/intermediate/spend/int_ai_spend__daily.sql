{#- Daily spend per provider x model x person x team x attribution rule: the grain of
    docs/metrics.md section 2's ai_spend entity, and of the simulator's truth_spend. The cost is the
    exact sum of the priced token kinds, rounded once to the micro-dollar (ties to even). -#}
with

spend as (

    select * from {{ ref('int_ai_spend') }}

),

daily as (

    select
        day,
        provider,
        model,
        person_id,
        team_id,
        attributed_by,
        sum(tokens) as tokens,
        sum(cost_usd) as exact_cost_usd
    from spend
    group by day, provider, model, person_id, team_id, attributed_by

),

final as (

    select

        ----------  keys
        {{ dbt.hash(dbt.concat([
            "cast(day as " ~ dbt.type_string() ~ ")", "'|'", "provider", "'|'", "model", "'|'",
            "coalesce(person_id, '')", "'|'", "coalesce(team_id, '')", "'|'", "attributed_by",
        ])) }} as daily_spend_id,
        day,
        provider,
        model,
        person_id,
        team_id,
        attributed_by,

        ---------- numerics
        cast(tokens as {{ dbt.type_bigint() }}) as tokens,
        cast({{ spend_round_half_even('exact_cost_usd', 6) }} as decimal(18, 6)) as cost_usd

    from daily

)

select * from final
