{%- set horizon_days = var('survival_horizon_days') -%}
with

survival as (

    select * from {{ ref('int_pull_requests__survival') }}

),

shipped as (

    select
        is_ai_assisted,
        failed_at is not null and failed_at <= horizon_ends_at as is_failure,
        {{ minutes_between('shipped_at', 'failed_at') }} / 1440.0 as failure_days,
        {{ minutes_between('shipped_at', as_of_timestamp()) }} / 1440.0 as observed_days
    from survival
    where shipped_at is not null

),

observations as (

    -- Each shipped PR ends its observation on one whole day since ship: the day it failed
    -- (a failure within H; one before shipping counts on day 0), else the day it was last
    -- observed (as-of), capped at H.
    select
        is_ai_assisted,
        case when is_failure then 1 else 0 end as is_event,
        cast(
            case
                when is_failure then greatest(floor(failure_days), 0)
                else floor(least(observed_days, {{ horizon_days }}))
            end as {{ dbt.type_int() }}
        ) as end_day
    from shipped

),

cohort_observations as (

    select
        case when is_ai_assisted then 'ai_assisted' else 'not_ai_assisted' end as cohort,
        is_event,
        end_day
    from observations
    union all
    select
        'all' as cohort,
        is_event,
        end_day
    from observations

),

days as (

    select cast(generated_number - 1 as {{ dbt.type_int() }}) as day_since_ship
    from ({{ dbt.generate_series(horizon_days + 1) }}) as series

),

cohorts as (

    select distinct cohort from cohort_observations

),

daily as (

    select
        cohorts.cohort,
        days.day_since_ship,
        sum(
            case
                when cohort_observations.end_day >= days.day_since_ship then cast(1 as bigint)
                else 0
            end
        ) as at_risk,
        sum(
            case
                when cohort_observations.end_day = days.day_since_ship
                    and cohort_observations.is_event = 1
                    then cast(1 as bigint)
                else 0
            end
        ) as events,
        sum(
            case
                when cohort_observations.end_day = days.day_since_ship
                    and cohort_observations.is_event = 0
                    then cast(1 as bigint)
                else 0
            end
        ) as censored
    from cohorts
    cross join days
    inner join cohort_observations
        on cohorts.cohort = cohort_observations.cohort
    group by cohorts.cohort, days.day_since_ship

),

factors as (

    select
        *,
        case when at_risk > 0 then 1.0 - cast(events as {{ type_double() }}) / at_risk else 1.0 end as day_survival
    from daily

),

products as (

    -- The running product of day_survival, as exp of a running sum of logs; a day on which
    -- every PR at risk failed makes it 0 from then on.
    select
        *,
        case
            when sum(case when day_survival = 0 then cast(1 as bigint) else 0 end)
                    over (
                        partition by cohort
                        order by day_since_ship
                        rows between unbounded preceding and current row
                    )
                > 0 then 0.0
            else exp(sum(case when day_survival > 0 then ln(day_survival) else 0 end) over (
                    partition by cohort
                    order by day_since_ship
                    rows between unbounded preceding and current row
                ))
        end as product_limit
    from factors

),

final as (

    select

        ---------- the curve point
        cohort,
        day_since_ship,

        ---------- counts
        at_risk,
        events,
        censored,

        ---------- product-limit estimate (rounded to 10 decimals)
        day_survival,
        {{ round_double('product_limit', 10) }} as survival_probability

    from products

)

select * from final
