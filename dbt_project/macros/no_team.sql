{#- The one rule for work and spend whose team is unknown: people with no team in the people
    seed (bots among them), actors no identity rule resolved, work items and incidents no team
    was found for. Every mart with a team column keeps them, in one group whose team_id is the
    var no_team_label (default "(no team)"): never null, never dropped, so each mart's totals are
    the organisation's. Spend that belongs to no person (a team's shared key, an unattributed
    key) is not a person's: it stays with the key's team, or, with none, in the no-team group
    as spend not attributed to anyone. Organisation-wide rows (mart_waste_share's scope
    `organisation`) have no team at all. Intermediate models keep team_id null; the marts apply
    this where they group by team. -#}
{% macro team_or_no_team(team_id) -%}
    coalesce({{ team_id }}, '{{ var("no_team_label") | replace("'", "''") }}')
{%- endmacro %}
