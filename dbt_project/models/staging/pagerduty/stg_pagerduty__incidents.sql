with

source as (

    select * from {{ source_or_empty('pagerduty', 'incidents') }}

),

latest as (

    -- The loader merges on id, so this is a guard: a replayed or appended load must
    -- never fan an incident out into several rows downstream.
    {{ latest_versions('source', 'id', 'updated_at desc, _dlt_load_id desc') }}

),

renamed as (

    select

        ----------  ids
        cast(id as {{ dbt.type_string() }}) as incident_id,
        cast(incident_number as {{ dbt.type_bigint() }}) as incident_number,
        cast(service_id as {{ dbt.type_string() }}) as service_id,
        cast(incident_key as {{ dbt.type_string() }}) as incident_key,
        -- JSON arrays of PagerDuty team ids and (current) assignee user ids.
        team_ids as pagerduty_team_ids,
        assignee_ids as assignee_user_ids,

        ---------- text
        cast(title as {{ dbt.type_string() }}) as incident_title,
        cast(description as {{ dbt.type_string() }}) as incident_description,
        cast(status as {{ dbt.type_string() }}) as incident_status,
        cast(urgency as {{ dbt.type_string() }}) as urgency,
        cast(priority as {{ dbt.type_string() }}) as priority_name,
        cast(service_name as {{ dbt.type_string() }}) as service_name,
        cast(assigned_via as {{ dbt.type_string() }}) as assigned_via,
        cast(html_url as {{ dbt.type_string() }}) as html_url,

        ---------- booleans
        is_mergeable,

        ---------- timestamps (UTC)
        {{ utc_timestamp('created_at') }} as created_at,
        {{ utc_timestamp('updated_at') }} as updated_at,
        {{ utc_timestamp('last_status_change_at') }} as last_status_change_at,
        {{ utc_timestamp('resolved_at') }} as resolved_at,

        ---------- lineage
        _dlt_load_id as dlt_load_id

    from latest

)

select * from renamed
