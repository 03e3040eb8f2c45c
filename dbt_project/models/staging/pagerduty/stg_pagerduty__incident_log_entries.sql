with

source as (

    select * from {{ source_or_empty('pagerduty', 'incident_log_entries') }}

),

latest as (

    -- A log entry never changes once written: the newest load wins a replay.
    {{ latest_versions('source', 'id', '_dlt_load_id desc') }}

),

renamed as (

    select

        ----------  ids
        cast(id as {{ dbt.type_string() }}) as log_entry_id,
        cast(incident_id as {{ dbt.type_string() }}) as incident_id,
        cast(service_id as {{ dbt.type_string() }}) as service_id,
        cast(agent_id as {{ dbt.type_string() }}) as agent_id,

        ---------- text
        -- As served, e.g. trigger_log_entry, annotate_log_entry, resolve_log_entry.
        cast(type as {{ dbt.type_string() }}) as log_entry_type,
        cast(agent_type as {{ dbt.type_string() }}) as agent_type,
        cast(channel_type as {{ dbt.type_string() }}) as channel_type,
        cast(summary as {{ dbt.type_string() }}) as summary,
        -- An annotation's text, verbatim (PR and deployment links live here).
        cast(note as {{ dbt.type_string() }}) as note,

        ---------- timestamps (UTC)
        {{ utc_timestamp('created_at') }} as created_at,

        ---------- lineage
        _dlt_load_id as dlt_load_id

    from latest

)

select * from renamed
