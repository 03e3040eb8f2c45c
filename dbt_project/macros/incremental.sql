{#- How an incremental model replaces the rows a run rebuilds, per adapter: returned as
    config() arguments (`config(materialized='incremental', **incremental_strategy_config(...))`).

    `strategy`: the model's strategy where the adapter has it (delete+insert, merge; none:
    the adapter's default with the unique_key). `partition_by`: the date column whose whole
    partitions a run rebuilds, for adapters that replace partitions instead.

    Spark over plain Parquet has no delete+insert or merge: a run overwrites the partitions
    (days) it writes (insert_overwrite, dynamic partition overwrite) and leaves the others, so
    the model must write each partition it touches whole. -#}
{% macro incremental_strategy_config(strategy=none, partition_by=none) -%}
    {{ return(adapter.dispatch('incremental_strategy_config', 'ai_outcomes_warehouse')(strategy, partition_by)) }}
{%- endmacro %}
{% macro default__incremental_strategy_config(strategy, partition_by) -%}
    {{ return({'incremental_strategy': strategy} if strategy else {}) }}
{%- endmacro %}
{% macro spark__incremental_strategy_config(strategy, partition_by) -%}
    {%- if partition_by is none -%}
        {{ exceptions.raise_compiler_error(
            "Spark rebuilds incremental models by partition: name a partition_by column") }}
    {%- endif -%}
    {{ return({
        'incremental_strategy': 'insert_overwrite',
        'partition_by': [partition_by],
        'file_format': 'parquet',
    }) }}
{%- endmacro %}
