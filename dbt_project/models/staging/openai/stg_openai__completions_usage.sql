with

source as (

    select * from {{ source_or_empty('openai', 'completions_usage') }}

),

latest as (

    -- Report rows merge on row_key; a replayed or restated day must never count twice.
    {{ latest_versions('source', 'row_key', '_dlt_load_id desc') }}

),

renamed as (

    select

        ----------  ids
        cast(row_key as {{ dbt.type_string() }}) as usage_row_key,
        cast(project_id as {{ dbt.type_string() }}) as project_id,
        cast(user_id as {{ dbt.type_string() }}) as user_id,
        cast(api_key_id as {{ dbt.type_string() }}) as api_key_id,

        ---------- dimensions
        cast(model as {{ dbt.type_string() }}) as model,
        cast(service_tier as {{ dbt.type_string() }}) as service_tier,
        coalesce(batch, false) as is_batch,

        ---------- numerics
        cast(input_tokens as {{ dbt.type_bigint() }}) as input_tokens,
        cast(input_cached_tokens as {{ dbt.type_bigint() }}) as input_cached_tokens,
        cast(output_tokens as {{ dbt.type_bigint() }}) as output_tokens,
        cast(num_model_requests as {{ dbt.type_bigint() }}) as num_model_requests,

        ---------- timestamps (UTC)
        cast({{ utc_timestamp('bucket_start') }} as date) as usage_date,
        {{ utc_timestamp('bucket_start') }} as bucket_start_at,
        {{ utc_timestamp('bucket_end') }} as bucket_end_at,

        ---------- lineage
        _dlt_load_id as dlt_load_id

    from latest

)

select * from renamed
