with

source as (

    select * from {{ source_or_empty('github', 'pull_requests') }}

),

latest as (

    -- The loader merges on id, so this is a guard: a replayed or appended load must
    -- never fan a PR out into several rows downstream.
    {{ latest_versions('source', 'id', 'updated_at desc, _dlt_load_id desc') }}

),

renamed as (

    select

        ----------  ids
        cast(id as {{ dbt.type_bigint() }}) as pull_request_id,
        cast(number as {{ dbt.type_int() }}) as pull_request_number,
        cast(repo_full_name as {{ dbt.type_string() }}) as repo_full_name,

        ---------- text
        cast(title as {{ dbt.type_string() }}) as pull_request_title,
        cast(body as {{ dbt.type_string() }}) as pull_request_body,
        cast(state as {{ dbt.type_string() }}) as pull_request_state,
        cast(user_login as {{ dbt.type_string() }}) as author_login,
        cast(user_id as {{ dbt.type_bigint() }}) as author_id,
        cast(user_type as {{ dbt.type_string() }}) as author_type,
        cast(head_ref as {{ dbt.type_string() }}) as head_ref,
        cast(head_sha as {{ dbt.type_string() }}) as head_sha,
        cast(base_ref as {{ dbt.type_string() }}) as base_ref,
        labels as label_names,
        cast(merge_commit_sha as {{ dbt.type_string() }}) as merge_commit_sha,
        cast(html_url as {{ dbt.type_string() }}) as html_url,

        ---------- numerics
        cast(additions as {{ dbt.type_int() }}) as additions,
        cast(deletions as {{ dbt.type_int() }}) as deletions,
        cast(changed_files as {{ dbt.type_int() }}) as changed_files,

        ---------- booleans
        coalesce(draft, false) as is_draft,
        merged_at is not null as is_merged,

        ---------- timestamps (UTC)
        {{ utc_timestamp('created_at') }} as created_at,
        {{ utc_timestamp('updated_at') }} as updated_at,
        {{ utc_timestamp('closed_at') }} as closed_at,
        {{ utc_timestamp('merged_at') }} as merged_at,

        ---------- lineage
        _dlt_load_id as dlt_load_id

    from latest

)

select * from renamed
