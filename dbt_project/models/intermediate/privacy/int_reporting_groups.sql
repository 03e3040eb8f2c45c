{#- The reporting group of every team (docs/metrics.md section 11), the one place that decides
    it. A team's people are the seed's members who are not bots: membership, not activity, so
    the groups are one fixed partition of the organisation, the same in every mart, month and
    week (a group that changed with each period's activity could be subtracted from its
    neighbours).
    - A team of at least var min_group_size people reports as itself.
    - Smaller teams and the no-team group (macros/no_team.sql: people of no team, unresolved
      actors, spend of no one) are merged into one group, var other_teams_label ("other").
    - While that group is still below the minimum, the smallest teams that would report as
      themselves join it, smallest first (ties by team id), until it reaches the minimum. The
      alternative, suppressing it, would not hide it: every mart's organisation total minus the
      teams shown would give it back, and the totals would no longer add up.
    - Only when the whole organisation is below the minimum is the group still too small:
      is_suppressed, and the marts drop its rows (macros/reporting_group.sql, shown_group). -#}
{%- set minimum = var('min_group_size') -%}
with

members as (

    select
        {{ team_or_no_team('team_id') }} as team_id,
        case when is_bot then 0 else 1 end as is_person
    from {{ ref('int_people') }}

    union all

    -- The no-team group exists even when every person of the seed has a team.
    select {{ team_or_no_team('null') }} as team_id, 0 as is_person

),

teams as (

    select
        team_id,
        sum(is_person) as people,
        team_id = {{ team_or_no_team('null') }} or sum(is_person) < {{ minimum }} as is_small
    from members
    group by team_id

),

small as (

    select coalesce(sum(people), 0) as people
    from teams
    where is_small

),

filling as (

    -- The people the merged group holds before each big team, smallest first.
    select
        teams.team_id,
        small.people + coalesce(sum(teams.people) over (
            order by teams.people, teams.team_id
            rows between unbounded preceding and 1 preceding
        ), 0) as other_people_before
    from teams
    cross join small
    where not teams.is_small

),

assigned as (

    select
        teams.team_id,
        teams.people,
        case
            when teams.is_small or filling.other_people_before < {{ minimum }}
                then {{ other_teams_label() }}
            else teams.team_id
        end as reporting_group
    from teams
    left join filling
        on teams.team_id = filling.team_id

),

final as (

    select
        team_id,
        people,
        reporting_group,
        sum(people) over (partition by reporting_group) as group_people,
        sum(people) over (partition by reporting_group) < {{ minimum }} as is_suppressed
    from assigned

)

select * from final
