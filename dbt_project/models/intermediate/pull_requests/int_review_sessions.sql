{#-
    Review sessions (docs/metrics.md section 5). Per PR and reviewer login (a human other than the
    author), the reviewer's events in time order; a new session starts when the gap to the
    previous event exceeds `review_session_gap_minutes`. A session lasts from its first to its
    last event plus `review_session_floor_minutes`, capped at `review_session_cap_minutes`.
-#}

with

events as (

    select * from {{ ref('int_review_events') }}
    where is_human_reviewer_event

),

gaps as (

    select
        pull_request_id,
        repo_full_name,
        pull_request_number,
        actor_login,
        actor_person_id,
        event_type,
        event_id,
        event_at,
        lag(event_at) over (
            partition by pull_request_id, actor_login
            order by event_at, event_type, event_id
        ) as previous_event_at
    from events

),

flagged as (

    select
        *,
        case
            when previous_event_at is null then 1
            when {{ minutes_between('previous_event_at', 'event_at') }}
                > {{ var('review_session_gap_minutes') }} then 1
            else 0
        end as starts_session
    from gaps

),

numbered as (

    select
        *,
        sum(starts_session) over (
            partition by pull_request_id, actor_login
            order by event_at, event_type, event_id
            rows between unbounded preceding and current row
        ) as session_index
    from flagged

),

sessions as (

    select
        pull_request_id,
        repo_full_name,
        pull_request_number,
        actor_login as reviewer_login,
        max(actor_person_id) as reviewer_person_id,
        session_index,
        min(event_at) as started_at,
        max(event_at) as ended_at,
        count(*) as events
    from numbered
    group by
        pull_request_id,
        repo_full_name,
        pull_request_number,
        actor_login,
        session_index

),

final as (

    select

        ----------  ids
        pull_request_id,
        repo_full_name,
        pull_request_number,
        reviewer_login,
        reviewer_person_id,
        cast(session_index as {{ dbt.type_int() }}) as session_index,

        ---------- timestamps (UTC)
        started_at,
        ended_at,

        ---------- measures
        cast(events as {{ dbt.type_int() }}) as events,
        case
            when {{ minutes_between('started_at', 'ended_at') }}
                + {{ var('review_session_floor_minutes') }}
                > {{ var('review_session_cap_minutes') }}
                then cast({{ var('review_session_cap_minutes') }} as {{ type_double() }})
            else {{ minutes_between('started_at', 'ended_at') }}
                + {{ var('review_session_floor_minutes') }}
        end as minutes

    from sessions

)

select * from final
