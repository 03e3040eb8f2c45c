{#- The routing opportunity per team x month (docs/metrics.md section 6, model mix): spend on the
    most expensive tier (int_ai_models.is_most_expensive_tier, per provider) allocated to PRs
    that are small and light, i.e. both their size (additions + deletions) and their review
    effort (review_hours, none = 0) are at or below the median (percentile_cont 0.5) of the PRs
    that received any allocated spend. Those PRs might have been served by a cheaper model.
    Shares: of the spend allocated to small and light PRs, and of all the team's allocated
    spend. PRs of unknown size are never small. Team: the spender's team, people with none in
    the no-team group (macros/no_team.sql). Rows exist only where spend reached PRs, so only
    with a billing source and GitHub. -#}
with

allocation as (

    select * from {{ ref('int_spend_allocation__by_model') }}
    where pull_request_id is not null

),

models as (

    select * from {{ ref('int_ai_models') }}

),

pull_requests as (

    select
        pull_request_id,
        additions + deletions as size_lines,
        coalesce(review_hours, 0) as review_hours
    from {{ ref('int_pull_requests__lifecycle') }}
    where pull_request_id in (select allocation.pull_request_id from allocation)

),

medians as (

    select
        percentile_cont(0.5) within group (order by size_lines) as median_size_lines,
        percentile_cont(0.5) within group (order by review_hours) as median_review_hours
    from pull_requests

),

small_and_light as (

    select pull_requests.pull_request_id
    from pull_requests
    cross join medians
    where pull_requests.size_lines <= medians.median_size_lines
        and pull_requests.review_hours <= medians.median_review_hours

),

classified as (

    select
        {{ reporting_group('allocation.team_id') }} as team_id,
        cast({{ dbt.date_trunc('month', 'allocation.day') }} as date) as month,
        allocation.pull_request_id,
        allocation.cost_usd,
        coalesce(models.is_most_expensive_tier, false) as is_most_expensive_tier,
        small_and_light.pull_request_id is not null as is_small_and_light
    from allocation
    left join models
        on allocation.provider = models.provider
            and allocation.model = models.model
    left join small_and_light
        on allocation.pull_request_id = small_and_light.pull_request_id

),

team_months as (

    select
        team_id,
        month,
        sum(cost_usd) as allocated_spend_usd,
        sum(case when is_most_expensive_tier then cost_usd else 0 end)
            as most_expensive_tier_spend_usd,
        sum(case when is_small_and_light then cost_usd else 0 end) as small_pr_spend_usd,
        sum(case when is_small_and_light and is_most_expensive_tier then cost_usd else 0 end)
            as routable_spend_usd,
        count(distinct case when is_small_and_light then pull_request_id end) as small_prs
    from classified
    group by team_id, month

),

final as (

    select

        ----------  keys
        team_months.team_id,
        team_months.month,

        ---------- thresholds
        medians.median_size_lines,
        medians.median_review_hours,

        ---------- spend (USD)
        round(team_months.allocated_spend_usd, 6) as allocated_spend_usd,
        round(team_months.most_expensive_tier_spend_usd, 6) as most_expensive_tier_spend_usd,
        round(team_months.small_pr_spend_usd, 6) as small_pr_spend_usd,
        round(team_months.routable_spend_usd, 6) as routable_spend_usd,
        team_months.small_prs,

        ---------- shares
        case
            when team_months.small_pr_spend_usd > 0
                then {{ round_double(
                    'cast(team_months.routable_spend_usd as ' ~ type_double() ~ ')
                    / cast(team_months.small_pr_spend_usd as ' ~ type_double() ~ ')', 6) }}
        end as routable_share_of_small_pr_spend,
        case
            when team_months.allocated_spend_usd > 0
                then {{ round_double(
                    'cast(team_months.routable_spend_usd as ' ~ type_double() ~ ')
                    / cast(team_months.allocated_spend_usd as ' ~ type_double() ~ ')', 6) }}
        end as routable_share_of_allocated_spend

    from team_months
    cross join medians

)

select * from final
-- No group too small to hide in (docs/metrics.md section 11).
where {{ shown_group('team_id') }}
