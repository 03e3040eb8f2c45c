{#- Human review effort on each cohort's PRs (week opened x author's team x AI flag). It reads
    the PR lifecycle (GitHub only), not fct_pull_requests, whose spend and defects it does not
    need. -#}
with

prs as (

    select * from {{ ref('int_pull_requests__lifecycle') }}

),

per_pr as (

    select
        opened_week,
        {{ reporting_group('team_id') }} as team_id,
        is_ai_assisted,
        review_hours,
        human_reviewers,
        changes_requested,
        case
            when first_human_event_at >= ready_for_review_at
                then {{ minutes_between('ready_for_review_at', 'first_human_event_at') }} / 60.0
        end as hours_to_first_human_review,
        case
            when first_approval_at >= ready_for_review_at
                then {{ minutes_between('ready_for_review_at', 'first_approval_at') }} / 60.0
        end as hours_ready_to_approval
    from prs

),

cohorts as (

    select
        opened_week,
        team_id,
        is_ai_assisted,
        count(*) as pull_requests,
        sum(case when human_reviewers > 0 then cast(1 as bigint) else 0 end)
            as reviewed_pull_requests,
        {{ exact_sum('review_hours', 3600000) }} as review_hours,
        {{ exact_sum('review_hours', 3600000) }} / count(*) as review_hours_per_pr,
        avg(cast(human_reviewers as {{ type_double() }})) as reviewers_per_pr,
        avg(cast(changes_requested as {{ type_double() }})) as review_rounds_per_pr,
        percentile_cont(0.5) within group (order by hours_to_first_human_review)
            as median_hours_to_first_human_review,
        percentile_cont(0.5) within group (order by hours_ready_to_approval)
            as median_hours_ready_to_approval
    from per_pr
    group by opened_week, team_id, is_ai_assisted

)

select * from cohorts
-- No group too small to hide in (docs/metrics.md section 11).
where {{ shown_group('team_id') }}
