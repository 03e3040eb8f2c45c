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
