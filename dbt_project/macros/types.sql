{#- Type names dbt's cross-database type macros do not cover.
    Each dispatches (docs/transformation.md, Portability): `default__` is standard SQL /
    Postgres (DuckDB reads it too); add an adapter by adding its `<adapter>__` version. -#}

{#- An 8-byte float (dbt.type_float is 4 bytes on DuckDB and Spark). -#}
{% macro type_double() -%}
    {{ return(adapter.dispatch('type_double', 'ai_outcomes_warehouse')()) }}
{%- endmacro %}
{% macro default__type_double() -%}
    double precision
{%- endmacro %}
{% macro spark__type_double() -%}
    double
{%- endmacro %}

{#- dbt.safe_cast on Spark: dbt-spark's is a plain cast, which under ANSI mode (the Thrift
    Server's default: dbt-spark's request to turn it off does not reach a Thrift session)
    fails on a malformed value instead of giving null. -#}
{% macro spark__safe_cast(field, type) -%}
    try_cast({{ field }} as {{ type }})
{%- endmacro %}
