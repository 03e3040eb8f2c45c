with

incidents as (

    select * from {{ ref('stg_pagerduty__incidents') }}

),

log_entries as (

    select * from {{ ref('stg_pagerduty__incident_log_entries') }}

),

rollback_entries as (

    -- A log entry whose summary or note says rollback, roll back or rolled back (any case).
    select
        incident_id,
        log_entry_id,
        created_at,
        row_number() over (
            partition by incident_id
            order by created_at, log_entry_id
        ) as entry_rank
    from log_entries
    where {{ regexp_like(
        "lower(" ~ dbt.concat([
            "coalesce(summary, '')", "' '", "coalesce(note, '')"
        ]) ~ ")",
        "'rollback|roll back|rolled back'"
    ) }}

),

final as (

    select

        ----------  ids
        incidents.incident_id,
        rollback_entries.log_entry_id as rollback_log_entry_id,

        ---------- the rollback
        rollback_entries.log_entry_id is not null as is_rolled_back,
        rollback_entries.created_at as rolled_back_at

    from incidents
    left join rollback_entries
        on incidents.incident_id = rollback_entries.incident_id
            and rollback_entries.entry_rank = 1

)

select * from final
