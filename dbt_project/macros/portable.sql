{#- Portable helpers for what dbt's cross-database macros do not cover. Each dispatches:
    `default__` is standard SQL / Postgres, `duckdb__` the DuckDB form. Add an adapter by
    adding its `<adapter>__` version. -#}

{#- Exact minutes from `start` to `finish` (fractional; negative when finish is earlier).
    dbt.datediff counts boundaries crossed, which is not elapsed time. -#}
{% macro minutes_between(start, finish) -%}
    {{ return(adapter.dispatch('minutes_between', 'ai_outcomes')(start, finish)) }}
{%- endmacro %}
{% macro default__minutes_between(start, finish) -%}
    (extract(epoch from ({{ finish }} - {{ start }})) / 60.0)
{%- endmacro %}
{% macro duckdb__minutes_between(start, finish) -%}
    ((epoch({{ finish }}) - epoch({{ start }})) / 60.0)
{%- endmacro %}

{#- True when `text` matches the regular expression `pattern` anywhere. -#}
{% macro regexp_like(text, pattern) -%}
    {{ return(adapter.dispatch('regexp_like', 'ai_outcomes')(text, pattern)) }}
{%- endmacro %}
{% macro default__regexp_like(text, pattern) -%}
    coalesce({{ text }} ~ {{ pattern }}, false)
{%- endmacro %}
{% macro duckdb__regexp_like(text, pattern) -%}
    coalesce(regexp_matches({{ text }}, {{ pattern }}), false)
{%- endmacro %}

{#- Group `group` of every match of `pattern` in `text`, one row per match. Use it as a
    select-list expression over a single source row: `select id, {{ regexp_matches_unnested(
    'body', "'x(\\d+)'", 1) }} as n from t`. -#}
{% macro regexp_matches_unnested(text, pattern, group=0) -%}
    {{ return(adapter.dispatch('regexp_matches_unnested', 'ai_outcomes')(text, pattern, group)) }}
{%- endmacro %}
{% macro default__regexp_matches_unnested(text, pattern, group=0) -%}
    (regexp_matches({{ text }}, {{ pattern }}, 'g'))[{{ group if group else 1 }}]
{%- endmacro %}
{% macro duckdb__regexp_matches_unnested(text, pattern, group=0) -%}
    unnest(regexp_extract_all({{ text }}, {{ pattern }}, {{ group }}))
{%- endmacro %}

{#- Every part of `text` split on `delimiter`, one row per part (select-list expression). -#}
{% macro split_unnested(text, delimiter) -%}
    {{ return(adapter.dispatch('split_unnested', 'ai_outcomes')(text, delimiter)) }}
{%- endmacro %}
{% macro default__split_unnested(text, delimiter) -%}
    regexp_split_to_table({{ text }}, {{ delimiter }})
{%- endmacro %}
{% macro duckdb__split_unnested(text, delimiter) -%}
    unnest(string_split({{ text }}, {{ delimiter }}))
{%- endmacro %}

{#- Every element of a JSON array of strings, one row per element (select-list expression). -#}
{% macro json_strings_unnested(json_array) -%}
    {{ return(adapter.dispatch('json_strings_unnested', 'ai_outcomes')(json_array)) }}
{%- endmacro %}
{% macro default__json_strings_unnested(json_array) -%}
    jsonb_array_elements_text(cast({{ json_array }} as jsonb))
{%- endmacro %}
{% macro duckdb__json_strings_unnested(json_array) -%}
    unnest(cast(json_extract_string({{ json_array }}, '$[*]') as varchar[]))
{%- endmacro %}

{#- A string field of a JSON object (null when absent). -#}
{% macro json_string_field(json_object, field) -%}
    {{ return(adapter.dispatch('json_string_field', 'ai_outcomes')(json_object, field)) }}
{%- endmacro %}
{% macro default__json_string_field(json_object, field) -%}
    (cast({{ json_object }} as jsonb) ->> '{{ field }}')
{%- endmacro %}
{% macro duckdb__json_string_field(json_object, field) -%}
    json_extract_string({{ json_object }}, '$.{{ field }}')
{%- endmacro %}

{#- The sum of a float expression, independent of the order rows arrive in: each value is
    rounded to 1/scale and summed as an integer. A plain float sum can differ in its last bit
    between two builds (an incremental run and a full refresh) that read rows in another
    order. scale 3600000 keeps hours to the millisecond; 1e12 keeps fractional defect weights. -#}
{% macro exact_sum(expression, scale) -%}
    (sum(cast(round(({{ expression }}) * {{ scale }}) as {{ dbt.type_bigint() }}))
        / cast({{ scale }} as double precision))
{%- endmacro %}

{#- The latest version of each record of `relation` (a CTE or relation): one row per
    `partition_by`, the first by `order_by`. Loaders merge on the vendor id, so in staging this
    is a guard: a replayed or appended load never fans a record out downstream. -#}
{% macro latest_versions(relation, partition_by, order_by) -%}
    select *
    from (
        select
            *,
            row_number() over (partition by {{ partition_by }} order by {{ order_by }})
                as version_rank
        from {{ relation }}
    ) as versions
    where version_rank = 1
{%- endmacro %}

{#- The GitHub login of a noreply address `ID+login@users.noreply.github.com` (lower case),
    null for any other address: identity resolution matches it against people.github_login. -#}
{% macro noreply_github_login(email) -%}
    case
        when {{ regexp_like('lower(' ~ email ~ ')', "'^[0-9]+[+][^@]+@users[.]noreply[.]github[.]com$'") }}
            then {{ dbt.split_part(dbt.split_part('lower(' ~ email ~ ')', "'@'", 1), "'+'", 2) }}
    end
{%- endmacro %}
