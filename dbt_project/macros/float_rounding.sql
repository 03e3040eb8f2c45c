{#- Floats that are the same from build to build and adapter to adapter: an order-independent
    sum, and a rounding that keeps a double (round_double dispatches: `default__` standard SQL /
    Postgres, `duckdb__` DuckDB). -#}

{#- The sum of a float expression, independent of the order rows arrive in: each value is
    rounded to 1/scale and summed as an integer. A plain float sum can differ in its last bit
    between two builds (an incremental run and a full refresh) that read rows in another
    order. scale 3600000 keeps hours to the millisecond; 1e12 keeps fractional defect weights. -#}
{% macro exact_sum(expression, scale) -%}
    (sum(cast(round(({{ expression }}) * {{ scale }}) as {{ dbt.type_bigint() }}))
        / cast({{ scale }} as {{ type_double() }}))
{%- endmacro %}

{#- A double rounded to `digits` decimals, still a double where the adapter allows it
    (PostgreSQL rounds only numerics to a number of digits). -#}
{% macro round_double(value, digits) -%}
    {{ return(adapter.dispatch('round_double', 'ai_outcomes_warehouse')(value, digits)) }}
{%- endmacro %}
{% macro default__round_double(value, digits) -%}
    cast(round(cast({{ value }} as numeric), {{ digits }}) as {{ dbt.type_float() }})
{%- endmacro %}
{% macro duckdb__round_double(value, digits) -%}
    round({{ value }}, {{ digits }})
{%- endmacro %}
{% macro spark__round_double(value, digits) -%}
    round(cast({{ value }} as double), {{ digits }})
{%- endmacro %}
