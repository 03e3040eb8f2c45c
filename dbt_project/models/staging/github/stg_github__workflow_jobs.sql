with

source as (

    select * from {{ source_or_empty('github', 'workflow_jobs') }}

),

latest as (

    -- A job has no updated-at: the newest load, then the latest completion, wins.
    {{ latest_versions('source', 'id', '_dlt_load_id desc, completed_at desc nulls last') }}

),

renamed as (

    select

        ----------  ids
        cast(id as {{ dbt.type_bigint() }}) as workflow_job_id,
        cast(run_id as {{ dbt.type_bigint() }}) as workflow_run_id,
        cast(repo_full_name as {{ dbt.type_string() }}) as repo_full_name,

        ---------- text
        cast(workflow_name as {{ dbt.type_string() }}) as workflow_name,
        cast(name as {{ dbt.type_string() }}) as job_name,
        cast(head_sha as {{ dbt.type_string() }}) as head_sha,
        cast(head_branch as {{ dbt.type_string() }}) as head_branch,
        cast(status as {{ dbt.type_string() }}) as job_status,
        cast(conclusion as {{ dbt.type_string() }}) as job_conclusion,
        cast(runner_name as {{ dbt.type_string() }}) as runner_name,
        cast(runner_group_name as {{ dbt.type_string() }}) as runner_group_name,
        labels as runner_labels,
        cast(html_url as {{ dbt.type_string() }}) as html_url,

        ---------- numerics
        cast(run_attempt as {{ dbt.type_int() }}) as run_attempt,

        ---------- timestamps (UTC)
        {{ utc_timestamp('created_at') }} as created_at,
        {{ utc_timestamp('started_at') }} as started_at,
        {{ utc_timestamp('completed_at') }} as completed_at,

        ---------- lineage
        _dlt_load_id as dlt_load_id

    from latest

)

select * from renamed
