{#- Attribution finds the PRs behind a defect: without GitHub every defect would look
    unattributed, so the split is unknown (the defects themselves are still counted). -#}
{%- set needs = {'github': ['attributed_defects', 'unattributed_defects', 'explicit_defects',
                            'work_item_rule_defects', 'deployment_rule_defects',
                            'time_rule_defects', 'unattributed_share']} -%}
with

attribution as (

    select * from {{ ref('int_defect_attribution') }}

),

defects as (

    -- One row per defect: its rule (unattributed when no rule found a cause).
    select distinct
        defect_id,
        defect_kind,
        created_at,
        rule
    from attribution

),

final as (

    select

        ---------- the group
        cast({{ dbt.date_trunc('month', 'created_at') }} as date) as created_month,
        defect_kind,

        ---------- defects
        count(*) as defects,
        {%- for column, condition in [
            ('attributed_defects', "rule <> 'unattributed'"),
            ('unattributed_defects', "rule = 'unattributed'"),
            ('explicit_defects', "rule = 'explicit'"),
            ('work_item_rule_defects', "rule = 'work_item'"),
            ('deployment_rule_defects', "rule = 'deployment'"),
            ('time_rule_defects', "rule = 'time'"),
        ] %}
        {{ when_available(needs, column,
            'sum(case when ' ~ condition ~ ' then cast(1 as bigint) else 0 end)') }} as {{ column }},
        {%- endfor %}

        ---------- share
        {{ when_available(needs, 'unattributed_share',
            "cast(sum(case when rule = 'unattributed' then cast(1 as bigint) else 0 end)
                as " ~ type_double() ~ ") / count(*)") }}
            as unattributed_share,

        ---------- figures null for want of a source
        {{ unavailable_reason(needs) }} as unavailable_reason

    from defects
    group by {{ dbt.date_trunc('month', 'created_at') }}, defect_kind

)

select * from final
