with

incidents as (

    select * from {{ ref('stg_pagerduty__incidents') }}

),

services as (

    select * from {{ ref('stg_pagerduty__services') }}

),

pagerduty_users as (

    select * from {{ ref('stg_pagerduty__users') }}

),

people as (

    select * from {{ ref('int_people') }}

),

user_teams as (

    select
        pagerduty_user_id,
        {{ json_strings_unnested('pagerduty_team_ids') }} as pagerduty_team_id
    from pagerduty_users

),

pagerduty_team_votes as (

    -- A PagerDuty team is the identity seed's team most of its (resolved) users belong to.
    select
        user_teams.pagerduty_team_id,
        people.team_id,
        count(*) as votes
    from user_teams
    inner join people
        on user_teams.pagerduty_user_id = people.pagerduty_user_id
    where people.team_id is not null
    group by user_teams.pagerduty_team_id, people.team_id

),

incident_pagerduty_teams as (

    -- The incident's own PagerDuty teams, else its service's.
    select
        incident_id,
        {{ json_strings_unnested('pagerduty_team_ids') }} as pagerduty_team_id,
        1 as source_order
    from incidents
    union all
    select
        incidents.incident_id,
        {{ json_strings_unnested('services.pagerduty_team_ids') }} as pagerduty_team_id,
        2 as source_order
    from incidents
    inner join services
        on incidents.service_id = services.service_id

),

incident_teams as (

    select
        incident_id,
        team_id
    from (
        select
            incident_pagerduty_teams.incident_id,
            pagerduty_team_votes.team_id,
            row_number() over (
                partition by incident_pagerduty_teams.incident_id
                order by
                    incident_pagerduty_teams.source_order asc,
                    pagerduty_team_votes.votes desc,
                    pagerduty_team_votes.team_id asc
            ) as team_rank
        from incident_pagerduty_teams
        inner join pagerduty_team_votes
            on incident_pagerduty_teams.pagerduty_team_id = pagerduty_team_votes.pagerduty_team_id
    ) as ranked
    where team_rank = 1

),

final as (

    select

        ----------  ids
        incidents.incident_id,
        incidents.incident_number,
        incidents.service_id,
        incident_teams.team_id,

        ---------- text
        incidents.incident_title,
        incidents.incident_description,
        incidents.incident_status,
        incidents.urgency,
        incidents.service_name,
        incidents.html_url,

        ---------- timestamps (UTC)
        incidents.created_at,
        incidents.resolved_at,
        {{ minutes_between('incidents.created_at', 'incidents.resolved_at') }} / 60.0
            as resolution_hours

    from incidents
    left join incident_teams
        on incidents.incident_id = incident_teams.incident_id

)

select * from final
