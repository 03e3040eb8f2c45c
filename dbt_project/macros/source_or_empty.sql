{#- A source table, or an empty relation of the given columns when the table does not exist
    yet. dlt creates a child table (issues__remote_links, ...) only once it has rows, so a
    young warehouse can lack one; the models over it must still build (with no rows).
    `columns` is a list of (name, type) pairs: every column the model reads.

    `child` reads the dlt child table `<table>__<child>` of the source table. Child tables are
    not declared as dbt sources of their own: they are loaded by their parent's dlt resource,
    which is one Dagster asset, so lineage goes to the parent (`source(name, table)`). -#}
{% macro source_or_empty(source_name, table_name, columns, child=none) -%}
    {%- set src = source(source_name, table_name) -%}
    {%- if child -%}
        {%- set src = api.Relation.create(
            database=src.database, schema=src.schema,
            identifier=src.identifier ~ '__' ~ child) -%}
    {%- endif -%}
    {%- if execute -%}
        {%- set relation = adapter.get_relation(
            database=src.database, schema=src.schema, identifier=src.identifier) -%}
    {%- else -%}
        {%- set relation = src -%}
    {%- endif -%}
    {%- if relation is not none -%}
        {{ src }}
    {%- else -%}
        (select
        {%- for name, type in columns %}
            cast(null as {{ type }}) as {{ name }}{{ "," if not loop.last }}
        {%- endfor %}
        where 1 = 0) as {{ src.identifier }}_empty
    {%- endif -%}
{%- endmacro %}
