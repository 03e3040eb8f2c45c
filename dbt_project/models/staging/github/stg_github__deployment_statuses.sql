with

source as (

    select * from {{ source_or_empty('github', 'deployment_statuses') }}

),

latest as (

    {{ latest_versions('source', 'id', 'updated_at desc, _dlt_load_id desc') }}

),

renamed as (

    select

        ----------  ids
        cast(id as {{ dbt.type_bigint() }}) as deployment_status_id,
        cast(deployment_id as {{ dbt.type_bigint() }}) as deployment_id,
        cast(repo_full_name as {{ dbt.type_string() }}) as repo_full_name,

        ---------- text
        cast(state as {{ dbt.type_string() }}) as deployment_state,
        cast(environment as {{ dbt.type_string() }}) as environment,
        cast(description as {{ dbt.type_string() }}) as status_description,
        cast(creator_login as {{ dbt.type_string() }}) as creator_login,
        cast(creator_id as {{ dbt.type_bigint() }}) as creator_id,
        cast(creator_type as {{ dbt.type_string() }}) as creator_type,

        ---------- timestamps (UTC)
        {{ utc_timestamp('created_at') }} as created_at,
        {{ utc_timestamp('updated_at') }} as updated_at,

        ---------- lineage
        _dlt_load_id as dlt_load_id

    from latest

)

select * from renamed
