{#- dlt creates the child table only once it has rows: a young warehouse may lack it. -#}
{%- set remote_link_columns = [
    ('id', dbt.type_bigint()),
    ('issue_id', dbt.type_bigint()),
    ('issue_key', dbt.type_string()),
    ('global_id', dbt.type_string()),
    ('url', dbt.type_string()),
    ('title', dbt.type_string()),
    ('relationship', dbt.type_string()),
    ('application_name', dbt.type_string()),
    ('_dlt_root_id', dbt.type_string()),
] -%}

with

source as (

    select * from {{ source_or_empty('jira', 'issues', remote_link_columns, child='remote_links') }}

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
    inner join latest_issue
        on source._dlt_root_id = latest_issue.dlt_id

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
