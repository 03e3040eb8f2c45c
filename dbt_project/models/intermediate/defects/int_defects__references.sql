{#- The patterns of docs/metrics.md section 4 (PR URL, OWNER/REPO#N, deployment API URL), with
    \w spelled as ASCII [A-Za-z0-9_]. RE2 has no look-behind: `(?<![\w/])` before a short
    ref becomes a consumed `(^|[^\w/])` group, which finds the same refs (the consumed
    character is never part of a ref). -#}
{%- set pr_url_pattern = "'https://github[.]com/([A-Za-z0-9_.-]+/[A-Za-z0-9_.-]+)/pull/([0-9]+)'" -%}
{%- set pr_short_pattern = "'(^|[^A-Za-z0-9_/])([A-Za-z0-9_.-]+/[A-Za-z0-9_.-]+)#([0-9]+)" ~ regexp_word_boundary() ~ "'" -%}
{%- set deployment_pattern = "'/repos/[A-Za-z0-9_.-]+/[A-Za-z0-9_.-]+/deployments/([0-9]+)'" -%}

with

issues as (

    select * from {{ ref('stg_jira__issues') }}

),

remote_links as (

    select * from {{ ref('stg_jira__issue_remote_links') }}

),

incidents as (

    select * from {{ ref('stg_pagerduty__incidents') }}

),

log_entries as (

    select * from {{ ref('stg_pagerduty__incident_log_entries') }}

),

pull_requests as (

    select * from {{ ref('int_pull_requests__lifecycle') }}

),

defect_texts as (

    -- Where a defect can name its cause. A bug: its description, the "Caused by PR" field and
    -- its remote links' URLs. An incident: its title, description and every log entry's
    -- summary and note.
    select issue_key as defect_id, 'work_item' as defect_kind, description as body
    from issues
    where issue_type_name in {{ sql_string_list(var('bug_issue_types')) }}
    union all
    select issue_key, 'work_item', caused_by_pr
    from issues
    where issue_type_name in {{ sql_string_list(var('bug_issue_types')) }}
    union all
    select remote_links.issue_key, 'work_item', remote_links.url
    from remote_links
    inner join issues
        on remote_links.issue_key = issues.issue_key
    where issues.issue_type_name in {{ sql_string_list(var('bug_issue_types')) }}
    union all
    select incident_id, 'incident', incident_title
    from incidents
    union all
    select incident_id, 'incident', incident_description
    from incidents
    union all
    select log_entries.incident_id, 'incident', log_entries.summary
    from log_entries
    inner join incidents
        on log_entries.incident_id = incidents.incident_id
    union all
    select log_entries.incident_id, 'incident', log_entries.note
    from log_entries
    inner join incidents
        on log_entries.incident_id = incidents.incident_id

),

texts as (

    select * from defect_texts
    where body is not null

),

url_refs as (

    select
        defect_id,
        defect_kind,
        {{ regexp_match_groups_unnested('body', pr_url_pattern,
            [(1, 'repo_full_name'), (2, 'number_text')]) }}
    from texts

),

short_refs as (

    select
        defect_id,
        defect_kind,
        {{ regexp_match_groups_unnested('body', pr_short_pattern,
            [(2, 'repo_full_name'), (3, 'number_text')]) }}
    from texts

),

pull_request_refs as (

    -- Only refs to PRs that exist in the warehouse count.
    select distinct
        refs.defect_id,
        refs.defect_kind,
        'pull_request' as reference_kind,
        pull_requests.pull_request_id,
        pull_requests.repo_full_name,
        pull_requests.pull_request_number,
        cast(null as {{ dbt.type_bigint() }}) as deployment_id
    from (
        select * from url_refs
        union all
        select * from short_refs
    ) as refs
    inner join pull_requests
        on refs.repo_full_name = pull_requests.repo_full_name
            and cast(refs.number_text as {{ dbt.type_bigint() }})
            = pull_requests.pull_request_number

),

deployment_refs as (

    -- A deployment named by its API URL (/repos/OWNER/REPO/deployments/ID), incidents only.
    -- Kept whether or not the warehouse has the deployment: naming one decides the rule.
    select distinct
        defect_id,
        defect_kind,
        'deployment' as reference_kind,
        cast(null as {{ dbt.type_bigint() }}) as pull_request_id,
        cast(null as {{ dbt.type_string() }}) as repo_full_name,
        cast(null as {{ dbt.type_int() }}) as pull_request_number,
        cast(deployment_id_text as {{ dbt.type_bigint() }}) as deployment_id
    from (
        select
            defect_id,
            defect_kind,
            {{ regexp_matches_unnested('body', deployment_pattern, 1) }} as deployment_id_text
        from texts
        where defect_kind = 'incident'
    ) as named

),

final as (

    select * from pull_request_refs
    union all
    select * from deployment_refs

)

select * from final
