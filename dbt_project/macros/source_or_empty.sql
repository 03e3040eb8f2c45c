{#- A raw table, or an empty relation typed like it when the table does not exist. dlt
    creates a table only once it has rows: a vendor that is not configured, a report that was
    empty every day or a child table nothing filled yet leaves no table, and every model over
    it must still build (with no rows). Every staging model reads its raw table through this.

    `columns`: a list of (name, type) pairs, the empty relation's columns. By default the
    loader's declared columns with the types dlt creates (macros/raw_columns.sql, generated
    by `python -m pipelines.sources.raw_columns`), so staging reads only declared columns: a
    column a model reads that no loader declares fails the build on an empty warehouse.

    `child` reads the dlt child table `<table>__<child>` of the source table. Child tables are
    not declared as dbt sources of their own: they are loaded by their parent's dlt resource,
    which is one Dagster asset, so lineage goes to the parent (`source(name, table)`). -#}
{% macro source_or_empty(source_name, table_name, columns=none, child=none) -%}
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
        {%- set columns = columns if columns is not none
            else declared_raw_columns(source_name, src.identifier) -%}
        (select
        {%- for name, type in columns %}
            cast(null as {{ raw_type(type) }}) as {{ name }}{{ "," if not loop.last }}
        {%- endfor %}
        where 1 = 0) as {{ src.identifier }}_empty
    {%- endif -%}
{%- endmacro %}

{#- The declared columns of raw table `table_name` (a child table as `<parent>__<child>`) of
    source `source_name`: [(name, type)], from macros/raw_columns.sql. -#}
{% macro declared_raw_columns(source_name, table_name) -%}
    {%- set tables = raw_columns().get(source_name, {}).get('tables', {}) -%}
    {%- if table_name not in tables -%}
        {{ exceptions.raise_compiler_error(
            "no loader declares the raw table " ~ source_name ~ "." ~ table_name
            ~ ": declare its columns in pipelines/sources/ and run"
            ~ " `python -m pipelines.sources.raw_columns`, or pass columns=") }}
    {%- endif -%}
    {{ return(tables[table_name]) }}
{%- endmacro %}

{#- A raw column's declared type (DuckDB's name for the type dlt creates, as in
    macros/raw_columns.sql) in the adapter's own words. -#}
{% macro raw_type(duckdb_type) -%}
    {{ return(adapter.dispatch('raw_type', 'ai_outcomes_warehouse')(duckdb_type)) }}
{%- endmacro %}
{% macro default__raw_type(duckdb_type) -%}
    {{ return(duckdb_type) }}
{%- endmacro %}
{#- Spark reads dlt's Parquet: text and JSON as string, a timezone-aware timestamp as
    timestamp (an instant; the session's zone is UTC). -#}
{% macro spark__raw_type(duckdb_type) -%}
    {%- set kind = duckdb_type | upper | trim -%}
    {%- if kind in ('VARCHAR', 'TEXT', 'JSON') -%}
        {{ return('string') }}
    {%- elif kind in ('TIMESTAMP WITH TIME ZONE', 'TIMESTAMPTZ') -%}
        {{ return('timestamp') }}
    {%- else -%}
        {{ return(kind | lower) }}
    {%- endif -%}
{%- endmacro %}
