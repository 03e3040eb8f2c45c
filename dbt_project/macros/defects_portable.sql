{#- Adapter-specific bits of the defects models.

    The word-boundary escape of the adapter's regular expressions, for patterns that need
    one (RE2 and most engines: \b; PostgreSQL's ARE: \y, where \b is a backspace). -#}
{% macro defects_word_boundary() -%}
    {{ return(adapter.dispatch('defects_word_boundary', 'ai_outcomes')()) }}
{%- endmacro %}
{% macro default__defects_word_boundary() -%}
    {{ return('\\y') }}
{%- endmacro %}
{% macro duckdb__defects_word_boundary() -%}
    {{ return('\\b') }}
{%- endmacro %}

{#- A double rounded to `digits` decimals, still a double where the adapter allows it
    (PostgreSQL rounds only numerics to a number of digits). -#}
{% macro defects_round(value, digits) -%}
    {{ return(adapter.dispatch('defects_round', 'ai_outcomes')(value, digits)) }}
{%- endmacro %}
{% macro default__defects_round(value, digits) -%}
    cast(round(cast({{ value }} as numeric), {{ digits }}) as {{ dbt.type_float() }})
{%- endmacro %}
{% macro duckdb__defects_round(value, digits) -%}
    round({{ value }}, {{ digits }})
{%- endmacro %}
