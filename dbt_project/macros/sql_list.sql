{#- A list var as a SQL list of string literals: ('a', 'b'). Quotes are escaped. -#}
{% macro sql_string_list(values) -%}
    ({%- for v in values -%}
        '{{ v | string | replace("'", "''") }}'{{ ", " if not loop.last }}
    {%- endfor -%})
{%- endmacro %}
