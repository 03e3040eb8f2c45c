{#- dbt.listagg on adapters whose own version ignores the order. -#}

{#- Spark: dbt-spark's listagg warns that it ignores `order_by_clause` and joins in whatever
    order rows arrive. Here the values are collected with their sort key, sorted, then joined.
    `order_by_clause`: `order by <expression> [asc|desc]`, one key. -#}
{% macro spark__listagg(measure, delimiter_text, order_by_clause, limit_num) -%}
    {%- if order_by_clause -%}
        {%- set key = order_by_clause | trim -%}
        {%- set key = key[8:] if key.lower().startswith('order by') else key -%}
        {%- set key = key | trim -%}
        {%- set ascending = 'true' -%}
        {%- if key.lower().endswith(' desc') -%}
            {%- set key, ascending = key[:-5], 'false' -%}
        {%- elif key.lower().endswith(' asc') -%}
            {%- set key = key[:-4] -%}
        {%- endif -%}
        {%- set collected = "transform(sort_array(collect_list(struct(" ~ key ~ " as sort_key, "
            ~ measure ~ " as sort_value)), " ~ ascending ~ "), entry -> entry.sort_value)" -%}
    {%- else -%}
        {%- set collected = "collect_list(" ~ measure ~ ")" -%}
    {%- endif -%}
    {%- if limit_num -%}
        {%- set collected = "slice(" ~ collected ~ ", 1, " ~ limit_num ~ ")" -%}
    {%- endif -%}
    {#- Null over no values, as listagg elsewhere (an empty list joins to ''). -#}
    case when count({{ measure }}) > 0 then array_join({{ collected }}, {{ delimiter_text }}) end
{%- endmacro %}
