with

source as (

    select * from {{ source_or_empty('openai', 'costs') }}

),

latest as (

    -- Report rows merge on row_key; a restated day keeps only its newest amount.
    {{ latest_versions('source', 'row_key', '_dlt_load_id desc') }}

),

renamed as (

    select

        ----------  ids
        cast(row_key as {{ dbt.type_string() }}) as cost_row_key,
        cast(project_id as {{ dbt.type_string() }}) as project_id,
        cast(api_key_id as {{ dbt.type_string() }}) as api_key_id,

        ---------- dimensions
        cast(line_item as {{ dbt.type_string() }}) as line_item,
        cast(currency as {{ dbt.type_string() }}) as currency,

        ---------- numerics
        cast(amount_usd as decimal(38, 12)) as amount_usd,

        ---------- timestamps (UTC)
        cast({{ utc_timestamp('bucket_start') }} as date) as cost_date,
        {{ utc_timestamp('bucket_start') }} as bucket_start_at,
        {{ utc_timestamp('bucket_end') }} as bucket_end_at,

        ---------- lineage
        _dlt_load_id as dlt_load_id

    from latest

)

select * from renamed
