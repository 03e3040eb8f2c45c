with

source as (

    select * from {{ source_or_empty('anthropic', 'cost_report') }}

),

latest as (

    -- Report rows merge on row_key; a restated day keeps only its newest amount.
    {{ latest_versions('source', 'row_key', '_dlt_load_id desc') }}

),

renamed as (

    select

        ----------  ids
        cast(row_key as {{ dbt.type_string() }}) as cost_row_key,
        cast(workspace_id as {{ dbt.type_string() }}) as workspace_id,

        ---------- dimensions
        cast(description as {{ dbt.type_string() }}) as cost_description,
        cast(cost_type as {{ dbt.type_string() }}) as cost_type,
        cast(model as {{ dbt.type_string() }}) as model,
        cast(token_type as {{ dbt.type_string() }}) as token_type,
        cast(service_tier as {{ dbt.type_string() }}) as service_tier,
        cast(context_window as {{ dbt.type_string() }}) as context_window,
        cast(currency as {{ dbt.type_string() }}) as currency,

        ---------- numerics
        cast(amount as {{ dbt.type_string() }}) as amount_cents_text,
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
