with

people as (

    select * from {{ ref('people') }}

),

renamed as (

    select

        ----------  ids
        cast(person_id as {{ dbt.type_string() }}) as person_id,
        cast(nullif(trim(github_login), '') as {{ dbt.type_string() }}) as github_login,
        cast(nullif(trim(jira_account_id), '') as {{ dbt.type_string() }}) as jira_account_id,
        cast(nullif(trim(pagerduty_user_id), '') as {{ dbt.type_string() }})
            as pagerduty_user_id,

        ---------- attributes
        cast(display_name as {{ dbt.type_string() }}) as display_name,
        cast(nullif(trim(team), '') as {{ dbt.type_string() }}) as team_id,
        cast(role as {{ dbt.type_string() }}) as role,
        -- ';'-separated work emails, as the seed keeps them (one row each in int_identities).
        cast(nullif(trim(emails), '') as {{ dbt.type_string() }}) as emails,

        ---------- booleans
        coalesce(is_bot, false)
        or coalesce({{ dbt.right('github_login', 5) }} = '[bot]', false) as is_bot

    from people

)

select * from renamed
