with

source as (

    select * from {{ source_or_empty('github', 'repositories') }}

),

latest as (

    {{ latest_versions('source', 'id', 'updated_at desc, _dlt_load_id desc') }}

),

renamed as (

    select

        ----------  ids
        cast(id as {{ dbt.type_bigint() }}) as repository_id,
        cast(full_name as {{ dbt.type_string() }}) as repo_full_name,

        ---------- text
        cast(name as {{ dbt.type_string() }}) as repository_name,
        cast(owner_login as {{ dbt.type_string() }}) as owner_login,
        cast(description as {{ dbt.type_string() }}) as repository_description,
        cast(visibility as {{ dbt.type_string() }}) as visibility,
        cast(default_branch as {{ dbt.type_string() }}) as default_branch,
        cast(language as {{ dbt.type_string() }}) as repository_language,
        topics as topic_names,
        cast(html_url as {{ dbt.type_string() }}) as html_url,

        ---------- booleans
        coalesce(private, false) as is_private,
        coalesce(fork, false) as is_fork,
        coalesce(archived, false) as is_archived,

        ---------- timestamps (UTC)
        {{ utc_timestamp('created_at') }} as created_at,
        {{ utc_timestamp('updated_at') }} as updated_at,
        {{ utc_timestamp('pushed_at') }} as pushed_at,

        ---------- lineage
        _dlt_load_id as dlt_load_id

    from latest

)

select * from renamed
