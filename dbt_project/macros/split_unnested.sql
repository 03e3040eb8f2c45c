{#- Text split on a delimiter, one row per part.
    Each dispatches (docs/transformation.md, Portability): `default__` is standard SQL /
    Postgres, `duckdb__` the DuckDB form; add an adapter by adding its `<adapter>__` version. -#}

{#- Every part of `text` split on `delimiter`, one row per part (select-list expression). -#}
{% macro split_unnested(text, delimiter) -%}
    {{ return(adapter.dispatch('split_unnested', 'ai_outcomes_warehouse')(text, delimiter)) }}
{%- endmacro %}
{% macro default__split_unnested(text, delimiter) -%}
    regexp_split_to_table({{ text }}, {{ delimiter }})
{%- endmacro %}
{% macro duckdb__split_unnested(text, delimiter) -%}
    unnest(string_split({{ text }}, {{ delimiter }}))
{%- endmacro %}
{#- Spark splits on a regular expression: the delimiter is quoted (\Q...\E) to be literal. -#}
{% macro spark__split_unnested(text, delimiter) -%}
    explode(split({{ text }}, concat('\\Q', {{ delimiter }}, '\\E')))
{%- endmacro %}
