{#- Floats that are the same from build to build and adapter to adapter: an order-independent
    sum, and a rounding that keeps a double (round_double dispatches: `default__` standard SQL /
    Postgres, `duckdb__` DuckDB). -#}

{#- The sum of a float expression, independent of the order rows arrive in: each value is
    rounded to 1/scale and summed as an integer. A plain float sum can differ in its last bit
    between two builds (an incremental run and a full refresh) that read rows in another
    order. scale 3600000 keeps hours to the millisecond; 1e12 keeps fractional defect weights. -#}
{% macro exact_sum(expression, scale) -%}
    (sum(cast({{ round_double('(' ~ expression ~ ') * ' ~ scale, 0) }} as {{ dbt.type_bigint() }}))
        / cast({{ scale }} as {{ type_double() }}))
{%- endmacro %}

{#- A double rounded to `digits` decimals, still a double, the same on every adapter:
    DuckDB's round(x, n), which rounds x * 10^n half away from zero (C's round) and divides by
    10^n again. PostgreSQL rounds only numerics to a number of digits (after a cast that keeps
    15 significant digits), and its round(double) sends ties to even: `default__` does DuckDB's
    arithmetic in doubles, with the tie decided on the exact fraction p - trunc(p). -#}
{% macro round_double(value, digits) -%}
    {{ return(adapter.dispatch('round_double', 'ai_outcomes_warehouse')(value, digits)) }}
{%- endmacro %}
{% macro default__round_double(value, digits) -%}
    {%- set scaled = "((" ~ value ~ ") * cast(" ~ (10 ** digits) ~ " as " ~ type_double() ~ "))" -%}
    (case
        when abs({{ scaled }} - trunc({{ scaled }})) >= 0.5
            then trunc({{ scaled }}) + sign({{ scaled }})
        else trunc({{ scaled }})
    end / cast({{ 10 ** digits }} as {{ type_double() }}))
{%- endmacro %}
{% macro duckdb__round_double(value, digits) -%}
    round({{ value }}, {{ digits }})
{%- endmacro %}
{#- Spark: `default__`'s arithmetic, truncating with floor/ceil (Spark's trunc is for dates).
    Spark's own round(double) rounds the double's shortest decimal text (2.675 -> 2.68 where
    DuckDB gives 2.67). -#}
{% macro spark__round_double(value, digits) -%}
    {%- set scaled = "(cast(" ~ value ~ " as double) * cast(" ~ (10 ** digits) ~ " as double))" -%}
    {%- set truncated = "cast(case when " ~ scaled ~ " < 0 then ceil(" ~ scaled ~ ") else floor("
        ~ scaled ~ ") end as double)" -%}
    (case
        when abs({{ scaled }} - {{ truncated }}) >= 0.5
            then {{ truncated }} + sign({{ scaled }})
        else {{ truncated }}
    end / cast({{ 10 ** digits }} as double))
{%- endmacro %}
