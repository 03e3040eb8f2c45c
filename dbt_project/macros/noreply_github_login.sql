{#- The GitHub login of a noreply address `ID+login@users.noreply.github.com` (lower case),
    null for any other address: identity resolution matches it against people.github_login. -#}
{% macro noreply_github_login(email) -%}
    case
        when {{ regexp_like('lower(' ~ email ~ ')', "'^[0-9]+[+][^@]+@users[.]noreply[.]github[.]com$'") }}
            then {{ dbt.split_part(dbt.split_part('lower(' ~ email ~ ')', "'@'", 1), "'+'", 2) }}
    end
{%- endmacro %}
