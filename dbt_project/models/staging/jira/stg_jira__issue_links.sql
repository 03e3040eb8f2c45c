with

source as (

    select * from {{ source_or_empty('jira', 'issues', child='links') }}

),

latest_issue as (

    -- Each issue's latest version (staging deduplicates): only its children are current.
    select dlt_id from {{ ref('stg_jira__issues') }}

),

latest as (

    -- Children of each issue's latest version only; then one row per link: Jira renders a
    -- link on both of its issues, in the same canonical direction.
    select
        source.*,
        row_number() over (
            partition by source.link_id
            order by source.issue_key
        ) as side_rank
    from source
    -- Nested one level, so the parent row is the issue's (dlt writes _dlt_root_id only
    -- where it merges, not into the lake's Parquet).
    inner join latest_issue
        on source._dlt_parent_id = latest_issue.dlt_id

),

renamed as (

    select

        ----------  ids
        cast(link_id as {{ dbt.type_bigint() }}) as link_id,
        cast(type_id as {{ dbt.type_string() }}) as link_type_id,

        ---------- the link, read `outward_issue_key` <outward_description> `inward_issue_key`
        cast(type_name as {{ dbt.type_string() }}) as link_type_name,
        cast(outward_issue_key as {{ dbt.type_string() }}) as outward_issue_key,
        cast(outward_description as {{ dbt.type_string() }}) as outward_description,
        cast(inward_issue_key as {{ dbt.type_string() }}) as inward_issue_key,
        cast(inward_description as {{ dbt.type_string() }}) as inward_description

    from latest
    where side_rank = 1

)

select * from renamed
