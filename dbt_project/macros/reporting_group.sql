{#- Privacy by group (docs/metrics.md section 11): every mart with a team column shows a team's
    reporting group, never a team too small to hide in. int_reporting_groups decides the group
    of each team; these macros are how the marts read it. -#}

{#- The label of the merged group of small teams and the no-team group: "other teams". -#}
{% macro other_teams_label() -%}
    '{{ var("other_teams_label") | replace("'", "''") }}'
{%- endmacro %}

{#- The reporting group of a team column (null = no team, macros/no_team.sql): the team, when
    it reports as itself, else the other teams. A team the people seed does not know (a key's
    or a service's team with no people) has no one to hide behind: it is one of the other
    teams. An expression, not a join, so each mart swaps it in where it called team_or_no_team,
    in its select and its group by alike; the subquery does not refer to the mart's columns
    (a correlated one would bind an unqualified `team_id` to the groups' own). -#}
{% macro reporting_group(team_id) -%}
    case
        when {{ reports_as_itself(team_or_no_team(team_id)) }}
            then {{ team_or_no_team(team_id) }}
        else {{ other_teams_label() }}
    end
{%- endmacro %}

{#- True for a row a reader may see: its group holds at least min_group_size people. Only the
    other teams can fall short, when the whole organisation does; their rows are then
    suppressed. A null team (an organisation-wide row) is shown. -#}
{% macro shown_group(group_column) -%}
    (
        {{ group_column }} is null
        or {{ group_column }} in (
            select reporting_groups.reporting_group
            from {{ ref('int_reporting_groups') }} as reporting_groups
            where not reporting_groups.is_suppressed
        )
    )
{%- endmacro %}

{#- True for a team that reports as itself (at least min_group_size people, not merged): only
    its people get person rows (mart_outcome_board, mart_spend_vs_output). -#}
{% macro reports_as_itself(team_id) -%}
    {{ team_id }} in (
        select reporting_groups.team_id
        from {{ ref('int_reporting_groups') }} as reporting_groups
        where reporting_groups.reporting_group = reporting_groups.team_id
    )
{%- endmacro %}
