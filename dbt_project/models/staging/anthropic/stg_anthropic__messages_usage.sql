with

source as (

    select * from {{ source_or_empty('anthropic', 'messages_usage') }}

),

latest as (

    -- Report rows merge on row_key; a replayed or restated day must never count twice.
    {{ latest_versions('source', 'row_key', '_dlt_load_id desc') }}

),

renamed as (

    select

        ----------  ids
        cast(row_key as {{ dbt.type_string() }}) as usage_row_key,
        cast(api_key_id as {{ dbt.type_string() }}) as api_key_id,
        cast(workspace_id as {{ dbt.type_string() }}) as workspace_id,

        ---------- dimensions
        cast(model as {{ dbt.type_string() }}) as model,
        cast(service_tier as {{ dbt.type_string() }}) as service_tier,
        cast(context_window as {{ dbt.type_string() }}) as context_window,

        ---------- numerics
        cast(uncached_input_tokens as {{ dbt.type_bigint() }}) as uncached_input_tokens,
        cast(cache_creation_5m_input_tokens as {{ dbt.type_bigint() }})
            as cache_creation_5m_input_tokens,
        cast(cache_creation_1h_input_tokens as {{ dbt.type_bigint() }})
            as cache_creation_1h_input_tokens,
        cast(cache_read_input_tokens as {{ dbt.type_bigint() }}) as cache_read_input_tokens,
        cast(output_tokens as {{ dbt.type_bigint() }}) as output_tokens,
        cast(web_search_requests as {{ dbt.type_bigint() }}) as web_search_requests,

        ---------- timestamps (UTC)
        cast({{ utc_timestamp('bucket_start') }} as date) as usage_date,
        {{ utc_timestamp('bucket_start') }} as bucket_start_at,
        {{ utc_timestamp('bucket_end') }} as bucket_end_at,

        ---------- lineage
        _dlt_load_id as dlt_load_id

    from latest

)

select * from renamed
