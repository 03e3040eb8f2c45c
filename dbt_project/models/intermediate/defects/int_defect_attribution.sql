with

defects as (

    select * from {{ ref('int_defects') }}

),

evidence as (

    select * from {{ ref('int_defects__cause_evidence') }}

),

rule_flags as (

    select
        defect_id,
        max(case when rule = 'explicit' and pull_request_id is not null then 1 else 0 end)
            as has_explicit,
        max(case when rule = 'deployment' then 1 else 0 end) as names_deployment
    from evidence
    group by defect_id

),

applied_rules as (

    -- The first rule that applies decides, even when it finds no PR (then the defect is
    -- unattributed): explicit when it names an existing PR; else a bug goes by its work
    -- items, an incident by the deployments it names, else by time.
    select
        defects.defect_id,
        defects.defect_kind,
        defects.created_at,
        case
            when coalesce(rule_flags.has_explicit, 0) = 1 then 'explicit'
            when defects.defect_kind = 'work_item' then 'work_item'
            when coalesce(rule_flags.names_deployment, 0) = 1 then 'deployment'
            else 'time'
        end as applied_rule
    from defects
    left join rule_flags
        on defects.defect_id = rule_flags.defect_id

),

causes as (

    select distinct
        evidence.defect_id,
        evidence.pull_request_id,
        evidence.repo_full_name,
        evidence.pull_request_number
    from evidence
    inner join applied_rules
        on evidence.defect_id = applied_rules.defect_id
            and evidence.rule = applied_rules.applied_rule
    where evidence.pull_request_id is not null

),

final as (

    select

        ----------  ids
        applied_rules.defect_id,
        causes.pull_request_id,
        causes.repo_full_name,
        causes.pull_request_number,

        ---------- the defect
        applied_rules.defect_kind,
        applied_rules.created_at,

        ---------- the attribution
        case
            when causes.pull_request_id is null then 'unattributed'
            else applied_rules.applied_rule
        end as rule,
        -- The rule that decided, even when it found no PR: an incident's deployment and
        -- time rules still point at a deployment (int_deployments__incidents).
        applied_rules.applied_rule,
        -- Each defect is worth 1, split equally across its causing PRs.
        cast(1 as {{ type_double() }}) / count(*) over (partition by applied_rules.defect_id) as weight

    from applied_rules
    left join causes
        on applied_rules.defect_id = causes.defect_id

)

select * from final
