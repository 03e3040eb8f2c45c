{#- Seeds on adapters whose type names differ from the ones dbt_project.yml declares (DuckDB's,
    which pipelines/transform/org_seeds.py checks the seed files against). -#}

{#- Spark: `varchar` needs a length there; a seed's text columns are `string`. The declared
    column types are translated before dbt-spark creates and fills the table. -#}
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
    {%- for column, kind in column_types.items() -%}
        {%- if (kind | lower | trim) in ('varchar', 'text') -%}
            {%- do column_types.update({column: 'string'}) -%}
        {%- endif -%}
    {%- endfor -%}
{%- endmacro %}
