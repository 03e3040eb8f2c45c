{#- Regular expressions: a match anywhere, every match as rows, the word boundary.
    Each dispatches (docs/transformation.md, Portability): `default__` is standard SQL /
    Postgres, `duckdb__` the DuckDB form; add an adapter by adding its `<adapter>__` version. -#}

{#- True when `text` matches the regular expression `pattern` anywhere. -#}
{% macro regexp_like(text, pattern) -%}
    {{ return(adapter.dispatch('regexp_like', 'ai_outcomes_warehouse')(text, pattern)) }}
{%- endmacro %}
{% macro default__regexp_like(text, pattern) -%}
    coalesce({{ text }} ~ {{ pattern }}, false)
{%- endmacro %}
{% macro duckdb__regexp_like(text, pattern) -%}
    coalesce(regexp_matches({{ text }}, {{ pattern }}), false)
{%- endmacro %}
{% macro spark__regexp_like(text, pattern) -%}
    coalesce({{ text }} rlike {{ spark_regex_literal(pattern) }}, false)
{%- endmacro %}

{#- Group `group` of every match of `pattern` in `text`, one row per match. Use it as a
    select-list expression over a single source row: `select id, {{ regexp_matches_unnested(
    'body', "'x(\\d+)'", 1) }} as n from t`. -#}
{% macro regexp_matches_unnested(text, pattern, group=0) -%}
    {{ return(adapter.dispatch('regexp_matches_unnested', 'ai_outcomes_warehouse')(text, pattern, group)) }}
{%- endmacro %}
{% macro default__regexp_matches_unnested(text, pattern, group=0) -%}
    (regexp_matches({{ text }}, {{ pattern }}, 'g'))[{{ group if group else 1 }}]
{%- endmacro %}
{% macro duckdb__regexp_matches_unnested(text, pattern, group=0) -%}
    unnest(regexp_extract_all({{ text }}, {{ pattern }}, {{ group }}))
{%- endmacro %}
{% macro spark__regexp_matches_unnested(text, pattern, group=0) -%}
    explode(regexp_extract_all({{ text }}, {{ spark_regex_literal(pattern) }}, {{ group }}))
{%- endmacro %}

{#- Several groups of every match of `pattern` in `text`, one row per match: select-list
    columns `groups` = [(group, column name), ...], side by side as one match gave them. Spark
    allows one generator per select, so the columns come from a single one there. -#}
{% macro regexp_match_groups_unnested(text, pattern, groups) -%}
    {{ return(adapter.dispatch('regexp_match_groups_unnested', 'ai_outcomes_warehouse')(text, pattern, groups)) }}
{%- endmacro %}
{% macro default__regexp_match_groups_unnested(text, pattern, groups) -%}
    {%- for group, name in groups %}
        {{ regexp_matches_unnested(text, pattern, group) }} as {{ name }}{{ "," if not loop.last }}
    {%- endfor %}
{%- endmacro %}
{% macro spark__regexp_match_groups_unnested(text, pattern, groups) -%}
    inline(arrays_zip(
    {%- for group, _ in groups %}
        regexp_extract_all({{ text }}, {{ spark_regex_literal(pattern) }}, {{ group }}){{ "," if not loop.last }}
    {%- endfor %}
    )) as ({% for _, name in groups %}{{ name }}{{ ", " if not loop.last }}{% endfor %})
{%- endmacro %}

{#- RE2's word boundary \b, for patterns that need one: ASCII word characters
    [A-Za-z0-9_] on one side and none (or an end) on the other. PostgreSQL's \b is a
    backspace and its \y follows the database's character classes (letters of every script
    in a UTF-8 database): `default__` spells the ASCII boundary with look-around. -#}
{% macro regexp_word_boundary() -%}
    {{ return(adapter.dispatch('regexp_word_boundary', 'ai_outcomes_warehouse')()) }}
{%- endmacro %}
{% macro default__regexp_word_boundary() -%}
    {{ return('(?:(?<=[A-Za-z0-9_])(?![A-Za-z0-9_])|(?<![A-Za-z0-9_])(?=[A-Za-z0-9_]))') }}
{%- endmacro %}
{% macro duckdb__regexp_word_boundary() -%}
    {{ return('\\b') }}
{%- endmacro %}
{#- Spark takes `default__`'s ASCII boundary: Java's \b follows Unicode letters before JDK 19. -#}

{#- A pattern for Spark's SQL parser, which reads a backslash in a string literal as an escape
    ('\.' is '.'): a quoted literal's backslashes are doubled so the regular expression
    receives them. Any other expression is left as it is. -#}
{% macro spark_regex_literal(pattern) -%}
    {%- set text = pattern | trim -%}
    {%- if text.startswith("'") and text.endswith("'") -%}
        {{ text.replace('\\', '\\\\') }}
    {%- else -%}
        {{ pattern }}
    {%- endif -%}
{%- endmacro %}

{#- The word characters of every script, letters and digits and `_`, as the inside of a
    bracket expression (`[...]`, `[^...]`): RE2's \p{L}\p{N}_. PostgreSQL has no Unicode
    properties; its [:alnum:] follows the database's LC_CTYPE, which in a UTF-8 locale
    (C.UTF-8, en_US.UTF-8...) holds the letters and decimal digits of every script. -#}
{% macro regexp_word_characters() -%}
    {{ return(adapter.dispatch('regexp_word_characters', 'ai_outcomes_warehouse')()) }}
{%- endmacro %}
{% macro default__regexp_word_characters() -%}
    {{ return('[:alnum:]_') }}
{%- endmacro %}
{% macro duckdb__regexp_word_characters() -%}
    {{ return('\\p{L}\\p{N}_') }}
{%- endmacro %}
{% macro spark__regexp_word_characters() -%}
    {{ return('\\p{L}\\p{N}_') }}
{%- endmacro %}
