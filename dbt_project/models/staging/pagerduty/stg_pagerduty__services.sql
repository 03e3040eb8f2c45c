with

source as (

    select * from {{ source_or_empty('pagerduty', 'services') }}

),

latest as (

    -- Re-read in full every run: the newest load wins.
    {{ latest_versions('source', 'id', '_dlt_load_id desc') }}

),

renamed as (

    select

        ----------  ids
        cast(id as {{ dbt.type_string() }}) as service_id,
        -- JSON array of PagerDuty team ids.
        team_ids as pagerduty_team_ids,

        ---------- text
        cast(name as {{ dbt.type_string() }}) as service_name,
        cast(description as {{ dbt.type_string() }}) as service_description,
        cast(status as {{ dbt.type_string() }}) as service_status,
        cast(html_url as {{ dbt.type_string() }}) as html_url,

        ---------- lineage
        _dlt_load_id as dlt_load_id

    from latest

)

select * from renamed
