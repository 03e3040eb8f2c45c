with

source as (

    select * from {{ source_or_empty('github', 'pull_request_reviews') }}

),

latest as (

    -- A submitted review has no updated-at: the newest load wins.
    {{ latest_versions('source', 'id', '_dlt_load_id desc, submitted_at desc') }}

),

renamed as (

    select

        ----------  ids
        cast(id as {{ dbt.type_bigint() }}) as review_id,
        cast(repo_full_name as {{ dbt.type_string() }}) as repo_full_name,
        cast(pr_number as {{ dbt.type_int() }}) as pull_request_number,

        ---------- text
        cast(user_login as {{ dbt.type_string() }}) as reviewer_login,
        cast(user_id as {{ dbt.type_bigint() }}) as reviewer_id,
        cast(user_type as {{ dbt.type_string() }}) as reviewer_type,
        cast(state as {{ dbt.type_string() }}) as review_state,
        cast(body as {{ dbt.type_string() }}) as review_body,
        cast(commit_id as {{ dbt.type_string() }}) as commit_sha,
        cast(author_association as {{ dbt.type_string() }}) as author_association,
        cast(html_url as {{ dbt.type_string() }}) as html_url,

        ---------- timestamps (UTC)
        {{ utc_timestamp('submitted_at') }} as submitted_at,

        ---------- lineage
        _dlt_load_id as dlt_load_id

    from latest

)

select * from renamed
