with

source as (

    select * from {{ source_or_empty('pagerduty', 'users') }}

),

latest as (

    -- Re-read in full every run: the newest load wins.
    {{ latest_versions('source', 'id', '_dlt_load_id desc') }}

),

renamed as (

    select

        ----------  ids
        cast(id as {{ dbt.type_string() }}) as pagerduty_user_id,
        -- JSON array of PagerDuty team ids.
        team_ids as pagerduty_team_ids,

        ---------- text
        cast(name as {{ dbt.type_string() }}) as user_name,
        cast(email as {{ dbt.type_string() }}) as email,
        cast(role as {{ dbt.type_string() }}) as user_role,
        cast(time_zone as {{ dbt.type_string() }}) as time_zone,
        cast(html_url as {{ dbt.type_string() }}) as html_url,

        ---------- lineage
        _dlt_load_id as dlt_load_id

    from latest

)

select * from renamed
