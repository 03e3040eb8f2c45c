{#- A model's custom schema is its exact schema (`staging`, `intermediate`, `marts`), not
    dbt's default `<target schema>_<custom schema>`. Without one, the target schema. -#}
{% macro generate_schema_name(custom_schema_name, node) -%}
    {%- if custom_schema_name is none -%}
        {{ target.schema }}
    {%- else -%}
        {{ custom_schema_name | trim }}
    {%- endif -%}
{%- endmacro %}
