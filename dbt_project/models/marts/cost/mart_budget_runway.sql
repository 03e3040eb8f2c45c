{#- Budget and runway per budget row of seed ai_budgets (docs/metrics.md section 9), as of the
    as-of date (the last reported day is as-of - 1). A team's spend is all spend with its
    team_id (its people's and its team-only keys'); the organisation's is all spend.
    - spend_to_date_usd: spend from period_start to period_end or as-of - 1, whichever is first.
    - trailing_28d_daily_run_rate: the scope's spend over the 28 days ending as-of - 1, / 28.
    - days_left_in_period: days from the as-of day (or period_start, if later) to period_end,
      inclusive; 0 once the period is over.
    - projected_exhaustion_date: when the budget is already spent, the day cumulative spend in
      the period first reached it; otherwise, spending the run rate every day from the as-of
      day (or period_start, if later), the day cumulative spend reaches the remaining budget
      (start + ceil(remaining / rate) - 1); null when the rate is 0, the period is over, or that
      day falls after period_end (the budget lasts the period).
    Spend needs a billing source: without one every spend figure is null, with the reason.
    Team budgets are shown only for teams that report as themselves (docs/metrics.md
    section 11). -#}
{%- set needs = {'billing': ['spend_to_date_usd', 'trailing_28d_daily_run_rate', 'remaining_usd',
                             'projected_exhaustion_date', 'will_exhaust_before_period_end']} -%}
with

budgets as (

    select
        scope,
        nullif(trim(team), '') as team_id,
        period_start,
        period_end,
        usd as budget_usd
    from {{ ref('ai_budgets') }}

),

daily as (

    select
        day,
        team_id,
        sum(cost_usd) as cost_usd
    from {{ ref('int_ai_spend__daily') }}
    where day < {{ as_of_date() }}
    group by day, team_id

),

budget_days as (

    -- Every reported day of each budget's scope.
    select
        budgets.scope,
        budgets.team_id,
        budgets.period_start,
        daily.day,
        daily.cost_usd
    from budgets
    inner join daily
        on budgets.scope = 'org'
            or (budgets.scope = 'team' and budgets.team_id = daily.team_id)

),

period_days as (

    select
        budget_days.scope,
        budget_days.team_id,
        budget_days.period_start,
        budget_days.day,
        sum(budget_days.cost_usd) as cost_usd
    from budget_days
    inner join budgets
        on budget_days.scope = budgets.scope
            and budget_days.team_id is not distinct from budgets.team_id
            and budget_days.period_start = budgets.period_start
    where budget_days.day between budgets.period_start and budgets.period_end
    group by budget_days.scope, budget_days.team_id, budget_days.period_start, budget_days.day

),

cumulative as (

    select
        period_days.*,
        sum(cost_usd) over (
            partition by scope, team_id, period_start
            order by day
            rows between unbounded preceding and current row
        ) as cumulative_usd
    from period_days

),

exhausted as (

    select
        cumulative.scope,
        cumulative.team_id,
        cumulative.period_start,
        min(cumulative.day) as exhausted_on
    from cumulative
    inner join budgets
        on cumulative.scope = budgets.scope
            and cumulative.team_id is not distinct from budgets.team_id
            and cumulative.period_start = budgets.period_start
    where cumulative.cumulative_usd >= budgets.budget_usd
    group by cumulative.scope, cumulative.team_id, cumulative.period_start

),

to_date as (

    select
        scope,
        team_id,
        period_start,
        sum(cost_usd) as spend_to_date_usd
    from period_days
    group by scope, team_id, period_start

),

trailing_window as (

    select
        scope,
        team_id,
        period_start,
        sum(cost_usd) as trailing_28d_usd
    from budget_days
    where day >= {{ dbt.dateadd('day', -28, as_of_date()) }}
    group by scope, team_id, period_start

),

measured as (

    select
        budgets.scope,
        budgets.team_id,
        budgets.period_start,
        budgets.period_end,
        budgets.budget_usd,
        coalesce(to_date.spend_to_date_usd, 0) as spend_to_date_usd,
        cast(coalesce(trailing_window.trailing_28d_usd, 0) as {{ type_double() }}) / 28 as run_rate,
        budgets.budget_usd - coalesce(to_date.spend_to_date_usd, 0) as remaining_usd,
        case
            when budgets.period_start > {{ as_of_date() }} then budgets.period_start
            else {{ as_of_date() }}
        end as projection_start,
        exhausted.exhausted_on
    from budgets
    left join to_date
        on budgets.scope = to_date.scope
            and budgets.team_id is not distinct from to_date.team_id
            and budgets.period_start = to_date.period_start
    left join trailing_window
        on budgets.scope = trailing_window.scope
            and budgets.team_id is not distinct from trailing_window.team_id
            and budgets.period_start = trailing_window.period_start
    left join exhausted
        on budgets.scope = exhausted.scope
            and budgets.team_id is not distinct from exhausted.team_id
            and budgets.period_start = exhausted.period_start

),

projected as (

    select
        measured.*,
        cast(case
            when projection_start > period_end then 0
            else {{ dbt.datediff('projection_start', 'period_end', 'day') }} + 1
        end as bigint) as days_left_in_period,
        case
            when remaining_usd <= 0 then exhausted_on
            when projection_start > period_end then null
            when run_rate <= 0 then null
            else cast({{ dbt.dateadd(
                'day',
                'cast(ceil(cast(remaining_usd as ' ~ type_double() ~ ') / run_rate) as integer) - 1',
                'projection_start',
            ) }} as date)
        end as exhaustion_day
    from measured

),

final as (

    select

        ----------  keys
        {{ dbt.concat([
            "scope", "'|'", "coalesce(team_id, '')", "'|'",
            "cast(period_start as " ~ dbt.type_string() ~ ")",
        ]) }} as budget_id,
        scope,
        team_id,
        period_start,
        period_end,

        ---------- money (USD)
        cast(budget_usd as decimal(38, 6)) as budget_usd,
        {{ when_available(needs, 'spend_to_date_usd',
            'cast(spend_to_date_usd as decimal(38, 6))') }} as spend_to_date_usd,
        {{ when_available(needs, 'trailing_28d_daily_run_rate', round_double('run_rate', 6)) }}
            as trailing_28d_daily_run_rate,
        {{ when_available(needs, 'remaining_usd', 'cast(remaining_usd as decimal(38, 6))') }}
            as remaining_usd,

        ---------- runway
        days_left_in_period,
        {{ when_available(needs, 'projected_exhaustion_date',
            'case when exhaustion_day <= period_end then exhaustion_day end') }}
            as projected_exhaustion_date,
        {{ when_available(needs, 'will_exhaust_before_period_end',
            'coalesce(exhaustion_day <= period_end, false)') }} as will_exhaust_before_period_end,
        {{ as_of_date() }} as as_of_date,

        ---------- figures null for want of a source
        {{ unavailable_reason(needs) }} as unavailable_reason

    from projected

)

select * from final
-- A team's budget is shown only for a team that reports as itself: its spend to date would
-- show a smaller team's spend (docs/metrics.md section 11). The organisation's is always shown.
where scope <> 'team' or {{ reports_as_itself('team_id') }}
