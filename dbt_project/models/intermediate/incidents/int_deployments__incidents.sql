{#-
    Production deployments an incident is a failure of (docs/metrics.md sections 4 and 8): every
    production deployment the rule that attributed the incident points at. Explicit (rule
    1): the deployments that shipped the PRs it names. Deployment (rule 3): the deployments
    it names. Time (rule 4): the latest successful production deployment finished before it
    of a repository its service maps to, even when that deployment shipped no PR (the
    incident is then unattributed to PRs, yet still a failure of the deployment).
-#}

with

deployments as (

    select * from {{ ref('int_deployments') }}

),

deployment_pull_requests as (

    select * from {{ ref('int_deployments__pull_requests') }}

),

attribution as (

    select * from {{ ref('int_defect_attribution') }}
    where defect_kind = 'incident'

),

evidence as (

    select * from {{ ref('int_defects__cause_evidence') }}

),

incidents as (

    select * from {{ ref('int_incidents') }}

),

rollbacks as (

    select * from {{ ref('int_incidents__rollbacks') }}

),

through_pull_requests as (

    -- Rule 1: the deployments that shipped the PRs the incident names.
    select distinct
        deployment_pull_requests.deployment_id,
        attribution.defect_id as incident_id,
        attribution.applied_rule as attribution_rule
    from attribution
    inner join deployment_pull_requests
        on attribution.pull_request_id = deployment_pull_requests.pull_request_id
    where attribution.applied_rule = 'explicit'

),

decided_rules as (

    select distinct
        defect_id,
        applied_rule
    from attribution

),

through_deployments as (

    -- Rules 3 and 4: the deployment the deciding rule found, whether or not it shipped a PR.
    select distinct
        evidence.via_deployment_id as deployment_id,
        evidence.defect_id as incident_id,
        evidence.rule as attribution_rule
    from evidence
    inner join decided_rules
        on evidence.defect_id = decided_rules.defect_id
            and evidence.rule = decided_rules.applied_rule
    where evidence.rule in ('deployment', 'time')
        and evidence.via_deployment_id is not null

),

links as (

    select * from through_pull_requests
    union all
    select * from through_deployments

),

final as (

    select

        ----------  ids
        links.deployment_id,
        links.incident_id,
        deployments.repo_full_name,

        ---------- how they are linked
        links.attribution_rule,

        ---------- the deployment
        deployments.is_successful as is_successful_deployment,
        deployments.created_at as deployment_created_at,
        deployments.finished_at as deployment_finished_at,

        ---------- the incident
        incidents.created_at as incident_created_at,
        incidents.resolved_at as incident_resolved_at,
        incidents.resolution_hours,
        coalesce(rollbacks.is_rolled_back, false) as is_rolled_back,
        rollbacks.rolled_back_at

    from links
    inner join deployments
        on links.deployment_id = deployments.deployment_id
            and deployments.is_production
    inner join incidents
        on links.incident_id = incidents.incident_id
    left join rollbacks
        on links.incident_id = rollbacks.incident_id

)

select * from final
