with

source as (

    select * from {{ source_or_empty('github', 'deployment_range_commits') }}

),

latest as (

    {{ latest_versions('source', 'deployment_id, base_deployment_id, sha', '_dlt_load_id desc') }}

),

renamed as (

    select

        ----------  ids
        cast(deployment_id as {{ dbt.type_bigint() }}) as deployment_id,
        cast(base_deployment_id as {{ dbt.type_bigint() }}) as base_deployment_id,
        cast(repo_full_name as {{ dbt.type_string() }}) as repo_full_name,
        -- Compared exactly as GitHub writes it (a full, lower-case sha).
        cast(sha as {{ dbt.type_string() }}) as commit_sha,

        ---------- numerics
        cast(position as {{ dbt.type_bigint() }}) as commit_position,
        cast(parents_count as {{ dbt.type_bigint() }}) as parents_count,

        ---------- timestamps (UTC)
        {{ utc_timestamp('author_date') }} as author_date,
        {{ utc_timestamp('committer_date') }} as committer_date,

        ---------- lineage
        _dlt_load_id as dlt_load_id

    from latest

)

select * from renamed
