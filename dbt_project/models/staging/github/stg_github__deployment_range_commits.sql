{#- Written with deployment_ranges: absent until the loader compared a pair. Times are typed
    as dlt creates them (with time zone), so the empty relation reads like the table. -#}
{%- set commit_columns = [
    ('deployment_id', dbt.type_bigint()),
    ('base_deployment_id', dbt.type_bigint()),
    ('repo_full_name', dbt.type_string()),
    ('sha', dbt.type_string()),
    ('position', dbt.type_bigint()),
    ('author_date', 'timestamp with time zone'),
    ('committer_date', 'timestamp with time zone'),
    ('parents_count', dbt.type_bigint()),
    ('_dlt_load_id', dbt.type_string()),
] -%}

with

source as (

    select * from {{ source_or_empty('github', 'deployment_range_commits', commit_columns) }}

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
