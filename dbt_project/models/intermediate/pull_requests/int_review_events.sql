{{
    config(
        materialized='incremental',
        unique_key=['event_type', 'event_id'],
        on_schema_change='append_new_columns',
        **incremental_strategy_config(partition_by='event_date'),
    )
}}

{#-
    Every review submission, review comment and conversation comment on a PR, with who acted
    and whether the act counts as human review (docs/metrics.md section 5).

    Incremental: a run reprocesses the events whose own load, or whose PR's load, falls within
    `incremental_lookback_days` of the newest load already in the table, and merges them on
    (event_type, event_id). Every column is a function of the event, its PR and the people
    seed, so an incremental run gives the rows of a full refresh; after a change to the
    people seed, run with --full-refresh. Where a run replaces whole partitions instead of
    merging rows (Spark: insert_overwrite by event_date, macros/incremental.sql), it
    reprocesses every event of each day that holds an event it reprocesses.
-#}

{%- set rewrites_partitions = config.get('incremental_strategy') == 'insert_overwrite' %}

with

pull_requests as (

    select
        pull_request_id,
        repo_full_name,
        pull_request_number,
        author_login,
        dlt_load_id
    from {{ ref('stg_github__pull_requests') }}

),

people as (

    select * from {{ ref('int_people') }}

),

reviews as (

    select
        'review' as event_type,
        review_id as event_id,
        repo_full_name,
        pull_request_number,
        submitted_at as event_at,
        reviewer_login as actor_login,
        review_state,
        dlt_load_id
    from {{ ref('stg_github__pull_request_reviews') }}

),

review_comments as (

    select
        'review_comment' as event_type,
        review_comment_id as event_id,
        repo_full_name,
        pull_request_number,
        created_at as event_at,
        commenter_login as actor_login,
        cast(null as {{ dbt.type_string() }}) as review_state,
        dlt_load_id
    from {{ ref('stg_github__pull_request_review_comments') }}

),

issue_comments as (

    select
        'issue_comment' as event_type,
        issue_comment_id as event_id,
        repo_full_name,
        pull_request_number,
        created_at as event_at,
        commenter_login as actor_login,
        cast(null as {{ dbt.type_string() }}) as review_state,
        dlt_load_id
    from {{ ref('stg_github__issue_comments') }}

),

events as (

    select * from reviews
    union all
    select * from review_comments
    union all
    select * from issue_comments

),

joined as (

    -- Conversation comments on plain issues have no PR and drop out here.
    select
        events.*,
        pull_requests.pull_request_id,
        pull_requests.author_login,
        {{ dlt_load_time('events.dlt_load_id') }} as event_loaded_at,
        {{ dlt_load_time('pull_requests.dlt_load_id') }} as pull_request_loaded_at
    from events
    inner join pull_requests
        on events.repo_full_name = pull_requests.repo_full_name
            and events.pull_request_number = pull_requests.pull_request_number

),

{% if is_incremental() %}

window_start as (

    select
        {{ dbt.dateadd('day', -1 * var('incremental_lookback_days'), 'max(loaded_at)') }}
            as loaded_since
    from {{ this }}

),

reprocessed as (

    select joined.*
    from joined
    cross join window_start
    where window_start.loaded_since is null
        or joined.event_loaded_at >= window_start.loaded_since
        or joined.pull_request_loaded_at >= window_start.loaded_since

),

{% endif %}

scoped as (

    {% if is_incremental() and rewrites_partitions %}
    select joined.*
    from joined
    where exists (
        select 1
        from reprocessed
        where cast(reprocessed.event_at as date) is not distinct from cast(joined.event_at as date)
    )
    {% elif is_incremental() %}
    select * from reprocessed
    {% else %}
    select * from joined
    {% endif %}

),

final as (

    select

        ----------  ids
        scoped.pull_request_id,
        scoped.repo_full_name,
        scoped.pull_request_number,
        scoped.event_id,
        scoped.event_type,

        ---------- who and when
        scoped.event_at,
        scoped.actor_login,
        people.person_id as actor_person_id,
        scoped.review_state,

        ---------- flags
        coalesce(
            {{ dbt.right('scoped.actor_login', 5) }} = '[bot]' or people.is_bot, false
        ) as is_bot,
        coalesce(scoped.actor_login = scoped.author_login, false) as is_author,
        -- An event without a login (a deleted account) cannot be shown to be a human
        -- other than the author: it is kept but does not count as review.
        coalesce(
            scoped.actor_login is not null
            and scoped.actor_login <> coalesce(scoped.author_login, '')
            and not ({{ dbt.right('scoped.actor_login', 5) }} = '[bot]')
            and not coalesce(people.is_bot, false),
            false
        ) as is_human_reviewer_event,

        ---------- lineage
        case
            when scoped.pull_request_loaded_at > scoped.event_loaded_at
                then scoped.pull_request_loaded_at
            else scoped.event_loaded_at
        end as loaded_at,

        ---------- partition (last: Spark keeps partition columns last)
        cast(scoped.event_at as date) as event_date

    from scoped
    left join people
        on lower(scoped.actor_login) = lower(people.github_login)

)

select * from final
