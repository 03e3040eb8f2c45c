{#- Every listed column holds a value on every row: the columns that do not, one row each
    with its count of null rows. One test per model rather than one `not_null` per column: a
    build pays per dbt node, and this reads the model once. Columns required only on some rows
    (config: {where: "..."}) or only warned about (config: {severity: warn}) take a test of
    their own. Usage on a model: data_tests: [{not_null_columns: {columns: [id, day]}}] -#}
{% test not_null_columns(model, columns) %}

{%- if not columns -%}
    {{ exceptions.raise_compiler_error('not_null_columns on ' ~ model ~ ': no columns listed') }}
{%- endif %}

with

null_counts as (

    select
    {%- for column in columns %}
        sum(case when {{ column }} is null then 1 else 0 end) as null_rows_{{ loop.index }}
        {{- ',' if not loop.last }}
    {%- endfor %}
    from {{ model }}

),

per_column as (
{% for column in columns %}
    {%- if not loop.first %}
    union all
    {%- endif %}
    select
        '{{ column }}' as column_name,
        null_rows_{{ loop.index }} as null_rows
    from null_counts
{%- endfor %}

)

select
    column_name,
    null_rows
from per_column
where null_rows > 0

{% endtest %}
