with

source as (

    select * from {{ source_or_empty('openai', 'users') }}

),

latest as (

    {{ latest_versions('source', 'id', '_dlt_load_id desc') }}

),

renamed as (

    select

        ----------  ids
        cast(id as {{ dbt.type_string() }}) as user_id,

        ---------- text
        cast(name as {{ dbt.type_string() }}) as user_name,
        cast(email as {{ dbt.type_string() }}) as email,
        cast(role as {{ dbt.type_string() }}) as user_role,

        ---------- timestamps (UTC)
        {{ utc_timestamp('added_at') }} as added_at,

        ---------- lineage
        _dlt_load_id as dlt_load_id

    from latest

)

select * from renamed
