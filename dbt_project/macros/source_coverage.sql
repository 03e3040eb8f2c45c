{#- The marts each source feeds, from the dbt graph at compile time: {source: [mart names]}.
    A mart is fed by a source when a model upstream of it reads one of that source's raw
    tables (`source()`, which source_or_empty calls). mart_source_coverage itself is left out:
    it reads every source to describe them. Empty at parse time (no graph yet). -#}
{% macro marts_fed_by_source() -%}
    {%- set feeds = {} -%}
    {%- if execute -%}
        {%- set memo = {} -%}
        {%- for node in graph.nodes.values()
            if node.resource_type == 'model' and node.fqn[1] == 'marts'
            and node.name != 'mart_source_coverage' -%}
            {%- for source_name in upstream_source_names(node.unique_id, memo) -%}
                {%- do feeds.setdefault(source_name, []).append(node.name) -%}
            {%- endfor -%}
        {%- endfor -%}
    {%- endif -%}
    {%- for source_name in feeds -%}
        {%- do feeds.update({source_name: feeds[source_name] | sort}) -%}
    {%- endfor -%}
    {{ return(feeds) }}
{%- endmacro %}

{#- The names of the sources a node reads, directly or through its parents (memoised in
    `memo`, unique id -> names). -#}
{% macro upstream_source_names(unique_id, memo) -%}
    {%- if unique_id not in memo -%}
        {%- set found = [] -%}
        {%- if unique_id in graph.sources -%}
            {%- do found.append(graph.sources[unique_id].source_name) -%}
        {%- elif unique_id in graph.nodes -%}
            {%- for parent in graph.nodes[unique_id].depends_on.nodes -%}
                {%- for source_name in upstream_source_names(parent, memo) -%}
                    {%- if source_name not in found -%}
                        {%- do found.append(source_name) -%}
                    {%- endif -%}
                {%- endfor -%}
            {%- endfor -%}
        {%- endif -%}
        {%- do memo.update({unique_id: found}) -%}
    {%- endif -%}
    {{ return(memo[unique_id]) }}
{%- endmacro %}

{#- A raw table of a source for counting its rows: its dbt source through source_or_empty (a
    child table `<parent>__<child>` through its parent), or, for the quarantine table, which no
    model reads, the table itself or an empty relation. -#}
{% macro raw_table_or_empty(source_name, table_name) -%}
    {%- if table_name == 'quarantine' -%}
        {%- set schema = raw_columns()[source_name]['schema'] -%}
        {%- set relation = adapter.get_relation(database=target.database, schema=schema,
                                                identifier=table_name) if execute else none -%}
        {%- if relation is not none -%}
            {{ relation }}
        {%- else -%}
            (select cast(null as timestamp) as resolved_at where 1 = 0) as {{ source_name }}_quarantine_empty
        {%- endif -%}
    {%- elif '__' in table_name -%}
        {%- set parent, child = table_name.split('__', 1) -%}
        {{ source_or_empty(source_name, parent, child=child) }}
    {%- else -%}
        {{ source_or_empty(source_name, table_name) }}
    {%- endif -%}
{%- endmacro %}
