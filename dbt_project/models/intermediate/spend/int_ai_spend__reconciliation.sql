{#- Per provider and day: what the provider billed (its own cost report) against what the
    warehouse priced from usage, split into attributed (to a person) and unattributed (to a
    team only, or to nobody). docs/metrics.md section 2's invariant: |attributed + unattributed -
    billed| <= 0.01 USD, enforced by tests/spend/assert_spend_reconciles_with_billing.sql. -#}
with

billed as (

    select
        'anthropic' as provider,
        cost_date as day,
        sum(amount_usd) as billed_usd
    from {{ ref('stg_anthropic__cost_report') }}
    group by cost_date

    union all

    select
        'openai' as provider,
        cost_date as day,
        sum(amount_usd) as billed_usd
    from {{ ref('stg_openai__costs') }}
    group by cost_date

),

computed as (

    select
        provider,
        day,
        sum(case when person_id is not null then cost_usd else 0 end) as attributed_usd,
        sum(case when person_id is null then cost_usd else 0 end) as unattributed_usd,
        sum(cost_usd) as computed_usd
    from {{ ref('int_ai_spend') }}
    group by provider, day

),

final as (

    select

        ----------  keys
        coalesce(billed.provider, computed.provider) as provider,
        coalesce(billed.day, computed.day) as day,

        ---------- amounts (USD)
        cast(coalesce(billed.billed_usd, 0) as decimal(38, 12)) as billed_usd,
        cast(coalesce(computed.attributed_usd, 0) as decimal(38, 12)) as attributed_usd,
        cast(coalesce(computed.unattributed_usd, 0) as decimal(38, 12)) as unattributed_usd,
        cast(coalesce(computed.computed_usd, 0) as decimal(38, 12)) as computed_usd,
        cast(
            coalesce(computed.computed_usd, 0) - coalesce(billed.billed_usd, 0)
            as decimal(38, 12)
        ) as difference_usd

    from billed
    full outer join computed
        on billed.provider = computed.provider
            and billed.day = computed.day

)

select * from final
