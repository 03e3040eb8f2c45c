{#- Spark's names for the project's type vocabulary (DuckDB's names, macros/adapter_types.sql),
    and the contract check that reads the marts' declared types through them. -#}

{#- `varchar` needs a length on Spark: string. DuckDB's `hugeint` (its sum of integers) is
    Spark's bigint (Spark sums integers into bigint); `integer` is int. -#}
{% macro spark__adapter_data_type(data_type) -%}
    {%- set names = {
        'varchar': 'string', 'text': 'string', 'hugeint': 'bigint',
        'integer': 'int', 'double precision': 'double',
    } -%}
    {{ return(names.get(data_type | trim | lower, data_type)) }}
{%- endmacro %}

{#- The empty query a model's columns are checked against, in Spark's type names. -#}
{% macro spark__get_empty_schema_sql(columns) -%}
    {{ return(dbt.default__get_empty_schema_sql(contract_columns(columns))) }}
{%- endmacro %}
