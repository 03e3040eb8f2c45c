{#- The time a dlt load started, from its load id (epoch seconds as text, e.g.
    '1763874000.123456'), as a plain UTC timestamp. Incremental models look back from it. -#}
{% macro prs_dlt_load_time(load_id) -%}
    {{ return(adapter.dispatch('prs_dlt_load_time', 'ai_outcomes')(load_id)) }}
{%- endmacro %}
{% macro default__prs_dlt_load_time(load_id) -%}
    (to_timestamp(cast({{ load_id }} as double precision)) at time zone 'UTC')
{%- endmacro %}
{% macro duckdb__prs_dlt_load_time(load_id) -%}
    timezone('UTC', to_timestamp(cast({{ load_id }} as double)))
{%- endmacro %}
