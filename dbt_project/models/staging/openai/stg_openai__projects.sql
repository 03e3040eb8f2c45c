with

source as (

    select * from {{ source_or_empty('openai', 'projects') }}

),

latest as (

    {{ latest_versions('source', 'id', '_dlt_load_id desc') }}

),

renamed as (

    select

        ----------  ids
        cast(id as {{ dbt.type_string() }}) as project_id,

        ---------- text
        cast(name as {{ dbt.type_string() }}) as project_name,
        cast(status as {{ dbt.type_string() }}) as project_status,

        ---------- timestamps (UTC)
        {{ utc_timestamp('created_at') }} as created_at,
        {{ utc_timestamp('archived_at') }} as archived_at,

        ---------- lineage
        _dlt_load_id as dlt_load_id

    from latest

)

select * from renamed
