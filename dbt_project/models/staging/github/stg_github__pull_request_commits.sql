with

source as (

    select * from {{ source_or_empty('github', 'pull_request_commits') }}

),

latest as (

    -- A commit row has no updated-at: the newest load wins.
    {{ latest_versions('source', 'repo_full_name, pr_number, sha', '_dlt_load_id desc') }}

),

renamed as (

    select

        ----------  ids
        {{ dbt.concat(["repo_full_name", "'#'", dbt.safe_cast("pr_number", dbt.type_string()), "'@'", "sha"]) }}
            as pull_request_commit_key,
        cast(repo_full_name as {{ dbt.type_string() }}) as repo_full_name,
        cast(pr_number as {{ dbt.type_int() }}) as pull_request_number,
        cast(sha as {{ dbt.type_string() }}) as commit_sha,

        ---------- text
        cast(message as {{ dbt.type_string() }}) as commit_message,
        cast(author_name as {{ dbt.type_string() }}) as author_name,
        cast(author_email as {{ dbt.type_string() }}) as author_email,
        cast(author_login as {{ dbt.type_string() }}) as author_login,
        cast(author_id as {{ dbt.type_bigint() }}) as author_id,
        cast(author_type as {{ dbt.type_string() }}) as author_type,
        cast(committer_name as {{ dbt.type_string() }}) as committer_name,
        cast(committer_email as {{ dbt.type_string() }}) as committer_email,
        cast(committer_login as {{ dbt.type_string() }}) as committer_login,
        cast(committer_id as {{ dbt.type_bigint() }}) as committer_id,
        cast(committer_type as {{ dbt.type_string() }}) as committer_type,
        cast(html_url as {{ dbt.type_string() }}) as html_url,

        ---------- numerics
        cast(parents_count as {{ dbt.type_int() }}) as parents_count,

        ---------- timestamps (UTC)
        {{ utc_timestamp('author_date') }} as authored_at,
        {{ utc_timestamp('committer_date') }} as committed_at,

        ---------- lineage
        _dlt_load_id as dlt_load_id

    from latest

)

select * from renamed
