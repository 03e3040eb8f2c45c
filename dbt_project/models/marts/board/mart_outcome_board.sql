{#- The outcome board (docs/metrics.md section 10): what each team, and each person in a team big
    enough not to single anyone out, turned into outcomes per month. Output only: there is no
    token or spend ranking here, and no rank column at all. A team row's cost per surviving PR
    is mart_cost_per_outcome's (read, not recomputed); a person row's is the same formula over
    the person's attributed spend and surviving PRs, shown nowhere else. Teams are reporting
    groups (macros/reporting_group.sql, the no-team group among the other teams): no row
    describes fewer than min_group_size people; team_size is the people of the row's group.
    Each figure is null when a source it needs is not available, with the reason. -#}
{%- set needs = {
    'github': ['shipped_prs', 'surviving_prs', 'observed_prs', 'bugs_per_shipped_pr',
               'review_hours_on_others_prs', 'cost_per_surviving_pr'],
    'defects': ['bugs_per_shipped_pr'],
    'work_units': ['awus'],
    'billing': ['attributed_spend_usd', 'cost_per_surviving_pr'],
} -%}
with

prs as (

    select * from {{ ref('fct_pull_requests') }}

),

people as (

    select * from {{ ref('int_people') }}

),

team_sizes as (

    -- The people of each reporting group: a team's own on its rows and its people's rows, all
    -- the merged teams' on the other teams' rows.
    select distinct
        reporting_group as team_id,
        group_people as team_size
    from {{ ref('int_reporting_groups') }}

),

shipped as (

    -- Shipped PRs by the month they shipped; quality counts only PRs observed H days.
    select
        team_id,
        author_person_id as person_id,
        shipped_month as month_start,
        count(*) as shipped_prs,
        sum(case when survived then cast(1 as bigint) else 0 end) as surviving_prs,
        sum(case when survived is not null then cast(1 as bigint) else 0 end) as observed_prs,
        {{ exact_sum('case when survived is not null then defect_weight_within_h else 0 end', 1000000000000) }}
            as defect_weight
    from prs
    where shipped_at is not null
    group by team_id, author_person_id, shipped_month

),

review_given as (

    -- Review sessions are always on someone else's PR (the author never reviews their own).
    select
        {{ reporting_group('people.team_id') }} as team_id,
        sessions.reviewer_person_id as person_id,
        cast({{ dbt.date_trunc('month', 'sessions.started_at') }} as date) as month_start,
        {{ exact_sum('sessions.minutes / 60.0', 3600000) }} as review_hours_on_others_prs
    from {{ ref('int_review_sessions') }} as sessions
    left join people
        on sessions.reviewer_person_id = people.person_id
    group by
        {{ reporting_group('people.team_id') }},
        sessions.reviewer_person_id,
        {{ dbt.date_trunc('month', 'sessions.started_at') }}

),

units as (

    select
        {{ reporting_group('team_id') }} as team_id,
        person_id,
        cast({{ dbt.date_trunc('month', 'completed_at') }} as date) as month_start,
        count(*) as awus
    from {{ ref('int_agentic_work_units') }}
    where awu_status = 'awu'
    group by
        {{ reporting_group('team_id') }},
        person_id,
        {{ dbt.date_trunc('month', 'completed_at') }}

),

spend as (

    -- Attributed spend: spend of a person (docs/metrics.md section 2). A team's shared keys'
    -- spend is unattributed for its team, as in mart_cost_per_outcome.
    select
        {{ reporting_group('team_id') }} as team_id,
        person_id,
        cast({{ dbt.date_trunc('month', 'day') }} as date) as month_start,
        sum(cost_usd) as attributed_spend_usd
    from {{ ref('int_ai_spend__daily') }}
    where person_id is not null
    group by
        {{ reporting_group('team_id') }},
        person_id,
        {{ dbt.date_trunc('month', 'day') }}

),

facts as (

    select
        team_id, person_id, month_start, shipped_prs, surviving_prs, observed_prs,
        defect_weight, 0 as awus, 0 as review_hours_on_others_prs, 0 as attributed_spend_usd
    from shipped
    union all
    select team_id, person_id, month_start, 0, 0, 0, 0, awus, 0, 0
    from units
    union all
    select team_id, person_id, month_start, 0, 0, 0, 0, 0, review_hours_on_others_prs, 0
    from review_given
    union all
    select team_id, person_id, month_start, 0, 0, 0, 0, 0, 0, attributed_spend_usd
    from spend

),

team_rows as (

    select
        'team' as board_level,
        month_start,
        team_id,
        cast(null as {{ dbt.type_string() }}) as person_id,
        sum(shipped_prs) as shipped_prs,
        sum(surviving_prs) as surviving_prs,
        sum(observed_prs) as observed_prs,
        {{ exact_sum('defect_weight', 1000000000000) }} as defect_weight,
        sum(awus) as awus,
        {{ exact_sum('review_hours_on_others_prs', 3600000) }} as review_hours_on_others_prs,
        sum(attributed_spend_usd) as attributed_spend_usd
    from facts
    group by month_start, team_id

),

person_rows as (

    -- Only people of a team that reports as itself (at least min_group_size people): nobody
    -- is ranked alone, and no merged team's people are shown beside the group that hides it.
    select
        'person' as board_level,
        facts.month_start,
        people.team_id,
        facts.person_id,
        sum(facts.shipped_prs) as shipped_prs,
        sum(facts.surviving_prs) as surviving_prs,
        sum(facts.observed_prs) as observed_prs,
        {{ exact_sum('facts.defect_weight', 1000000000000) }} as defect_weight,
        sum(facts.awus) as awus,
        {{ exact_sum('facts.review_hours_on_others_prs', 3600000) }}
            as review_hours_on_others_prs,
        sum(facts.attributed_spend_usd) as attributed_spend_usd
    from facts
    inner join people
        on facts.person_id = people.person_id
    where {{ reports_as_itself('people.team_id') }}
        and not people.is_bot
    group by facts.month_start, people.team_id, facts.person_id

),

board as (

    select * from team_rows
    union all
    select * from person_rows

),

costs as (

    select
        team_id,
        month,
        cost_per_surviving_pr
    from {{ ref('mart_cost_per_outcome') }}

),

final as (

    select
        board.board_level,
        board.month_start,
        board.team_id,
        board.person_id,
        people.display_name,
        team_sizes.team_size,
        {%- for figure in ['shipped_prs', 'surviving_prs', 'observed_prs'] %}
        {{ when_available(needs, figure, 'board.' ~ figure) }} as {{ figure }},
        {%- endfor %}
        {{ when_available(needs, 'bugs_per_shipped_pr',
            'cast(board.defect_weight as ' ~ type_double() ~ ') / nullif(board.observed_prs, 0)') }}
            as bugs_per_shipped_pr,
        {{ when_available(needs, 'awus', 'board.awus') }} as awus,
        {{ when_available(needs, 'review_hours_on_others_prs', 'board.review_hours_on_others_prs') }}
            as review_hours_on_others_prs,
        {{ when_available(needs, 'attributed_spend_usd', 'board.attributed_spend_usd') }}
            as attributed_spend_usd,
        {{ when_available(needs, 'cost_per_surviving_pr', "case
            when board.board_level = 'team' then costs.cost_per_surviving_pr
            else " ~ usd_per('board.attributed_spend_usd', 'board.surviving_prs') ~ "
        end") }} as cost_per_surviving_pr,
        {{ unavailable_reason(needs) }} as unavailable_reason,
        {{ stale_sources() }} as stale_sources
    from board
    left join people
        on board.person_id = people.person_id
    left join team_sizes
        on board.team_id = team_sizes.team_id
    left join costs
        on board.board_level = 'team'
            and board.team_id = costs.team_id
            and board.month_start = costs.month

)

select * from final
-- No group too small to hide in (docs/metrics.md section 11).
where {{ shown_group('team_id') }}
