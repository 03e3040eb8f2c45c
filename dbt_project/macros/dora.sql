{#- The DORA marts (mart_dora, mart_dora_summary): performance tiers, what their figures need. -#}

{#- The DORA performance tier of `value` for `metric`, from the seed dora_thresholds: the best
    tier (lowest tier_order) whose threshold the value meets (higher_is_better: value >=
    threshold; lower_is_better: value <= threshold); a null threshold is the catch-all lowest
    tier. Null when the value is null or the seed has no rows for the metric. -#}
{% macro dora_tier(metric, value) -%}
    {{ return(adapter.dispatch('dora_tier', 'ai_outcomes_warehouse')(metric, value)) }}
{%- endmacro %}
{% macro default__dora_tier(metric, value) -%}
    case
        when {{ value }} is not null then (
            select dora_thresholds.tier
            from {{ ref('dora_thresholds') }} as dora_thresholds
            where {{ dora_tier_reached(metric, value) }}
            order by dora_thresholds.tier_order
            limit 1
        )
    end
{%- endmacro %}
{#- Spark: a correlated scalar subquery's order by ... limit 1 does not pick the first row
    (Spark 4.3 answered `high` for a value within the `elite` threshold); the lowest tier_order
    is taken with an aggregate, which Spark decorrelates correctly. -#}
{% macro spark__dora_tier(metric, value) -%}
    case
        when {{ value }} is not null then (
            select min(struct(dora_thresholds.tier_order, dora_thresholds.tier)).tier
            from {{ ref('dora_thresholds') }} as dora_thresholds
            where {{ dora_tier_reached(metric, value) }}
        )
    end
{%- endmacro %}

{#- What the DORA marts' figures need (see when_available). Incidents are PagerDuty's: without
    PagerDuty no deployment can be seen to fail or recover, so those figures are unknown (null,
    with the reason), never 0. Deployment frequency, lead time and rework (fixes include
    reverts) rest on GitHub. -#}
{% macro dora_figure_needs() -%}
    {{ return({'pagerduty': [
        'change_failures', 'rolled_back_deployments', 'change_failure_rate',
        'recovered_incidents', 'recovery_time_median_hours',
    ]}) }}
{%- endmacro %}

{#- The thresholds of `metric` that `value` reaches (a tier without a threshold: any value). -#}
{% macro dora_tier_reached(metric, value) -%}
    dora_thresholds.metric = '{{ metric }}'
                and (
                    dora_thresholds.threshold is null
                    or (dora_thresholds.direction = 'higher_is_better'
                        and {{ value }} >= dora_thresholds.threshold)
                    or (dora_thresholds.direction = 'lower_is_better'
                        and {{ value }} <= dora_thresholds.threshold)
                )
{%- endmacro %}
