{#- Which sources a build rests on, and the figures that need them.

    A source is *available* when the load log `ops.source_loads` has a `loaded` row for it,
    or, when the log has no row for it (or does not exist: a warehouse loaded before it), when
    the warehouse holds any of its raw tables or a completed dlt load of it. A configured
    source whose reports were all empty is available: its zeros are true zeros. Models read
    that from int_source_availability; the relations below are built in macros, not dbt
    sources, so that neither the log nor dlt's bookkeeping becomes a (phantom) Dagster asset,
    and so that no model is made to depend on every source's raw tables. -#}

{#- The load log (pipelines/ingest/loads.py), or an empty relation of its columns when the warehouse
    has none. -#}
{% macro source_loads_relation() -%}
    {%- set log = adapter.get_relation(database=target.database, schema='ops',
                                       identifier='source_loads') if execute else none -%}
    {%- if log is not none -%}
        (select source, status, detail, started_at, finished_at from {{ log }}) as source_loads
    {%- else -%}
        (select
            cast(null as {{ dbt.type_string() }}) as source,
            cast(null as {{ dbt.type_string() }}) as status,
            cast(null as {{ dbt.type_string() }}) as detail,
            cast(null as {{ raw_type('TIMESTAMP WITH TIME ZONE') }}) as started_at,
            cast(null as {{ raw_type('TIMESTAMP WITH TIME ZONE') }}) as finished_at
        where 1 = 0) as source_loads
    {%- endif -%}
{%- endmacro %}

{#- dlt's record of the completed loads of one source (`raw_<source>._dlt_loads`, status 0),
    or an empty relation when the source was never loaded. -#}
{% macro dlt_loads_relation(source_name) -%}
    {%- set schema = raw_columns()[source_name]['schema'] -%}
    {%- set loads = adapter.get_relation(database=target.database, schema=schema,
                                         identifier='_dlt_loads') if execute else none -%}
    {%- if loads is not none -%}
        (select load_id, inserted_at from {{ loads }} where status = 0)
    {%- else -%}
        (select
            cast(null as {{ dbt.type_string() }}) as load_id,
            cast(null as {{ raw_type('TIMESTAMP WITH TIME ZONE') }}) as inserted_at
        where 1 = 0)
    {%- endif -%}
{%- endmacro %}

{#- How many of the source's declared raw tables exist in the warehouse (at compile time,
    which in a build is just before the model runs). -#}
{% macro raw_tables_present(source_name) -%}
    {%- set spec = raw_columns()[source_name] -%}
    {%- set present = [] -%}
    {%- if execute -%}
        {%- for table in spec['tables'] -%}
            {%- if adapter.get_relation(database=target.database, schema=spec['schema'],
                                        identifier=table) is not none -%}
                {%- do present.append(table) -%}
            {%- endif -%}
        {%- endfor -%}
    {%- endif -%}
    {{ return(present | length) }}
{%- endmacro %}

{#- What each kind of figure needs, in one place. A requirement is met when all the sources of
    one of its alternatives are available. The marts name the requirements of their figures
    (see when_available). -#}
{% macro figure_requirements() -%}
    {{ return({
        'github': {'missing': 'GitHub is not available', 'alternatives': [['github']]},
        'jira': {'missing': 'Jira is not available', 'alternatives': [['jira']]},
        'pagerduty': {'missing': 'PagerDuty is not available', 'alternatives': [['pagerduty']]},
        'billing': {'missing': 'no billing source (Anthropic or OpenAI) is available',
                    'alternatives': [['anthropic'], ['openai']]},
        'defects': {'missing': 'no defect source (Jira or PagerDuty) is available',
                    'alternatives': [['jira'], ['pagerduty']]},
        'work_units': {
            'missing': 'no source of work units (Jira with GitHub, or PagerDuty) is available',
            'alternatives': [['jira', 'github'], ['pagerduty']]},
    }) }}
{%- endmacro %}

{#- True (SQL) when the source is available in this build. -#}
{% macro source_available(source_name) -%}
    coalesce((
        select availability.is_available
        from {{ ref('int_source_availability') }} as availability
        where availability.source = '{{ source_name }}'
    ), false)
{%- endmacro %}

{#- True (SQL) when every requirement in `requirements` is met. -#}
{% macro requirements_met(requirements) -%}
    {%- set known = figure_requirements() -%}
    {%- set clauses = [] -%}
    {%- for requirement in requirements -%}
        {%- set alternatives = [] -%}
        {%- for sources in known[requirement]['alternatives'] -%}
            {%- set checks = [] -%}
            {%- for source_name in sources -%}
                {%- do checks.append(source_available(source_name)) -%}
            {%- endfor -%}
            {%- do alternatives.append("(" ~ (checks | join(" and ")) ~ ")") -%}
        {%- endfor -%}
        {%- do clauses.append("(" ~ (alternatives | join(" or ")) ~ ")") -%}
    {%- endfor -%}
    ({{ clauses | join(" and ") }})
{%- endmacro %}

{#- `expression`, or null when a requirement of `figure` is not met. `needs` maps each
    requirement to the figures (column names) that need it, declared once per mart:
    {'github': ['shipped_prs', ...], 'billing': [...]}. A figure in no list needs nothing more
    than the rows it is on. -#}
{% macro when_available(needs, figure, expression) -%}
    {%- set requirements = [] -%}
    {%- for requirement, figures in needs.items() if figure in figures -%}
        {%- do requirements.append(requirement) -%}
    {%- endfor -%}
    {%- if requirements -%}
        case when {{ requirements_met(requirements) }} then {{ expression }} end
    {%- else -%}
        {{ expression }}
    {%- endif -%}
{%- endmacro %}

{#- Why figures of the row are null: one sentence per unmet requirement of `needs`, e.g.
    "PagerDuty is not available: rolled_back_within_h is unknown", joined by "; "; null when
    every figure is computable. Which sources are loaded, and what each feeds, is in
    mart_source_coverage. -#}
{% macro unavailable_reason(needs) -%}
    {%- set known = figure_requirements() -%}
    {%- set parts = [] -%}
    {%- for requirement, figures in needs.items() -%}
        {%- set sentence = known[requirement]['missing'] ~ ': '
            ~ (figures | join(', ')) ~ (' are' if figures | length > 1 else ' is') ~ ' unknown' -%}
        {%- do parts.append(
            "case when not " ~ requirements_met([requirement])
            ~ " then '" ~ sentence ~ "; ' else '' end") -%}
    {%- endfor -%}
    nullif({{ rtrim_characters(dbt.concat(parts) if parts | length > 1 else parts[0], "'; '") }}, '')
{%- endmacro %}

{#- The sources this model reads (from the dbt graph, as mart_source_coverage's feeds_marts)
    whose latest load attempt failed, comma-separated: their figures rest on their last
    successful load, the others' are current. Null when none is stale. When each last loaded,
    and why the latest attempt failed, is in mart_source_coverage. -#}
{% macro stale_sources() -%}
    {%- set names = upstream_source_names(model.unique_id, {}) if execute else [] -%}
    {%- if names -%}
    (
        select {{ dbt.listagg('availability.source', "', '", 'order by availability.source') }}
        from {{ ref('int_source_availability') }} as availability
        where availability.is_stale
            and availability.source in ('{{ names | sort | join("', '") }}')
    )
    {%- else -%}
    cast(null as {{ dbt.type_string() }})
    {%- endif -%}
{%- endmacro %}
