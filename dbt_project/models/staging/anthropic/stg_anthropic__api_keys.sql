with

source as (

    select * from {{ source_or_empty('anthropic', 'api_keys') }}

),

latest as (

    {{ latest_versions('source', 'id', '_dlt_load_id desc') }}

),

renamed as (

    select

        ----------  ids
        cast(id as {{ dbt.type_string() }}) as api_key_id,
        cast(workspace_id as {{ dbt.type_string() }}) as workspace_id,
        cast(created_by_id as {{ dbt.type_string() }}) as created_by_id,

        ---------- text
        cast(name as {{ dbt.type_string() }}) as api_key_name,
        cast(status as {{ dbt.type_string() }}) as api_key_status,
        cast(created_by_type as {{ dbt.type_string() }}) as created_by_type,
        cast(partial_key_hint as {{ dbt.type_string() }}) as partial_key_hint,

        ---------- timestamps (UTC)
        {{ utc_timestamp('created_at') }} as created_at,

        ---------- lineage
        _dlt_load_id as dlt_load_id

    from latest

)

select * from renamed
