{#- Types across adapters. The yml of the contracted marts and the seeds' column_types in
    dbt_project.yml write types in the project's own vocabulary, DuckDB's names (`hugeint` for
    a sum of integers, `double`, `varchar`, `decimal(38,6)`, ...; pipelines/transform/
    org_seeds.py checks the seed files against them with DuckDB's casts). adapter_data_type
    gives an adapter's name for one of them (dispatches: `default__` standard SQL / Postgres,
    `duckdb__` DuckDB itself), and the adapter's macros below read the declared types through
    it: the check that a model's query has its contract's types, the typed DDL of a contracted
    table, and the table a seed is loaded into. -#}

{% macro adapter_data_type(data_type) -%}
    {{ return(adapter.dispatch('adapter_data_type', 'ai_outcomes_warehouse')(data_type)) }}
{%- endmacro %}

{% macro default__adapter_data_type(data_type) -%}
    {#- A sum of integers is a numeric in PostgreSQL (sum(bigint)); DuckDB's double is
        double precision. Every other name of the vocabulary is standard. -#}
    {%- set standard = {'hugeint': 'numeric(38, 0)', 'double': 'double precision'} -%}
    {{ return(standard.get(data_type | trim | lower, data_type)) }}
{%- endmacro %}

{% macro duckdb__adapter_data_type(data_type) -%}
    {{ return(data_type) }}
{%- endmacro %}

{#- The model's columns (model['columns'] or any such mapping) with the adapter's types. -#}
{% macro contract_columns(columns) -%}
    {%- set translated = {} -%}
    {%- for name, column in columns.items() -%}
        {%- set copy = {} -%}
        {%- do copy.update(column) -%}
        {%- if column.get('data_type') is not none -%}
            {%- do copy.update({'data_type': adapter_data_type(column['data_type'])}) -%}
        {%- endif -%}
        {%- do translated.update({name: copy}) -%}
    {%- endfor -%}
    {{ return(translated) }}
{%- endmacro %}

{#- dbt's contract macros for PostgreSQL, reading the declared types through
    adapter_data_type: the empty query the model's columns are checked against, and the
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

{#- A seed's table on PostgreSQL, its declared column types in PostgreSQL's names. -#}
{% macro postgres__create_csv_table(model, agate_table) -%}
    {%- set column_types = model['config'].get('column_types', {}) -%}
    {%- for column in column_types.keys() | list -%}
        {%- do column_types.update({column: adapter_data_type(column_types[column])}) -%}
    {%- endfor -%}
    {{ return(dbt.default__create_csv_table(model, agate_table)) }}
{%- endmacro %}
