{%- set weight_scale = 1000000000000 -%}
{%- set horizon_days = var('survival_horizon_days') -%}
{%- set rules = ['explicit', 'work_item', 'deployment', 'time'] -%}
{#- Defects are Jira bugs and PagerDuty incidents: the totals need one of them, the parts of a
    kind (and the rules only that kind uses) need their own source. -#}
{%- set needs = {
    'defects': ['defective_prs', 'defect_weight', 'explicit_rule_weight', 'bugs_per_shipped_pr'],
    'jira': ['work_item_defect_weight', 'work_item_rule_weight', 'work_item_bugs_per_shipped_pr'],
    'pagerduty': ['incident_defect_weight', 'deployment_rule_weight', 'time_rule_weight',
                  'incidents_per_shipped_pr'],
} -%}
with

survival as (

    select * from {{ ref('int_pull_requests__survival') }}

),

attribution as (

    select * from {{ ref('int_defect_attribution') }}

),

shipped as (

    select * from survival
    where shipped_at is not null

),

defects_within_horizon as (

    -- Defect weight attributed to an eligible (not censored) shipped PR and created no later
    -- than H days after it shipped.
    select
        shipped.pull_request_id,
        attribution.defect_id,
        attribution.defect_kind,
        attribution.rule,
        attribution.weight
    from shipped
    inner join attribution
        on shipped.pull_request_id = attribution.pull_request_id
    where not shipped.is_censored
        and attribution.created_at <= shipped.horizon_ends_at

),

pull_request_weights as (

    select
        pull_request_id,
        count(distinct defect_id) as defects,
        {{ exact_sum('weight', weight_scale) }} as defect_weight,
        {{ exact_sum("case when defect_kind = 'work_item' then weight else 0 end", weight_scale) }}
            as work_item_defect_weight,
        {{ exact_sum("case when defect_kind = 'incident' then weight else 0 end", weight_scale) }}
            as incident_defect_weight,
        -- noqa: disable=LT02
        -- (the loop's columns keep the select's indent: sqlfluff would outdent them)
        {%- for rule in rules %}
        {{ exact_sum("case when rule = '" ~ rule ~ "' then weight else 0 end", weight_scale) }}
            as {{ rule }}_rule_weight
        {{- "," if not loop.last }}
        {%- endfor %}
    -- noqa: enable=LT02
    from defects_within_horizon
    group by pull_request_id

),

cohorts as (

    select
        shipped.shipped_month,
        {{ reporting_group('shipped.team_id') }} as team_id,
        shipped.is_ai_assisted,
        count(*) as shipped_prs_incl_censored,
        sum(case when shipped.is_censored then cast(1 as bigint) else 0 end) as censored_prs,
        sum(case when shipped.is_censored then 0 else cast(1 as bigint) end) as shipped_prs,
        sum(case when pull_request_weights.defects > 0 then cast(1 as bigint) else 0 end) as defective_prs,
        coalesce({{ exact_sum('pull_request_weights.defect_weight', weight_scale) }}, 0)
            as defect_weight,
        coalesce({{ exact_sum('pull_request_weights.work_item_defect_weight', weight_scale) }}, 0)
            as work_item_defect_weight,
        coalesce({{ exact_sum('pull_request_weights.incident_defect_weight', weight_scale) }}, 0)
            as incident_defect_weight,
        -- noqa: disable=LT02
        -- (the loop's columns keep the select's indent: sqlfluff would outdent them)
        {%- for rule in rules %}
        coalesce({{ exact_sum('pull_request_weights.' ~ rule ~ '_rule_weight', weight_scale) }}, 0)
            as {{ rule }}_rule_weight
        {{- "," if not loop.last }}
        {%- endfor %}
    -- noqa: enable=LT02
    from shipped
    left join pull_request_weights
        on shipped.pull_request_id = pull_request_weights.pull_request_id
    group by shipped.shipped_month, {{ reporting_group('shipped.team_id') }}, shipped.is_ai_assisted

),

final as (

    select

        ---------- the cohort
        shipped_month,
        team_id,
        is_ai_assisted,

        ---------- PRs
        shipped_prs_incl_censored,
        censored_prs,
        shipped_prs,
        {{ when_available(needs, 'defective_prs', 'defective_prs') }} as defective_prs,

        ---------- defect weight (sum of attribution weights)
        {%- for weight in ['defect_weight', 'work_item_defect_weight', 'incident_defect_weight',
                           'explicit_rule_weight', 'work_item_rule_weight',
                           'deployment_rule_weight', 'time_rule_weight'] %}
        {{ when_available(needs, weight, weight) }} as {{ weight }},
        {%- endfor %}

        ---------- rates
        {{ when_available(needs, 'bugs_per_shipped_pr',
            'defect_weight / nullif(shipped_prs, 0)') }} as bugs_per_shipped_pr,
        {{ when_available(needs, 'work_item_bugs_per_shipped_pr',
            'work_item_defect_weight / nullif(shipped_prs, 0)') }} as work_item_bugs_per_shipped_pr,
        {{ when_available(needs, 'incidents_per_shipped_pr',
            'incident_defect_weight / nullif(shipped_prs, 0)') }} as incidents_per_shipped_pr,

        ---------- figures null for want of a source
        {{ unavailable_reason(needs) }} as unavailable_reason

    from cohorts

)

select * from final
-- No group too small to hide in (docs/metrics.md section 11).
where {{ shown_group('team_id') }}
