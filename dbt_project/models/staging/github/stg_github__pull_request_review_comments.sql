with

source as (

    select * from {{ source_or_empty('github', 'pull_request_review_comments') }}

),

latest as (

    {{ latest_versions('source', 'id', 'updated_at desc, _dlt_load_id desc') }}

),

renamed as (

    select

        ----------  ids
        cast(id as {{ dbt.type_bigint() }}) as review_comment_id,
        cast(repo_full_name as {{ dbt.type_string() }}) as repo_full_name,
        cast(pr_number as {{ dbt.type_int() }}) as pull_request_number,
        cast(pull_request_review_id as {{ dbt.type_bigint() }}) as review_id,
        cast(in_reply_to_id as {{ dbt.type_bigint() }}) as in_reply_to_comment_id,

        ---------- text
        cast(user_login as {{ dbt.type_string() }}) as commenter_login,
        cast(user_id as {{ dbt.type_bigint() }}) as commenter_id,
        cast(user_type as {{ dbt.type_string() }}) as commenter_type,
        cast(body as {{ dbt.type_string() }}) as comment_body,
        cast(path as {{ dbt.type_string() }}) as file_path,
        cast(side as {{ dbt.type_string() }}) as diff_side,
        cast(commit_id as {{ dbt.type_string() }}) as commit_sha,
        cast(original_commit_id as {{ dbt.type_string() }}) as original_commit_sha,
        cast(author_association as {{ dbt.type_string() }}) as author_association,
        cast(html_url as {{ dbt.type_string() }}) as html_url,

        ---------- numerics
        cast(line as {{ dbt.type_int() }}) as line_number,
        cast(original_line as {{ dbt.type_int() }}) as original_line_number,

        ---------- timestamps (UTC)
        {{ utc_timestamp('created_at') }} as created_at,
        {{ utc_timestamp('updated_at') }} as updated_at,

        ---------- lineage
        _dlt_load_id as dlt_load_id

    from latest

)

select * from renamed
