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
        sum(case when rule = 'unattributed' then 0 else 1 end) as attributed_defects,
        sum(case when rule = 'unattributed' then 1 else 0 end) as unattributed_defects,
        sum(case when rule = 'explicit' then 1 else 0 end) as explicit_defects,
        sum(case when rule = 'work_item' then 1 else 0 end) as work_item_rule_defects,
        sum(case when rule = 'deployment' then 1 else 0 end) as deployment_rule_defects,
        sum(case when rule = 'time' then 1 else 0 end) as time_rule_defects,

        ---------- share
        1.0 * sum(case when rule = 'unattributed' then 1 else 0 end) / count(*)
            as unattributed_share

    from defects
    group by {{ dbt.date_trunc('month', 'created_at') }}, defect_kind

)

select * from final
