{#- What every number rests on: one row per source the loaders know (github, jira, pagerduty,
    anthropic, openai). Whether it is configured and available to this build
    (int_source_availability), its last successful load, its raw rows, the first and last day
    its records describe, the marts it feeds (from the dbt graph: a mart is fed by a source when
    a model upstream of it reads the source's raw tables), and a sentence that says what this
    means for the figures. -#}
{%- set sources = raw_columns() -%}
{%- set feeds = marts_fed_by_source() -%}
{#- The records whose dates say what period a source covers: its activity, not its reference
    lists (users, projects, keys). -#}
{%- set record_dates = {
    'github': [('stg_github__pull_requests', 'created_at'),
               ('stg_github__deployments', 'created_at'),
               ('stg_github__workflow_runs', 'created_at')],
    'jira': [('stg_jira__issues', 'created_at'), ('stg_jira__issue_changelog', 'created_at')],
    'pagerduty': [('stg_pagerduty__incidents', 'created_at'),
                  ('stg_pagerduty__incident_log_entries', 'created_at')],
    'anthropic': [('stg_anthropic__messages_usage', 'usage_date'),
                  ('stg_anthropic__cost_report', 'cost_date'),
                  ('stg_anthropic__claude_code_usage', 'usage_date')],
    'openai': [('stg_openai__completions_usage', 'usage_date'),
               ('stg_openai__costs', 'cost_date')],
} -%}
with

availability as (

    select * from {{ ref('int_source_availability') }}

),

raw_tables as (

    {%- set counts = [] %}
    {%- for source_name in sources %}
    {%- for table_name in sources[source_name]['tables'] %}
    {%- do counts.append(
        "select '" ~ source_name ~ "' as source, "
        ~ ("true" if table_name == "quarantine" else "false") ~ " as is_quarantine, "
        ~ ("count(*) filter (where resolved_at is null)" if table_name == "quarantine" else "count(*)")
        ~ " as row_count from " ~ raw_table_or_empty(source_name, table_name)) %}
    {%- endfor %}
    {%- endfor %}
    {{ counts | join("\n    union all\n    ") }}

),

raw_rows as (

    select
        source,
        sum(case when is_quarantine then 0 else row_count end) as raw_rows,
        sum(case when is_quarantine then row_count else 0 end) as quarantined_rows
    from raw_tables
    group by source

),

record_days as (

    {%- set dated = [] %}
    {%- for source_name in sources %}
    {%- for model, column in record_dates.get(source_name, []) %}
    {%- do dated.append(
        "select '" ~ source_name ~ "' as source, count(*) as records, "
        ~ "min(cast(" ~ column ~ " as date)) as first_record_date, "
        ~ "max(cast(" ~ column ~ " as date)) as last_record_date from " ~ ref(model)) %}
    {%- endfor %}
    {%- endfor %}
    {{ dated | join("\n    union all\n    ") }}

),

records as (

    select
        source,
        sum(records) as dated_records,
        min(first_record_date) as first_record_date,
        max(last_record_date) as last_record_date
    from record_days
    group by source

),

fed as (

    {%- for source_name in sources %}
    select
        '{{ source_name }}' as source,
        {{ feeds.get(source_name, []) | length }} as marts_fed,
        '{{ feeds.get(source_name, []) | join(", ") }}' as feeds_marts
    {{ "union all" if not loop.last }}
    {%- endfor %}

),

joined as (

    select
        availability.source,
        availability.is_configured,
        availability.is_available,
        availability.availability_basis,
        availability.last_load_status,
        availability.last_load_detail,
        availability.last_loaded_at,
        availability.last_attempt_at,
        availability.last_failed_at,
        availability.is_stale,
        availability.raw_tables_present,
        availability.raw_tables_declared,
        coalesce(raw_rows.raw_rows, 0) as raw_rows,
        coalesce(raw_rows.quarantined_rows, 0) as quarantined_rows,
        coalesce(records.dated_records, 0) as dated_records,
        records.first_record_date,
        records.last_record_date,
        fed.marts_fed,
        fed.feeds_marts
    from availability
    left join raw_rows
        on availability.source = raw_rows.source
    left join records
        on availability.source = records.source
    left join fed
        on availability.source = fed.source

),

described as (

    select
        joined.*,
        {{ dbt.concat([
            "cast(raw_rows as " ~ dbt.type_string() ~ ")", "' raw rows, records from '",
            "coalesce(cast(first_record_date as " ~ dbt.type_string() ~ "), '?')", "' to '",
            "coalesce(cast(last_record_date as " ~ dbt.type_string() ~ "), '?')",
        ]) }} as data_phrase,
        coalesce({{ dbt.concat([
            "cast(" ~ dbt.date_trunc('second', 'last_loaded_at') ~ " as " ~ dbt.type_string() ~ ")",
            "' UTC'",
        ]) }}, 'at an unknown time') as loaded_phrase,
        coalesce({{ dbt.concat(["' ('", "last_load_detail", "')'"]) }}, '') as detail_phrase
    from joined

),

final as (

    select

        ----------  the source
        source,

        ---------- availability
        is_configured,
        is_available,
        availability_basis,
        last_load_status,
        last_loaded_at as last_successful_load_at,
        is_stale,
        last_attempt_at,
        last_failed_at as last_failed_load_at,
        last_load_detail,

        ---------- what it holds
        raw_tables_present,
        raw_tables_declared,
        raw_rows,
        quarantined_rows,
        first_record_date,
        last_record_date,

        ---------- what it feeds
        marts_fed,
        feeds_marts,

        ---------- for a reader
        case
            when not is_available and last_load_status = 'not_configured'
                then {{ dbt.concat([
                    "'Not configured'", "detail_phrase",
                    "': the figures that need it are null, each with its reason.'",
                ]) }}
            when not is_available and last_load_status = 'failed'
                then {{ dbt.concat([
                    "'Never loaded successfully; the last attempt failed'", "detail_phrase",
                    "': the figures that need it are null, each with its reason.'",
                ]) }}
            when not is_available
                then 'Not loaded: no load is recorded and it has no raw tables, so it is taken as not configured; the figures that need it are null, each with its reason.'
            when last_load_status = 'not_configured'
                then {{ dbt.concat([
                    "'No longer configured'", "detail_phrase", "'; its earlier loads are still '",
                    "'used: '", "data_phrase", "'.'",
                ]) }}
            when last_load_status = 'failed'
                then {{ dbt.concat([
                    "'Loaded: '", "data_phrase", "'; last successful load '", "loaded_phrase",
                    "', but the latest attempt failed'", "detail_phrase",
                    "': stale, its figures rest on that last successful load.'",
                ]) }}
            when dated_records = 0
                then {{ dbt.concat([
                    "'Configured and loaded (last successful load '", "loaded_phrase",
                    "'), but its reports hold no records: the figures that need it are true '",
                    "'zeros.'",
                ]) }}
            else {{ dbt.concat([
                "'Loaded: '", "data_phrase", "'; last successful load '", "loaded_phrase", "'.'",
            ]) }}
        end as status

    from described

)

select * from final
