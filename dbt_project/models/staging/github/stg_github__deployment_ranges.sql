with

source as (

    select * from {{ source_or_empty('github', 'deployment_ranges') }}

),

latest as (

    {{ latest_versions('source', 'deployment_id, base_deployment_id',
                       'compared_at desc, _dlt_load_id desc') }}

),

renamed as (

    select

        ----------  ids
        cast(deployment_id as {{ dbt.type_bigint() }}) as deployment_id,
        cast(base_deployment_id as {{ dbt.type_bigint() }}) as base_deployment_id,
        cast(repo_full_name as {{ dbt.type_string() }}) as repo_full_name,

        ---------- text
        cast(environment as {{ dbt.type_string() }}) as environment,
        cast(base_sha as {{ dbt.type_string() }}) as base_sha,
        cast(head_sha as {{ dbt.type_string() }}) as head_sha,
        cast(status as {{ dbt.type_string() }}) as range_status,

        ---------- numerics
        cast(ahead_by as {{ dbt.type_bigint() }}) as ahead_by,
        cast(behind_by as {{ dbt.type_bigint() }}) as behind_by,
        cast(total_commits as {{ dbt.type_bigint() }}) as total_commits,
        cast(commits_loaded as {{ dbt.type_bigint() }}) as commits_loaded,

        ---------- timestamps (UTC)
        {{ utc_timestamp('compared_at') }} as compared_at,

        ---------- lineage
        _dlt_load_id as dlt_load_id

    from latest

)

select * from renamed
