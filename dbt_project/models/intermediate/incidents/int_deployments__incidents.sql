with

deployments as (

    select * from {{ ref('int_deployments') }}

),

deployment_pull_requests as (

    select * from {{ ref('int_deployments__pull_requests') }}

),

attribution as (

    select * from {{ ref('int_defect_attribution') }}

),

defect_references as (

    select * from {{ ref('int_defects__references') }}

),

incidents as (

    select * from {{ ref('int_incidents') }}

),

rollbacks as (

    select * from {{ ref('int_incidents__rollbacks') }}

),

through_pull_requests as (

    -- The incident is attributed (any rule) to a PR this deployment shipped.
    select distinct
        deployment_pull_requests.deployment_id,
        attribution.defect_id as incident_id
    from attribution
    inner join deployment_pull_requests
        on attribution.pull_request_id = deployment_pull_requests.pull_request_id
    where attribution.defect_kind = 'incident'

),

named as (

    -- The incident names the deployment (its API URL in a note or the description).
    select distinct
        deployment_id,
        defect_id as incident_id
    from defect_references
    where reference_kind = 'deployment'
        and defect_kind = 'incident'

),

links as (

    select
        coalesce(through_pull_requests.deployment_id, named.deployment_id) as deployment_id,
        coalesce(through_pull_requests.incident_id, named.incident_id) as incident_id,
        through_pull_requests.deployment_id is not null as is_via_pull_request,
        named.deployment_id is not null as is_named
    from through_pull_requests
    full outer join named
        on through_pull_requests.deployment_id = named.deployment_id
        and through_pull_requests.incident_id = named.incident_id

),

final as (

    select

        ----------  ids
        links.deployment_id,
        links.incident_id,
        deployments.repo_full_name,

        ---------- how they are linked
        links.is_via_pull_request,
        links.is_named,

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
