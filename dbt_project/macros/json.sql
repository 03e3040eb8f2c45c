{#- JSON: the strings of an array as rows, a string field of an object.
    Each dispatches (docs/transformation.md, Portability): `default__` is standard SQL /
    Postgres, `duckdb__` the DuckDB form; add an adapter by adding its `<adapter>__` version. -#}

{#- Every element of a JSON array of strings, one row per element (select-list expression). -#}
{% macro json_strings_unnested(json_array) -%}
    {{ return(adapter.dispatch('json_strings_unnested', 'ai_outcomes_warehouse')(json_array)) }}
{%- endmacro %}
{% macro default__json_strings_unnested(json_array) -%}
    jsonb_array_elements_text(cast({{ json_array }} as jsonb))
{%- endmacro %}
{% macro duckdb__json_strings_unnested(json_array) -%}
    unnest(cast(json_extract_string({{ json_array }}, '$[*]') as varchar[]))
{%- endmacro %}
{% macro spark__json_strings_unnested(json_array) -%}
    explode(from_json({{ json_array }}, 'array<string>'))
{%- endmacro %}

{#- A string field of a JSON object (null when absent). -#}
{% macro json_string_field(json_object, field) -%}
    {{ return(adapter.dispatch('json_string_field', 'ai_outcomes_warehouse')(json_object, field)) }}
{%- endmacro %}
{% macro default__json_string_field(json_object, field) -%}
    (cast({{ json_object }} as jsonb) ->> '{{ field }}')
{%- endmacro %}
{% macro duckdb__json_string_field(json_object, field) -%}
    json_extract_string({{ json_object }}, '$.{{ field }}')
{%- endmacro %}
{% macro spark__json_string_field(json_object, field) -%}
    get_json_object({{ json_object }}, '$.{{ field }}')
{%- endmacro %}
