{#- Text functions whose arguments differ between adapters.
    Each dispatches (docs/transformation.md, Portability): `default__` is standard SQL /
    Postgres (DuckDB reads it too); add an adapter by adding its `<adapter>__` version. -#}

{#- `text` without any of `characters` (a SQL string) at its end. -#}
{% macro rtrim_characters(text, characters) -%}
    {{ return(adapter.dispatch('rtrim_characters', 'ai_outcomes_warehouse')(text, characters)) }}
{%- endmacro %}
{% macro default__rtrim_characters(text, characters) -%}
    rtrim({{ text }}, {{ characters }})
{%- endmacro %}
{#- Spark's two-argument rtrim takes the characters first; trim(trailing ...) is unambiguous. -#}
{% macro spark__rtrim_characters(text, characters) -%}
    trim(trailing {{ characters }} from {{ text }})
{%- endmacro %}
