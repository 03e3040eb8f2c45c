{#- Opened -> merged -> shipped -> survived H, per cohort (week opened x team x AI flag). It
    reads the PR models fct_pull_requests is made of, not fct_pull_requests itself, so the
    funnel rests on what it needs (GitHub, and the defect sources for rollbacks), not on spend. -#}
with

prs as (

    select
        lifecycle.opened_week,
        {{ reporting_group('lifecycle.team_id') }} as team_id,
        lifecycle.is_ai_assisted,
        lifecycle.outcome,
        lifecycle.shipped_at,
        survival.is_censored,
        survival.survived
    from {{ ref('int_pull_requests__lifecycle') }} as lifecycle
    left join {{ ref('int_pull_requests__survival') }} as survival
        on lifecycle.pull_request_id = survival.pull_request_id

),

cohorts as (

    select
        opened_week,
        team_id,
        is_ai_assisted,
        count(*) as opened,
        sum(case when outcome = 'merged' then cast(1 as bigint) else 0 end) as merged,
        sum(case when outcome = 'abandoned' then cast(1 as bigint) else 0 end) as abandoned,
        sum(case when outcome = 'open' then cast(1 as bigint) else 0 end) as still_open,
        sum(case when shipped_at is not null then cast(1 as bigint) else 0 end) as shipped,
        sum(case when is_censored then cast(1 as bigint) else 0 end) as shipped_censored,
        sum(case when survived is not null then cast(1 as bigint) else 0 end) as shipped_observed,
        sum(case when survived then cast(1 as bigint) else 0 end) as survived
    from prs
    group by opened_week, team_id, is_ai_assisted

),

shares as (

    select
        *,
        cast(merged as {{ type_double() }}) / opened as merged_share,
        cast(shipped as {{ type_double() }}) / opened as shipped_share,
        cast(survived as {{ type_double() }}) / opened as survived_share,
        case
            when shipped_observed > 0
                then cast(survived as {{ type_double() }}) / shipped_observed
        end as survival_rate
    from cohorts

)

select * from shares
-- No group too small to hide in (docs/metrics.md section 11).
where {{ shown_group('team_id') }}
