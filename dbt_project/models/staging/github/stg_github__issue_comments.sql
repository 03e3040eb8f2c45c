with

source as (

    select * from {{ source_or_empty('github', 'issue_comments') }}

),

latest as (

    {{ latest_versions('source', 'id', 'updated_at desc, _dlt_load_id desc') }}

),

renamed as (

    select

        ----------  ids
        cast(id as {{ dbt.type_bigint() }}) as issue_comment_id,
        cast(repo_full_name as {{ dbt.type_string() }}) as repo_full_name,
        -- A PR is an issue: on a pull request this is the PR number.
        cast(issue_number as {{ dbt.type_int() }}) as pull_request_number,

        ---------- text
        cast(user_login as {{ dbt.type_string() }}) as commenter_login,
        cast(user_id as {{ dbt.type_bigint() }}) as commenter_id,
        cast(user_type as {{ dbt.type_string() }}) as commenter_type,
        cast(body as {{ dbt.type_string() }}) as comment_body,
        cast(author_association as {{ dbt.type_string() }}) as author_association,
        cast(html_url as {{ dbt.type_string() }}) as html_url,

        ---------- timestamps (UTC)
        {{ utc_timestamp('created_at') }} as created_at,
        {{ utc_timestamp('updated_at') }} as updated_at,

        ---------- lineage
        _dlt_load_id as dlt_load_id

    from latest

)

select * from renamed
