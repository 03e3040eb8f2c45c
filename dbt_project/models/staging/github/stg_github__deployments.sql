with

source as (

    select * from {{ source_or_empty('github', 'deployments') }}

),

latest as (

    {{ latest_versions('source', 'id', 'updated_at desc, _dlt_load_id desc') }}

),

renamed as (

    select

        ----------  ids
        cast(id as {{ dbt.type_bigint() }}) as deployment_id,
        cast(repo_full_name as {{ dbt.type_string() }}) as repo_full_name,

        ---------- text
        cast(sha as {{ dbt.type_string() }}) as sha,
        -- The sha of the deployment before this one: the shipped range is (previous_sha, sha].
        cast({{ json_string_field('payload', 'previous_sha') }} as {{ dbt.type_string() }})
            as previous_sha,
        cast(ref as {{ dbt.type_string() }}) as ref,
        cast(task as {{ dbt.type_string() }}) as task,
        cast(environment as {{ dbt.type_string() }}) as environment,
        cast(original_environment as {{ dbt.type_string() }}) as original_environment,
        cast(description as {{ dbt.type_string() }}) as deployment_description,
        cast(creator_login as {{ dbt.type_string() }}) as creator_login,
        cast(creator_id as {{ dbt.type_bigint() }}) as creator_id,
        cast(creator_type as {{ dbt.type_string() }}) as creator_type,
        payload,

        ---------- booleans
        production_environment as is_production_environment_flag,
        transient_environment as is_transient_environment_flag,

        ---------- timestamps (UTC)
        {{ utc_timestamp('created_at') }} as created_at,
        {{ utc_timestamp('updated_at') }} as updated_at,

        ---------- lineage
        _dlt_load_id as dlt_load_id

    from latest

)

select * from renamed
