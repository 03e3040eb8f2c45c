{#- No row of the model describes fewer than var min_group_size people (docs/metrics.md
    section 11). The people of each group the model shows in `column_name` are counted afresh
    from int_people (seed members, bots not counted), through the team -> group map of
    int_reporting_groups: a mart that shows a team instead of its group (a team merged into the
    other teams has no people of its own group), or a map that lets a small team report as
    itself, fails, naming the group and its people. Null (an organisation-wide row) is not a
    group. Usage: data_tests: [describes_enough_people] on the team column; restrict to team
    rows with config: {where: "..."}. -#}
{% test describes_enough_people(model, column_name) %}

with

groups as (

    select team_id, reporting_group
    from {{ ref('int_reporting_groups') }}

),

group_people as (

    select
        coalesce(groups.reporting_group, {{ other_teams_label() }}) as reporting_group,
        count(*) as people
    from {{ ref('int_people') }} as people
    left join groups
        on groups.team_id = {{ team_or_no_team('people.team_id') }}
    where not people.is_bot
    group by coalesce(groups.reporting_group, {{ other_teams_label() }})

),

shown as (

    select
        {{ column_name }} as reporting_group,
        count(*) as mart_rows
    from {{ model }}
    where {{ column_name }} is not null
    group by {{ column_name }}

)

select
    shown.reporting_group,
    shown.mart_rows,
    coalesce(group_people.people, 0) as people
from shown
left join group_people
    on shown.reporting_group = group_people.reporting_group
where coalesce(group_people.people, 0) < {{ var('min_group_size') }}

{% endtest %}
