{#- A person's attributed spend on a day, split equally across the PRs they authored that were
    in flight that day (docs/metrics.md section 6). In flight: from the day of the earlier of the
    PR's first commit and its opening, to the day it was merged or closed, both inclusive; a PR
    still open is in flight through the last reported day (as-of - 1 day). A person-day with
    nothing in flight keeps its spend as one unallocated row (pull_request_id null).
    Remainder-exact: the day's spend is rounded once to the micro-dollar (ties to even); each
    PR gets the share rounded down to the micro-dollar and the first PR in (repo, number) order
    also gets the remainder, so a person-day's rows add up to its spend exactly. -#}
with

spend as (

    select * from {{ ref('int_ai_spend') }}
    where person_id is not null

),

pull_requests as (

    select * from {{ ref('int_pull_requests__lifecycle') }}
    where author_person_id is not null

),

person_days as (

    select
        person_id,
        day,
        max(team_id) as team_id,
        sum(cost_usd) as exact_cost_usd
    from spend
    group by person_id, day

),

person_day_micros as (

    select
        person_id,
        day,
        team_id,
        cast(
            {{ spend_round_half_even('exact_cost_usd', 6) }} * 1000000 as {{ dbt.type_bigint() }}
        ) as cost_micros
    from person_days

),

in_flight as (

    select
        pull_request_id,
        repo_full_name,
        pull_request_number,
        author_person_id,
        cast(
            case
                when first_commit_at is null then opened_at
                when opened_at is null then first_commit_at
                when first_commit_at < opened_at then first_commit_at
                else opened_at
            end
            as date
        ) as first_day,
        coalesce(
            cast(coalesce(merged_at, closed_at) as date),
            {{ dbt.dateadd('day', -1, as_of_date()) }}
        ) as last_day
    from pull_requests

),

live as (

    select
        person_day_micros.person_id,
        person_day_micros.day,
        in_flight.pull_request_id,
        in_flight.repo_full_name,
        in_flight.pull_request_number,
        count(*) over (
            partition by person_day_micros.person_id, person_day_micros.day
        ) as prs_in_flight,
        row_number() over (
            partition by person_day_micros.person_id, person_day_micros.day
            order by in_flight.repo_full_name, in_flight.pull_request_number
        ) as pr_order
    from person_day_micros
    inner join in_flight
        on person_day_micros.person_id = in_flight.author_person_id
            and person_day_micros.day >= cast(in_flight.first_day as date)
            and person_day_micros.day <= cast(in_flight.last_day as date)

),

allocated as (

    select
        live.day,
        live.person_id,
        person_day_micros.team_id,
        live.pull_request_id,
        live.repo_full_name,
        live.pull_request_number,
        live.prs_in_flight,
        {{ spend_floor_divide('person_day_micros.cost_micros', 'live.prs_in_flight') }}
        + case
            when live.pr_order = 1
                then person_day_micros.cost_micros
                    - {{ spend_floor_divide('person_day_micros.cost_micros', 'live.prs_in_flight') }}
                    * live.prs_in_flight
            else 0
        end as cost_micros
    from live
    inner join person_day_micros
        on live.person_id = person_day_micros.person_id
            and live.day = person_day_micros.day

),

unallocated as (

    select
        person_day_micros.day,
        person_day_micros.person_id,
        person_day_micros.team_id,
        cast(null as {{ dbt.type_bigint() }}) as pull_request_id,
        cast(null as {{ dbt.type_string() }}) as repo_full_name,
        cast(null as {{ dbt.type_int() }}) as pull_request_number,
        0 as prs_in_flight,
        person_day_micros.cost_micros
    from person_day_micros
    where not exists (
            select 1
            from live
            where live.person_id = person_day_micros.person_id
                and live.day = person_day_micros.day
        )

),

unioned as (

    select * from allocated
    union all
    select * from unallocated

),

final as (

    select

        ----------  keys
        {{ dbt.hash(dbt.concat([
            "cast(day as " ~ dbt.type_string() ~ ")", "'|'", "person_id", "'|'",
            "coalesce(cast(pull_request_id as " ~ dbt.type_string() ~ "), 'unallocated')",
        ])) }} as allocation_id,
        day,
        person_id,
        team_id,
        pull_request_id,
        repo_full_name,
        pull_request_number,

        ---------- flags and counts
        pull_request_id is null as is_unallocated,
        prs_in_flight,

        ---------- amounts (USD)
        {{ spend_micros_to_usd('cost_micros') }} as cost_usd

    from unioned

)

select * from final
