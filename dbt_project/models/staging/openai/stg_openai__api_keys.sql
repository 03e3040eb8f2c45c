with

source as (

    select * from {{ source_or_empty('openai', 'api_keys') }}

),

latest as (

    {{ latest_versions('source', 'id', 'last_used_at desc nulls last, _dlt_load_id desc') }}

),

renamed as (

    select

        ----------  ids
        cast(id as {{ dbt.type_string() }}) as api_key_id,
        cast(project_id as {{ dbt.type_string() }}) as project_id,
        cast(owner_id as {{ dbt.type_string() }}) as owner_id,

        ---------- text
        cast(name as {{ dbt.type_string() }}) as api_key_name,
        cast(redacted_value as {{ dbt.type_string() }}) as redacted_value,
        cast(owner_type as {{ dbt.type_string() }}) as owner_type,
        cast(owner_name as {{ dbt.type_string() }}) as owner_name,
        cast(owner_email as {{ dbt.type_string() }}) as owner_email,
        cast(owner_role as {{ dbt.type_string() }}) as owner_role,

        ---------- timestamps (UTC)
        {{ utc_timestamp('created_at') }} as created_at,
        {{ utc_timestamp('last_used_at') }} as last_used_at,

        ---------- lineage
        _dlt_load_id as dlt_load_id

    from latest

)

select * from renamed
