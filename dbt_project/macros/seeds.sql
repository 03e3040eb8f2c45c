{#- Seeds on Spark: the types dbt_project.yml declares (DuckDB's names, which
    pipelines/transform/org_seeds.py checks the seed files against) in Spark's names
    (adapter_data_type: `varchar` needs a length there), before dbt-spark creates and fills
    the table. -#}
{% macro spark__create_csv_table(model, agate_table) -%}
    {%- do spark_seed_column_types(model) -%}
    {{ return(dbt.spark__create_csv_table(model, agate_table)) }}
{%- endmacro %}
{% macro spark__load_csv_rows(model, agate_table) -%}
    {%- do spark_seed_column_types(model) -%}
    {{ return(dbt.spark__load_csv_rows(model, agate_table)) }}
{%- endmacro %}

{% macro spark_seed_column_types(model) -%}
    {%- set column_types = model['config'].get('column_types', {}) -%}
    {%- for column in column_types.keys() | list -%}
        {%- do column_types.update({column: adapter_data_type(column_types[column])}) -%}
    {%- endfor -%}
{%- endmacro %}
