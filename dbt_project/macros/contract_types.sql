{#- Model contracts across adapters. The yml of the contracted marts declares each column's
    type in the project's own vocabulary, DuckDB's names (`hugeint` for a sum of integers,
    `double`, `varchar`, `decimal(38,6)`, ...). contract_data_type gives an adapter's name for
    one of them (dispatches: `default__` standard SQL / Postgres, `duckdb__` DuckDB itself),
    and the adapter's contract macros below read the columns through it: the check that a
    model's query has the declared types, and the typed DDL of the table. -#}

{% macro contract_data_type(data_type) -%}
    {{ return(adapter.dispatch('contract_data_type', 'ai_outcomes_warehouse')(data_type)) }}
{%- endmacro %}

{% macro default__contract_data_type(data_type) -%}
    {#- A sum of integers is a numeric in PostgreSQL (sum(bigint)); DuckDB's double is
        double precision. Every other name of the vocabulary is standard. -#}
    {%- set standard = {'hugeint': 'numeric(38, 0)', 'double': 'double precision'} -%}
    {{ return(standard.get(data_type | trim | lower, data_type)) }}
{%- endmacro %}

{% macro duckdb__contract_data_type(data_type) -%}
    {{ return(data_type) }}
{%- endmacro %}

{#- The model's columns (model['columns'] or any such mapping) with the adapter's types. -#}
{% macro contract_columns(columns) -%}
    {%- set translated = {} -%}
    {%- for name, column in columns.items() -%}
        {%- set copy = {} -%}
        {%- do copy.update(column) -%}
        {%- if column.get('data_type') is not none -%}
            {%- do copy.update({'data_type': contract_data_type(column['data_type'])}) -%}
        {%- endif -%}
        {%- do translated.update({name: copy}) -%}
    {%- endfor -%}
    {{ return(translated) }}
{%- endmacro %}

{#- dbt's contract macros for PostgreSQL, reading the declared types through
    contract_data_type: the empty query the model's columns are checked against, and the
    column list of the table's DDL. -#}
{% macro postgres__get_empty_schema_sql(columns) -%}
    {{ return(dbt.default__get_empty_schema_sql(contract_columns(columns))) }}
{%- endmacro %}

{% macro postgres__get_table_columns_and_constraints() -%}
    {%- set columns = adapter.render_raw_columns_constraints(
        raw_columns=contract_columns(model['columns'])) -%}
    {%- set constraints = adapter.render_raw_model_constraints(
        raw_constraints=model['constraints']) -%}
    (
    {% for c in columns + constraints -%}
        {{ c }}{{ "," if not loop.last }}
    {% endfor -%}
    )
{%- endmacro %}
