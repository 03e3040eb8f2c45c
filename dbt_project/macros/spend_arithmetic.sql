{#- Exact USD arithmetic of the spend models and the cost marts: rounding, micro-dollars,
    shares of an amount, cost per unit. -#}

{#- `value` (an exact decimal) rounded to `scale` decimals, ties to even: Python's
    Decimal.quantize default, which the simulator's ground truth uses. A plain round() sends
    ties away from zero, a micro-dollar apart on one tie in 10,000. -#}
{% macro spend_round_half_even(value, scale=6) -%}
    {{ return(adapter.dispatch('spend_round_half_even', 'ai_outcomes_warehouse')(value, scale)) }}
{%- endmacro %}
{% macro default__spend_round_half_even(value, scale=6) -%}
    {%- set step = "cast(0." ~ ("0" * (scale - 1)) ~ "1 as decimal(38, " ~ scale ~ "))" -%}
    {%- set half = "cast(0." ~ ("0" * scale) ~ "5 as decimal(38, " ~ (scale + 1) ~ "))" -%}
    (
        round({{ value }}, {{ scale }})
        - case
            when abs(round({{ value }}, {{ scale }}) - {{ value }}) = {{ half }}
                and mod(cast(abs(round({{ value }}, {{ scale }})) * {{ 10 ** scale }} as {{ dbt.type_bigint() }}), 2) = 1
                then sign({{ value }}) * {{ step }}
            else 0
        end
    )
{%- endmacro %}
{#- Spark rounds ties to even itself (bround); the arithmetic above would not do there, as
    Spark cuts the scale of a difference of two wide decimals to 6 and never sees the tie. -#}
{% macro spark__spend_round_half_even(value, scale=6) -%}
    bround({{ value }}, {{ scale }})
{%- endmacro %}

{#- Whole micro-dollars (an integer) as an exact decimal USD amount with 6 decimals. -#}
{% macro spend_micros_to_usd(micros) -%}
    cast(cast({{ micros }} as decimal(38, 0)) * cast(0.000001 as decimal(38, 6)) as decimal(18, 6))
{%- endmacro %}

{#- Integer division of two non-negative integers, rounded down (Python's //). -#}
{% macro spend_floor_divide(numerator, denominator) -%}
    {{ return(adapter.dispatch('spend_floor_divide', 'ai_outcomes_warehouse')(numerator, denominator)) }}
{%- endmacro %}
{% macro default__spend_floor_divide(numerator, denominator) -%}
    (cast({{ numerator }} as {{ dbt.type_bigint() }}) / cast({{ denominator }} as {{ dbt.type_bigint() }}))
{%- endmacro %}
{% macro duckdb__spend_floor_divide(numerator, denominator) -%}
    (cast({{ numerator }} as {{ dbt.type_bigint() }}) // cast({{ denominator }} as {{ dbt.type_bigint() }}))
{%- endmacro %}
{% macro spark__spend_floor_divide(numerator, denominator) -%}
    (cast({{ numerator }} as {{ dbt.type_bigint() }}) div cast({{ denominator }} as {{ dbt.type_bigint() }}))
{%- endmacro %}

{#- USD per unit (a cost per PR, per AWU...): null when there is no unit, rounded to 6
    decimals like every USD figure of the cost marts. -#}
{% macro usd_per(usd, units) -%}
    case
        when coalesce({{ units }}, 0) > 0
            then {{ round_double('cast(coalesce(' ~ usd ~ ', 0) as ' ~ type_double() ~ ') / ' ~ units, 6) }}
    end
{%- endmacro %}
