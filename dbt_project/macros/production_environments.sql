{#- Whether a deployment is a production one (docs/metrics.md section 8): GitHub's
    production_environment flag is true, or its environment matches one of the patterns in
    the var production_environments, ignoring case. In a pattern `*` stands for any run of
    characters and everything else is literal: LIKE's own wildcards `_` and `%` (and the
    escape character) are escaped. The one place the rule is written: int_deployments
    applies it and every other model reads int_deployments.is_production. -#}
{% macro is_production_environment(environment, flag) -%}
    (
        coalesce({{ flag }}, false)
        {%- for pattern in var('production_environments') %}
        or coalesce(lower({{ environment }}) like lower('{{ production_like_pattern(pattern) }}') escape '!', false)
        {%- endfor %}
    )
{%- endmacro %}

{#- A production_environments pattern as a LIKE pattern (escape character `!`), quoted for a
    SQL string literal. -#}
{% macro production_like_pattern(pattern) -%}
    {{- (pattern | string)
        .replace('!', '!!').replace('_', '!_').replace('%', '!%')
        .replace('*', '%').replace("'", "''") -}}
{%- endmacro %}
