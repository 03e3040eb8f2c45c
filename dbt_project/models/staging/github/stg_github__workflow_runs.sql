with

source as (

    select * from {{ source_or_empty('github', 'workflow_runs') }}

),

latest as (

    {{ latest_versions('source', 'id', 'updated_at desc, _dlt_load_id desc') }}

),

renamed as (

    select

        ----------  ids
        cast(id as {{ dbt.type_bigint() }}) as workflow_run_id,
        cast(repo_full_name as {{ dbt.type_string() }}) as repo_full_name,
        cast(workflow_id as {{ dbt.type_bigint() }}) as workflow_id,
        cast(check_suite_id as {{ dbt.type_bigint() }}) as check_suite_id,

        ---------- text
        cast(name as {{ dbt.type_string() }}) as workflow_name,
        cast(display_title as {{ dbt.type_string() }}) as display_title,
        cast(path as {{ dbt.type_string() }}) as workflow_path,
        cast(event as {{ dbt.type_string() }}) as trigger_event,
        cast(head_branch as {{ dbt.type_string() }}) as head_branch,
        cast(head_sha as {{ dbt.type_string() }}) as head_sha,
        pull_request_numbers,
        cast(actor_login as {{ dbt.type_string() }}) as actor_login,
        cast(actor_id as {{ dbt.type_bigint() }}) as actor_id,
        cast(actor_type as {{ dbt.type_string() }}) as actor_type,
        cast(triggering_actor_login as {{ dbt.type_string() }}) as triggering_actor_login,
        cast(status as {{ dbt.type_string() }}) as run_status,
        cast(conclusion as {{ dbt.type_string() }}) as run_conclusion,
        cast(html_url as {{ dbt.type_string() }}) as html_url,

        ---------- numerics
        cast(run_number as {{ dbt.type_int() }}) as run_number,
        cast(run_attempt as {{ dbt.type_int() }}) as run_attempt,

        ---------- timestamps (UTC)
        {{ utc_timestamp('created_at') }} as created_at,
        {{ utc_timestamp('run_started_at') }} as run_started_at,
        {{ utc_timestamp('updated_at') }} as updated_at,

        ---------- lineage
        _dlt_load_id as dlt_load_id

    from latest

)

select * from renamed
