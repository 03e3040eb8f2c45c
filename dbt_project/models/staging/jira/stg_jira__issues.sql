with

source as (

    select * from {{ source_or_empty('jira', 'issues') }}

),

latest as (

    -- The loader merges on id, so this is a guard: a replayed or appended load must
    -- never fan an issue out into several rows downstream.
    {{ latest_versions('source', 'id', 'updated desc, _dlt_load_id desc') }}

),

renamed as (

    select

        ----------  ids
        cast(id as {{ dbt.type_bigint() }}) as issue_id,
        cast(key as {{ dbt.type_string() }}) as issue_key,
        cast(project_id as {{ dbt.type_string() }}) as project_id,
        cast(project_key as {{ dbt.type_string() }}) as project_key,
        cast(parent_id as {{ dbt.type_bigint() }}) as parent_issue_id,
        cast(parent_key as {{ dbt.type_string() }}) as parent_issue_key,
        cast(assignee_account_id as {{ dbt.type_string() }}) as assignee_account_id,
        cast(reporter_account_id as {{ dbt.type_string() }}) as reporter_account_id,

        ---------- type (names are in the project's language: 缺陷 for Bug)
        cast(issuetype_id as {{ dbt.type_string() }}) as issue_type_id,
        cast(issuetype_name as {{ dbt.type_string() }}) as issue_type_name,
        coalesce(issuetype_subtask, false) as is_subtask,
        cast(issuetype_hierarchy_level as {{ dbt.type_int() }}) as issue_type_hierarchy_level,

        ---------- status
        cast(status_id as {{ dbt.type_string() }}) as status_id,
        cast(status_name as {{ dbt.type_string() }}) as status_name,
        cast(status_category_key as {{ dbt.type_string() }}) as status_category_key,
        cast(resolution_name as {{ dbt.type_string() }}) as resolution_name,
        cast(priority_name as {{ dbt.type_string() }}) as priority_name,

        ---------- text
        cast(summary as {{ dbt.type_string() }}) as summary,
        cast(description as {{ dbt.type_string() }}) as description,
        -- The "Caused by PR" custom field: a PR URL or owner/repo#N, as typed.
        cast(caused_by_pr as {{ dbt.type_string() }}) as caused_by_pr,
        labels as label_names,

        ---------- timestamps (UTC)
        {{ utc_timestamp('created') }} as created_at,
        {{ utc_timestamp('updated') }} as updated_at,
        {{ utc_timestamp('resolutiondate') }} as resolved_at,
        {{ utc_timestamp('statuscategorychangedate') }} as status_category_changed_at,

        ---------- lineage
        _dlt_id as dlt_id,
        _dlt_load_id as dlt_load_id

    from latest

)

select * from renamed
