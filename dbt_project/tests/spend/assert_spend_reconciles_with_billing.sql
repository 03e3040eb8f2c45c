{#- docs/metrics.md section 2: for every provider and day, attributed + unattributed cost equals the
    provider's reported total within 0.01 USD. Returns the days that break it. -#}
select
    provider,
    day,
    billed_usd,
    attributed_usd,
    unattributed_usd,
    attributed_usd + unattributed_usd - billed_usd as difference_usd
from {{ ref('int_ai_spend__reconciliation') }}
where abs(attributed_usd + unattributed_usd - billed_usd) > 0.01
