{#- The as-of instant of every "now" rule (censoring, open PRs, runway), as a UTC timestamp:
    the `as_of` var (AOW_AS_OF or `transform --as-of`, passed by the pipeline), else the time
    of the build. A fixed as-of makes a build reproducible; the simulated organisation's clock
    is one. -#}
{% macro as_of_timestamp() -%}
    {%- set fixed = var('as_of', none) -%}
    {%- if fixed -%}
        cast('{{ fixed | replace("T", " ") | replace("Z", "") }}' as {{ dbt.type_timestamp() }})
    {%- else -%}
        {{ utc_timestamp(dbt.current_timestamp()) }}
    {%- endif -%}
{%- endmacro %}

{#- The as-of day: the last whole day the warehouse reports on is the day before it. -#}
{% macro as_of_date() -%}
    cast({{ as_of_timestamp() }} as date)
{%- endmacro %}
