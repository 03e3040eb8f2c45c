{#- One row per source the loaders know: whether it is configured and available to this build,
    and what the answer rests on (see macros/source_availability.sql). -#}
{%- set sources = raw_columns() -%}
with

log as (

    select
        source,
        status,
        detail,
        {{ utc_timestamp('started_at') }} as started_at,
        {{ utc_timestamp('finished_at') }} as finished_at
    from {{ source_loads_relation() }}

),

latest_attempt as (

    select
        source,
        status,
        detail,
        started_at,
        row_number() over (partition by source order by started_at desc, finished_at desc)
            as attempt_rank
    from log

),

attempts as (

    select
        source,
        count(*) as load_attempts,
        sum(case when status = 'loaded' then cast(1 as bigint) else 0 end) as successful_loads,
        max(case when status = 'loaded' then finished_at end) as last_loaded_at,
        max(case when status = 'failed' then finished_at end) as last_failed_at
    from log
    group by source

),

warehouse as (

    -- What the warehouse itself shows of each source: its raw tables (counted when the model
    -- compiles) and dlt's record of its completed loads.
    {%- for source_name in sources %}
    select
        '{{ source_name }}' as source,
        '{{ sources[source_name]["schema"] }}' as raw_schema,
        {{ sources[source_name]['tables'] | length }} as raw_tables_declared,
        {{ raw_tables_present(source_name) }} as raw_tables_present,
        (select count(*) from {{ dlt_loads_relation(source_name) }} as loads) as dlt_loads,
        (
            select max({{ utc_timestamp('inserted_at') }})
            from {{ dlt_loads_relation(source_name) }} as loads
        )
            as last_dlt_load_at
    {{ "union all" if not loop.last }}
    {%- endfor %}

),

decided as (

    select
        warehouse.source,
        warehouse.raw_schema,
        warehouse.raw_tables_declared,
        warehouse.raw_tables_present,
        coalesce(attempts.load_attempts, 0) as load_attempts,
        coalesce(attempts.successful_loads, 0) as successful_loads,
        -- Without a log row, a source the warehouse holds counts as loaded (DESIGN D5).
        coalesce(
            latest_attempt.status,
            case
                when warehouse.raw_tables_present > 0 or warehouse.dlt_loads > 0 then 'loaded'
            end
        ) as last_load_status,
        latest_attempt.detail as last_load_detail,
        latest_attempt.started_at as last_attempt_at,
        case
            when attempts.load_attempts > 0 then attempts.last_loaded_at
            else warehouse.last_dlt_load_at
        end as last_loaded_at,
        attempts.last_failed_at,
        coalesce(attempts.load_attempts, 0) = 0
        and (warehouse.raw_tables_present > 0 or warehouse.dlt_loads > 0) as has_warehouse_data
    from warehouse
    left join attempts
        on warehouse.source = attempts.source
    left join latest_attempt
        on warehouse.source = latest_attempt.source
            and latest_attempt.attempt_rank = 1

),

final as (

    select

        ----------  the source
        source,
        raw_schema,

        ---------- decision
        coalesce(last_load_status <> 'not_configured', false) as is_configured,
        successful_loads > 0 or has_warehouse_data as is_available,
        case
            when load_attempts > 0 then 'load_log'
            when has_warehouse_data then 'raw_tables'
            else 'none'
        end as availability_basis,

        ---------- the load log
        load_attempts,
        successful_loads,
        last_load_status,
        last_load_detail,
        last_attempt_at,
        last_loaded_at,
        last_failed_at,
        -- Stale: the latest attempt failed, so its figures rest on the last successful load
        -- (or are null, when there was none).
        coalesce(last_load_status = 'failed', false) as is_stale,

        ---------- the warehouse
        raw_tables_declared,
        raw_tables_present

    from decided

)

select * from final
