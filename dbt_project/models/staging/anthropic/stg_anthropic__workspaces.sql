with

source as (

    select * from {{ source_or_empty('anthropic', 'workspaces') }}

),

latest as (

    {{ latest_versions('source', 'id', '_dlt_load_id desc') }}

),

renamed as (

    select

        ----------  ids
        cast(id as {{ dbt.type_string() }}) as workspace_id,

        ---------- text
        cast(name as {{ dbt.type_string() }}) as workspace_name,
        cast(display_color as {{ dbt.type_string() }}) as display_color,

        ---------- timestamps (UTC)
        {{ utc_timestamp('created_at') }} as created_at,
        {{ utc_timestamp('archived_at') }} as archived_at,

        ---------- lineage
        _dlt_load_id as dlt_load_id

    from latest

)

select * from renamed
