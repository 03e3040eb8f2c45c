with

source as (

    select * from {{ source('openai', 'users') }}

),

latest as (

    select
        *,
        row_number() over (
            partition by id
            order by _dlt_load_id desc
        ) as version_rank
    from source

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
    where version_rank = 1

)

select * from renamed
