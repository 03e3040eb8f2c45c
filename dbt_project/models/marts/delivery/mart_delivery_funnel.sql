{#- Opened -> merged -> shipped -> survived H, per cohort (week opened x team x AI flag). -#}
with

prs as (

    select * from {{ ref('fct_pull_requests') }}

),

cohorts as (

    select
        opened_week,
        team_id,
        is_ai_assisted,
        count(*) as opened,
        sum(case when outcome = 'merged' then 1 else 0 end) as merged,
        sum(case when outcome = 'abandoned' then 1 else 0 end) as abandoned,
        sum(case when outcome = 'open' then 1 else 0 end) as still_open,
        sum(case when shipped_at is not null then 1 else 0 end) as shipped,
        sum(case when is_censored then 1 else 0 end) as shipped_censored,
        sum(case when survived is not null then 1 else 0 end) as shipped_observed,
        sum(case when survived then 1 else 0 end) as survived
    from prs
    group by opened_week, team_id, is_ai_assisted

),

shares as (

    select
        *,
        cast(merged as double precision) / opened as merged_share,
        cast(shipped as double precision) / opened as shipped_share,
        cast(survived as double precision) / opened as survived_share,
        case
            when shipped_observed > 0
                then cast(survived as double precision) / shipped_observed
        end as survival_rate
    from cohorts

)

select * from shares
