{#-
    One row per pull request: who wrote it, whether AI helped, and its life from first commit
    to production (docs/metrics.md sections 3 and 5). Rolled back, censoring and survival are added
    downstream.
    - ready_for_review_at: GitHub's PR listing only tells whether a PR is a draft now, not when
      it left draft; so opened_at for a PR that is not a draft, null while it still is one.
    - first_human_event_at: the first review, review comment or conversation comment by a human
      other than the author; first_approval_at the first APPROVED review by such a human.
    - Cycle-time spans in minutes; a negative span is null.
-#}

with

pull_requests as (

    select * from {{ ref('stg_github__pull_requests') }}

),

people as (

    select * from {{ ref('int_people') }}

),

agent_authors as (

    select distinct pattern as author_login
    from {{ ref('ai_signatures') }}
    where kind = 'author'

),

ai as (

    select * from {{ ref('int_pull_requests__ai_classification') }}

),

commit_times as (

    select
        repo_full_name,
        pull_request_number,
        min(authored_at) as first_commit_at
    from {{ ref('stg_github__pull_request_commits') }}
    group by
        repo_full_name,
        pull_request_number

),

review_events as (

    select * from {{ ref('int_review_events') }}
    where is_human_reviewer_event

),

review_summary as (

    select
        pull_request_id,
        min(event_at) as first_human_event_at,
        min(
            case when event_type = 'review' and review_state = 'APPROVED' then event_at end
        ) as first_approval_at,
        sum(
            case
                when event_type = 'review' and review_state = 'CHANGES_REQUESTED' then 1
                else 0
            end
        ) as changes_requested
    from review_events
    group by pull_request_id

),

session_summary as (

    select
        pull_request_id,
        {{ exact_sum('minutes / 60.0', 3600000) }} as review_hours,
        count(distinct reviewer_login) as human_reviewers
    from {{ ref('int_review_sessions') }}
    group by pull_request_id

),

shipping as (

    select * from {{ ref('int_deployments__pull_requests') }}

),

reverts as (

    select * from {{ ref('int_pull_requests__reverts') }}

),

joined as (

    select
        pull_requests.pull_request_id,
        pull_requests.repo_full_name,
        pull_requests.pull_request_number,
        pull_requests.pull_request_title as title,
        pull_requests.head_ref,
        pull_requests.html_url,
        pull_requests.author_login,
        people.person_id as author_person_id,
        people.team_id,
        coalesce(
            {{ dbt.right('pull_requests.author_login', 5) }} = '[bot]' or people.is_bot,
            false
        ) as is_bot_author,
        agent_authors.author_login is not null as is_agent_author,
        ai.is_ai_assisted,
        ai.ai_reasons,
        ai.commit_count,
        ai.ai_commit_count,
        ai.ai_commit_share,
        pull_requests.additions,
        pull_requests.deletions,
        pull_requests.changed_files,
        commit_times.first_commit_at,
        pull_requests.created_at as opened_at,
        case when not pull_requests.is_draft then pull_requests.created_at end
            as ready_for_review_at,
        review_summary.first_human_event_at,
        review_summary.first_approval_at,
        pull_requests.merged_at,
        pull_requests.closed_at,
        case
            when pull_requests.merged_at is not null then 'merged'
            when pull_requests.closed_at is not null then 'abandoned'
            else 'open'
        end as outcome,
        shipping.shipped_at,
        shipping.deployment_id as shipping_deployment_id,
        shipping.ship_rule,
        reverts.reverted_at,
        reverts.reverted_by_pull_request_id,
        reverts.reverted_by_number,
        coalesce(session_summary.review_hours, 0) as review_hours,
        coalesce(session_summary.human_reviewers, 0) as human_reviewers,
        coalesce(review_summary.changes_requested, 0) as changes_requested
    from pull_requests
    left join people
        on lower(pull_requests.author_login) = lower(people.github_login)
    left join agent_authors
        on pull_requests.author_login = agent_authors.author_login
    left join ai
        on pull_requests.pull_request_id = ai.pull_request_id
    left join commit_times
        on pull_requests.repo_full_name = commit_times.repo_full_name
            and pull_requests.pull_request_number = commit_times.pull_request_number
    left join review_summary
        on pull_requests.pull_request_id = review_summary.pull_request_id
    left join session_summary
        on pull_requests.pull_request_id = session_summary.pull_request_id
    left join shipping
        on pull_requests.pull_request_id = shipping.pull_request_id
    left join reverts
        on pull_requests.pull_request_id = reverts.pull_request_id

),

spans as (

    select
        *,
        {{ minutes_between('first_commit_at', 'opened_at') }} as raw_coding_minutes,
        {{ minutes_between('opened_at', 'first_human_event_at') }} as raw_pickup_minutes,
        {{ minutes_between('first_human_event_at', 'merged_at') }} as raw_review_minutes,
        {{ minutes_between('merged_at', 'shipped_at') }} as raw_deploy_minutes,
        {{ minutes_between('first_commit_at', 'shipped_at') }} as raw_cycle_minutes
    from joined

),

final as (

    select

        ----------  ids
        pull_request_id,
        repo_full_name,
        pull_request_number,
        title,
        head_ref,
        html_url,

        ---------- author
        author_login,
        author_person_id,
        team_id,
        is_bot_author,
        is_agent_author,

        ---------- AI
        is_ai_assisted,
        ai_reasons,
        commit_count,
        ai_commit_count,
        ai_commit_share,

        ---------- size
        additions,
        deletions,
        changed_files,

        ---------- timestamps (UTC)
        first_commit_at,
        opened_at,
        ready_for_review_at,
        first_human_event_at,
        first_approval_at,
        merged_at,
        closed_at,

        ---------- outcome
        outcome,
        shipped_at,
        shipping_deployment_id,
        ship_rule,
        reverted_at,
        reverted_by_pull_request_id,
        reverted_by_number,

        ---------- review
        cast(review_hours as {{ type_double() }}) as review_hours,
        cast(human_reviewers as {{ dbt.type_int() }}) as human_reviewers,
        cast(changes_requested as {{ dbt.type_int() }}) as changes_requested,

        ---------- cycle time (minutes; negative spans are null)
        case when raw_coding_minutes >= 0 then raw_coding_minutes end as coding_minutes,
        case when raw_pickup_minutes >= 0 then raw_pickup_minutes end as pickup_minutes,
        case when raw_review_minutes >= 0 then raw_review_minutes end as review_minutes,
        case when raw_deploy_minutes >= 0 then raw_deploy_minutes end as deploy_minutes,
        case when raw_cycle_minutes >= 0 then raw_cycle_minutes end as cycle_minutes,

        ---------- cohorts
        cast({{ dbt.date_trunc('week', 'opened_at') }} as date) as opened_week,
        cast({{ dbt.date_trunc('month', 'opened_at') }} as date) as opened_month

    from spans

)

select * from final
