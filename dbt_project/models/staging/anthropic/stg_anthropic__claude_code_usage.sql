with

source as (

    select * from {{ source_or_empty('anthropic', 'claude_code_usage') }}

),

latest as (

    -- Report rows merge on row_key; the report lags, so a day is re-read once.
    {{ latest_versions('source', 'row_key', '_dlt_load_id desc') }}

),

renamed as (

    select

        ----------  ids
        cast(row_key as {{ dbt.type_string() }}) as usage_row_key,
        cast(organization_id as {{ dbt.type_string() }}) as organization_id,

        ---------- actor
        cast(actor_type as {{ dbt.type_string() }}) as actor_type,
        cast(actor_email_address as {{ dbt.type_string() }}) as actor_email_address,
        cast(actor_api_key_name as {{ dbt.type_string() }}) as actor_api_key_name,
        cast(customer_type as {{ dbt.type_string() }}) as customer_type,
        cast(subscription_type as {{ dbt.type_string() }}) as subscription_type,
        cast(terminal_type as {{ dbt.type_string() }}) as terminal_type,

        ---------- numerics
        cast(num_sessions as {{ dbt.type_bigint() }}) as num_sessions,
        cast(lines_added as {{ dbt.type_bigint() }}) as lines_added,
        cast(lines_removed as {{ dbt.type_bigint() }}) as lines_removed,
        cast(commits_by_claude_code as {{ dbt.type_bigint() }}) as commits_by_claude_code,
        cast(pull_requests_by_claude_code as {{ dbt.type_bigint() }})
            as pull_requests_by_claude_code,
        cast(edit_tool_accepted as {{ dbt.type_bigint() }}) as edit_tool_accepted,
        cast(edit_tool_rejected as {{ dbt.type_bigint() }}) as edit_tool_rejected,
        cast(multi_edit_tool_accepted as {{ dbt.type_bigint() }}) as multi_edit_tool_accepted,
        cast(multi_edit_tool_rejected as {{ dbt.type_bigint() }}) as multi_edit_tool_rejected,
        cast(write_tool_accepted as {{ dbt.type_bigint() }}) as write_tool_accepted,
        cast(write_tool_rejected as {{ dbt.type_bigint() }}) as write_tool_rejected,
        cast(notebook_edit_tool_accepted as {{ dbt.type_bigint() }})
            as notebook_edit_tool_accepted,
        cast(notebook_edit_tool_rejected as {{ dbt.type_bigint() }})
            as notebook_edit_tool_rejected,

        ---------- dates
        cast(usage_date as date) as usage_date,

        ---------- lineage
        _dlt_id as dlt_id,
        _dlt_load_id as dlt_load_id

    from latest

)

select * from renamed
