{#- Model contracts (the marts' yml) declare DuckDB's type names; adapters whose names differ
    translate them here, in the empty-schema query dbt compares a model's columns with. -#}

{#- Spark: `varchar` as string; DuckDB's `hugeint` (what it sums integers into) as bigint,
    Spark's sum of integers; `integer` as int; `double precision` as double. -#}
{% macro spark__get_empty_schema_sql(columns) -%}
    select
    {%- for name in columns %}
        {%- set column = columns[name] -%}
        {%- if column.get('data_type') is none -%}
            {{ exceptions.column_type_missing(column_names=[column['name']]) }}
        {%- endif -%}
        {%- set column_name = adapter.quote(column['name']) if column.get('quote') else column['name'] %}
        cast(null as {{ spark_contract_type(column['data_type']) }}) as {{ column_name }}{{ "," if not loop.last }}
    {%- endfor %}
{%- endmacro %}

{% macro spark_contract_type(data_type) -%}
    {%- set kind = data_type | lower | trim -%}
    {%- set names = {
        'varchar': 'string', 'text': 'string', 'hugeint': 'bigint',
        'integer': 'int', 'double precision': 'double',
    } -%}
    {{- names.get(kind, kind) -}}
{%- endmacro %}
