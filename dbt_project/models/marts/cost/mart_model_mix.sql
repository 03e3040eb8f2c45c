{#- Spend and outcomes by model, per provider x model x month (docs/metrics.md section 6): spend
    (all of it, attributed or not) and tokens, the model's share of the month's spend (all
    providers) and of its provider's, its price tier (int_ai_models: 1 = the provider's
    highest output price), and, through the allocation split by model, the spend that reached
    PRs and how many PRs it touched (a PR is touched when its author used the model on a day
    the PR was in flight). What reached PRs needs GitHub: null without it, with the reason. -#}
{%- set needs = {'github': ['allocated_to_prs_usd', 'prs_touched']} -%}
with

spend as (

    select
        provider,
        model,
        cast({{ dbt.date_trunc('month', 'day') }} as date) as month,
        sum(cost_usd) as spend_usd,
        sum(tokens) as tokens
    from {{ ref('int_ai_spend__daily') }}
    group by provider, model, cast({{ dbt.date_trunc('month', 'day') }} as date)

),

allocated as (

    select
        provider,
        model,
        cast({{ dbt.date_trunc('month', 'day') }} as date) as month,
        sum(case when pull_request_id is not null then cost_usd else 0 end)
            as allocated_to_prs_usd,
        count(distinct case when cost_usd > 0 then pull_request_id end) as prs_touched
    from {{ ref('int_spend_allocation__by_model') }}
    group by provider, model, cast({{ dbt.date_trunc('month', 'day') }} as date)

),

models as (

    select * from {{ ref('int_ai_models') }}

),

with_totals as (

    select
        spend.*,
        sum(spend.spend_usd) over (partition by spend.month) as month_spend_usd,
        sum(spend.spend_usd) over (partition by spend.month, spend.provider)
            as provider_month_spend_usd
    from spend

),

final as (

    select

        ----------  keys
        with_totals.provider,
        with_totals.model,
        with_totals.month,

        ---------- tier
        models.output_usd_per_mtok,
        models.price_tier_rank,
        coalesce(models.is_most_expensive_tier, false) as is_most_expensive_tier,

        ---------- spend
        cast(with_totals.spend_usd as decimal(38, 6)) as spend_usd,
        cast(with_totals.tokens as {{ dbt.type_bigint() }}) as tokens,
        case
            when with_totals.month_spend_usd > 0
                then {{ round_double(
                        'cast(with_totals.spend_usd as ' ~ type_double() ~ ')
                        / cast(with_totals.month_spend_usd as ' ~ type_double() ~ ')', 6
                    ) }}
        end as share_of_month_spend,
        case
            when with_totals.provider_month_spend_usd > 0
                then {{ round_double(
                        'cast(with_totals.spend_usd as ' ~ type_double() ~ ')
                        / cast(with_totals.provider_month_spend_usd as ' ~ type_double() ~ ')', 6
                    ) }}
        end as share_of_provider_month_spend,

        ---------- outcomes through the allocation
        {{ when_available(needs, 'allocated_to_prs_usd',
            'round(coalesce(allocated.allocated_to_prs_usd, 0), 6)') }} as allocated_to_prs_usd,
        {{ when_available(needs, 'prs_touched', 'coalesce(allocated.prs_touched, 0)') }}
            as prs_touched,

        ---------- figures null for want of a source
        {{ unavailable_reason(needs) }} as unavailable_reason

    from with_totals
    left join models
        on with_totals.provider = models.provider
            and with_totals.model = models.model
    left join allocated
        on with_totals.provider = allocated.provider
            and with_totals.model = allocated.model
            and with_totals.month = allocated.month

)

select * from final
