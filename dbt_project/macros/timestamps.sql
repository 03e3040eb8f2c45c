{#- Timestamps: a timezone-aware one as plain UTC, a dlt load's start from its load id, and
    the exact minutes between two.
    Each dispatches (docs/transformation.md, Portability): `default__` is standard SQL /
    Postgres, `duckdb__` the DuckDB form; add an adapter by adding its `<adapter>__` version. -#}

{#- A timezone-aware timestamp as a plain timestamp in UTC. A bare cast would use the
    session's time zone, which for a view is whoever reads it, not whoever built it. -#}
{% macro utc_timestamp(column) -%}
    {{ return(adapter.dispatch('utc_timestamp', 'ai_outcomes_warehouse')(column)) }}
{%- endmacro %}
{% macro default__utc_timestamp(column) -%}
    ({{ column }} at time zone 'UTC')
{%- endmacro %}
{% macro duckdb__utc_timestamp(column) -%}
    timezone('UTC', {{ column }})
{%- endmacro %}
{#- Spark's timestamp is an instant (shown in the session's zone, which the server keeps UTC):
    a cast keeps it; Spark has no `at time zone`. -#}
{% macro spark__utc_timestamp(column) -%}
    cast({{ column }} as timestamp)
{%- endmacro %}

{#- The time a dlt load started, from its load id (epoch seconds as text, e.g.
    '1763874000.123456'), as a plain UTC timestamp. Incremental models look back from it. -#}
{% macro dlt_load_time(load_id) -%}
    {{ return(adapter.dispatch('dlt_load_time', 'ai_outcomes_warehouse')(load_id)) }}
{%- endmacro %}
{% macro default__dlt_load_time(load_id) -%}
    (to_timestamp(cast({{ load_id }} as double precision)) at time zone 'UTC')
{%- endmacro %}
{% macro duckdb__dlt_load_time(load_id) -%}
    timezone('UTC', to_timestamp(cast({{ load_id }} as double)))
{%- endmacro %}
{#- Spark's timestamp is an instant shown in the session's zone, which the server keeps UTC. -#}
{% macro spark__dlt_load_time(load_id) -%}
    timestamp_seconds(cast({{ load_id }} as double))
{%- endmacro %}

{#- Exact minutes from `start` to `finish` (fractional; negative when finish is earlier), a
    double: each instant's epoch seconds as a double, as DuckDB's epoch() gives them, so that
    every adapter rounds alike (PostgreSQL's extract is an exact numeric).
    dbt.datediff counts boundaries crossed, which is not elapsed time. -#}
{% macro minutes_between(start, finish) -%}
    {{ return(adapter.dispatch('minutes_between', 'ai_outcomes_warehouse')(start, finish)) }}
{%- endmacro %}
{% macro default__minutes_between(start, finish) -%}
    ((cast(extract(epoch from {{ finish }}) as double precision)
        - cast(extract(epoch from {{ start }}) as double precision)) / 60.0)
{%- endmacro %}
{% macro duckdb__minutes_between(start, finish) -%}
    ((epoch({{ finish }}) - epoch({{ start }})) / 60.0)
{%- endmacro %}
{#- As DuckDB's epoch(): seconds as a double from the microseconds, then their difference. -#}
{% macro spark__minutes_between(start, finish) -%}
    ((unix_micros({{ finish }}) / 1000000.0d - unix_micros({{ start }}) / 1000000.0d) / 60.0d)
{%- endmacro %}
