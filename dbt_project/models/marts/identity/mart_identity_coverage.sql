{#- How much of the activity resolved to a person (docs/metrics.md section 1). Nothing is dropped
    upstream: this mart says how much sits with person_id null. -#}
with

spend as (

    select
        'spend' as domain,
        provider as subject,
        count(*) as items,
        sum(case when person_id is not null then cast(1 as bigint) else 0 end) as resolved_items,
        sum(cost_usd) as usd,
        sum(case when person_id is not null then cost_usd else 0 end) as resolved_usd
    from {{ ref('int_ai_spend__daily') }}
    group by provider

),

pull_requests as (

    select
        'pull_requests' as domain,
        'github' as subject,
        count(*) as items,
        sum(case when author_person_id is not null then cast(1 as bigint) else 0 end) as resolved_items,
        cast(null as {{ dbt.type_numeric() }}) as usd,
        cast(null as {{ dbt.type_numeric() }}) as resolved_usd
    from {{ ref('int_pull_requests__lifecycle') }}

),

reviews as (

    -- Human review activity: events on a PR by someone other than its author.
    select
        'reviews' as domain,
        event_type as subject,
        count(*) as items,
        sum(case when actor_person_id is not null then cast(1 as bigint) else 0 end) as resolved_items,
        cast(null as {{ dbt.type_numeric() }}) as usd,
        cast(null as {{ dbt.type_numeric() }}) as resolved_usd
    from {{ ref('int_review_events') }}
    where not is_author and not is_bot
    group by event_type

),

identities as (

    select
        'identities' as domain,
        system as subject,
        count(*) as items,
        sum(case when person_id is not null then cast(1 as bigint) else 0 end) as resolved_items,
        cast(null as {{ dbt.type_numeric() }}) as usd,
        cast(null as {{ dbt.type_numeric() }}) as resolved_usd
    from {{ ref('int_identities') }}
    group by system

),

unioned as (

    select * from spend
    union all
    select * from pull_requests
    union all
    select * from reviews
    union all
    select * from identities

),

shares as (

    select
        domain,
        subject,
        items,
        resolved_items,
        items - resolved_items as unresolved_items,
        cast(resolved_items as {{ type_double() }}) / nullif(items, 0) as resolved_share,
        usd,
        resolved_usd,
        cast(resolved_usd as {{ type_double() }}) / nullif(usd, 0) as resolved_usd_share
    from unioned

)

select * from shares
