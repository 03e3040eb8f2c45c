with

source as (

    select * from {{ source_or_empty('jira', 'issues', child='remote_links') }}

),

latest_issue as (

    -- Each issue's latest version (staging deduplicates): only its children are current.
    select dlt_id from {{ ref('stg_jira__issues') }}

),

latest as (

    -- Children of each issue's latest version only, one row per remote link id.
    select
        source.*,
        row_number() over (
            partition by source.id
            order by source.issue_key
        ) as link_rank
    from source
    -- Nested one level, so the parent row is the issue's (dlt writes _dlt_root_id only
    -- where it merges, not into the lake's Parquet).
    inner join latest_issue
        on source._dlt_parent_id = latest_issue.dlt_id

),

renamed as (

    select

        ----------  ids
        cast(id as {{ dbt.type_bigint() }}) as remote_link_id,
        cast(issue_id as {{ dbt.type_bigint() }}) as issue_id,
        cast(issue_key as {{ dbt.type_string() }}) as issue_key,
        cast(global_id as {{ dbt.type_string() }}) as global_id,

        ---------- text
        cast(url as {{ dbt.type_string() }}) as url,
        cast(title as {{ dbt.type_string() }}) as title,
        cast(relationship as {{ dbt.type_string() }}) as relationship,
        cast(application_name as {{ dbt.type_string() }}) as application_name

    from latest
    where link_rank = 1

)

select * from renamed
