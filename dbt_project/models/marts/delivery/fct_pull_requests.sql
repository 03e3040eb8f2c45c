{#- One row per pull request with its whole outcome: the contract analysts join to. -#}
{%- set needs = {
    'billing': ['allocated_spend_usd'],
    'defects': ['defect_weight_within_h', 'defects_within_h'],
    'pagerduty': ['rolled_back_at'],
} -%}
with

lifecycle as (

    select * from {{ ref('int_pull_requests__lifecycle') }}

),

survival as (

    select * from {{ ref('int_pull_requests__survival') }}

),

allocation as (

    select
        pull_request_id,
        sum(cost_usd) as allocated_spend_usd
    from {{ ref('int_spend_allocation') }}
    where pull_request_id is not null
    group by pull_request_id

),

defects as (

    -- Defect weight that came back within H days of shipping (docs/metrics.md section 4): created
    -- no later than shipped_at + H, as in mart_bugs_per_shipped_pr.
    select
        attribution.pull_request_id,
        {{ exact_sum('attribution.weight', 1000000000000) }} as defect_weight_within_h,
        count(*) as defects_within_h
    from {{ ref('int_defect_attribution') }} as attribution
    inner join lifecycle
        on attribution.pull_request_id = lifecycle.pull_request_id
    where lifecycle.shipped_at is not null
        and attribution.created_at
        <= {{ dbt.dateadd('day', var('survival_horizon_days'), 'lifecycle.shipped_at') }}
    group by attribution.pull_request_id

),

joined as (

    select

        ---------- ids
        lifecycle.pull_request_id,
        lifecycle.repo_full_name,
        lifecycle.pull_request_number,
        lifecycle.html_url,
        lifecycle.title,

        ---------- who
        lifecycle.author_login,
        lifecycle.author_person_id,
        {{ reporting_group('lifecycle.team_id') }} as team_id,
        lifecycle.is_bot_author,
        lifecycle.is_agent_author,

        ---------- AI assistance
        lifecycle.is_ai_assisted,
        lifecycle.ai_reasons,
        lifecycle.commit_count,
        lifecycle.ai_commit_count,
        lifecycle.ai_commit_share,

        ---------- size
        lifecycle.additions,
        lifecycle.deletions,
        lifecycle.changed_files,

        ---------- life
        lifecycle.outcome,
        lifecycle.first_commit_at,
        lifecycle.opened_at,
        lifecycle.ready_for_review_at,
        lifecycle.first_human_event_at,
        lifecycle.first_approval_at,
        lifecycle.merged_at,
        lifecycle.closed_at,
        lifecycle.shipped_at,
        lifecycle.shipping_deployment_id,
        survival.reverted_at,
        lifecycle.reverted_by_pull_request_id,
        {{ when_available(needs, 'rolled_back_at', 'survival.rolled_back_at') }} as rolled_back_at,
        survival.is_censored,
        survival.survived,
        lifecycle.opened_week,
        lifecycle.opened_month,
        cast({{ dbt.date_trunc('month', 'lifecycle.shipped_at') }} as date) as shipped_month,

        ---------- cycle time (minutes)
        lifecycle.coding_minutes,
        lifecycle.pickup_minutes,
        lifecycle.review_minutes,
        lifecycle.deploy_minutes,
        lifecycle.cycle_minutes,

        ---------- review effort
        lifecycle.review_hours,
        lifecycle.human_reviewers,
        lifecycle.changes_requested,

        ---------- cost and quality
        {{ when_available(needs, 'allocated_spend_usd', 'coalesce(allocation.allocated_spend_usd, 0)') }}
            as allocated_spend_usd,
        {{ when_available(needs, 'defect_weight_within_h', 'coalesce(defects.defect_weight_within_h, 0)') }}
            as defect_weight_within_h,
        {{ when_available(needs, 'defects_within_h', 'coalesce(defects.defects_within_h, 0)') }}
            as defects_within_h,

        ---------- figures null for want of a source
        {{ unavailable_reason(needs) }} as unavailable_reason

    from lifecycle
    left join survival
        on lifecycle.pull_request_id = survival.pull_request_id
    left join allocation
        on lifecycle.pull_request_id = allocation.pull_request_id
    left join defects
        on lifecycle.pull_request_id = defects.pull_request_id

)

select * from joined
