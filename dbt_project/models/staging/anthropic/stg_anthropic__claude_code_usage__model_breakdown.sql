with

source as (

    select * from {{ source_or_empty('anthropic', 'claude_code_usage', child='model_breakdown') }}

),

parents as (

    select dlt_id from {{ ref('stg_anthropic__claude_code_usage') }}

),

latest as (

    -- Only the breakdown of the parent's latest version: older versions' children are stale.
    select source.*
    from source
    inner join parents
        on source._dlt_root_id = parents.dlt_id

),

renamed as (

    select

        ----------  ids
        cast(usage_row_key as {{ dbt.type_string() }}) as usage_row_key,
        cast(_dlt_list_idx as {{ dbt.type_int() }}) as breakdown_index,

        ---------- dimensions
        cast(model as {{ dbt.type_string() }}) as model,
        cast(estimated_cost_currency as {{ dbt.type_string() }}) as estimated_cost_currency,

        ---------- numerics
        cast(input_tokens as {{ dbt.type_bigint() }}) as input_tokens,
        cast(output_tokens as {{ dbt.type_bigint() }}) as output_tokens,
        cast(cache_read_tokens as {{ dbt.type_bigint() }}) as cache_read_tokens,
        cast(cache_creation_tokens as {{ dbt.type_bigint() }}) as cache_creation_tokens,
        cast(estimated_cost_cents as decimal(38, 12)) as estimated_cost_cents

    from latest

)

select * from renamed
