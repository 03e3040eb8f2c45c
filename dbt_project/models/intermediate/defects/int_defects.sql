with

work_items as (

    select * from {{ ref('int_work_items') }}

),

incidents as (

    select * from {{ ref('int_incidents') }}

),

bugs as (

    select
        work_item_key as defect_id,
        'work_item' as defect_kind,
        title,
        project_key,
        cast(null as {{ dbt.type_string() }}) as service_id,
        team_id,
        created_at,
        -- Jira's resolution date; a bug done without one is resolved when it reached done.
        coalesce(resolved_at, done_at) as resolved_at
    from work_items
    where is_defect

),

incident_defects as (

    select
        incident_id as defect_id,
        'incident' as defect_kind,
        incident_title as title,
        cast(null as {{ dbt.type_string() }}) as project_key,
        service_id,
        team_id,
        created_at,
        resolved_at
    from incidents

),

final as (

    select * from bugs
    union all
    select * from incident_defects

)

select * from final
