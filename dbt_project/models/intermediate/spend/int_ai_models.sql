{#- One row per priced provider x model with its price tier: the output price (USD per
    million tokens) of the model_prices row valid on the as-of day (the latest valid_from not
    after it), ranked within the provider, 1 = the most expensive tier. The output price sets
    the tier because it is the highest per-token price and the one that moves with model size. -#}
with

prices as (

    select
        provider,
        model,
        usd_per_mtok,
        row_number() over (
            partition by provider, model
            order by valid_from desc
        ) as price_rank
    from {{ ref('model_prices') }}
    where token_kind = 'output'
        and valid_from <= {{ as_of_date() }}

),

current_prices as (

    select
        provider,
        model,
        usd_per_mtok as output_usd_per_mtok
    from prices
    where price_rank = 1

),

final as (

    select

        ----------  keys
        {{ dbt.concat(["provider", "'|'", "model"]) }} as ai_model_id,
        provider,
        model,

        ---------- price and tier
        output_usd_per_mtok,
        cast(dense_rank() over (
            partition by provider
            order by output_usd_per_mtok desc
        ) as {{ dbt.type_bigint() }}) as price_tier_rank

    from current_prices

)

select
    *,
    price_tier_rank = 1 as is_most_expensive_tier
from final
