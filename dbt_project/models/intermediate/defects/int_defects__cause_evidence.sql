with

defects as (

    select * from {{ ref('int_defects') }}

),

defect_references as (

    select * from {{ ref('int_defects__references') }}

),

links as (

    select * from {{ ref('stg_jira__issue_links') }}

),

work_item_pull_requests as (

    select * from {{ ref('int_work_items__pull_requests') }}

),

deployments as (

    select * from {{ ref('int_deployments') }}

),

deployment_pull_requests as (

    select * from {{ ref('int_deployments__pull_requests') }}

),

service_repos as (

    select * from {{ ref('service_repos') }}

),

explicit as (

    -- Rule 1: the PRs a defect links or names.
    select
        defect_id,
        'explicit' as rule,
        cast(null as {{ dbt.type_string() }}) as via_work_item_key,
        cast(null as {{ dbt.type_bigint() }}) as via_deployment_id,
        pull_request_id,
        repo_full_name,
        pull_request_number
    from defect_references
    where reference_kind = 'pull_request'

),

caused_by as (

    -- A caused-by link reads `cause` <causes> `effect`: the effect (inward side) is caused
    -- by the work item on the outward side.
    select distinct
        inward_issue_key as defect_id,
        outward_issue_key as work_item_key
    from links
    where link_type_name in {{ sql_string_list(var('caused_by_link_types')) }}

),

through_work_items as (

    -- Rule 2: the merged PRs that implement (name in title or head branch) a work item the
    -- defect is caused by. An abandoned or open PR never reached production.
    select
        caused_by.defect_id,
        'work_item' as rule,
        caused_by.work_item_key as via_work_item_key,
        cast(null as {{ dbt.type_bigint() }}) as via_deployment_id,
        work_item_pull_requests.pull_request_id,
        work_item_pull_requests.repo_full_name,
        work_item_pull_requests.pull_request_number
    from caused_by
    inner join defects
        on caused_by.defect_id = defects.defect_id
    inner join work_item_pull_requests
        on caused_by.work_item_key = work_item_pull_requests.work_item_key
            and work_item_pull_requests.is_merged

),

shipped as (

    select
        deployment_id,
        pull_request_id,
        repo_full_name,
        pull_request_number
    from deployment_pull_requests

),

through_named_deployments as (

    -- Rule 3 (incidents): the PRs shipped by a deployment the incident names. A named
    -- deployment that shipped nothing known still decides the rule (a row with no PR).
    select
        defect_references.defect_id,
        'deployment' as rule,
        cast(null as {{ dbt.type_string() }}) as via_work_item_key,
        defect_references.deployment_id as via_deployment_id,
        shipped.pull_request_id,
        shipped.repo_full_name,
        shipped.pull_request_number
    from defect_references
    left join shipped
        on defect_references.deployment_id = shipped.deployment_id
    where defect_references.reference_kind = 'deployment'
        and defect_references.defect_kind = 'incident'

),

{% if var('attribute_incidents_by_time') %}
latest_deployment_before as (

    -- Rule 4 (incidents): the latest successful production deployment, finished before the
    -- incident was created, of a repository the seed service_repos maps its service to.
    select
        defect_id,
        deployment_id
    from (
        select
            defects.defect_id,
            deployments.deployment_id,
            row_number() over (
                partition by defects.defect_id
                order by deployments.finished_at desc, deployments.deployment_id desc
            ) as recency_rank
        from defects
        inner join service_repos
            on defects.service_id = service_repos.service_id
        inner join deployments
            on service_repos.repo_full_name = deployments.repo_full_name
                and deployments.is_production
                and deployments.is_successful
                and defects.created_at > deployments.finished_at
        where defects.defect_kind = 'incident'
    ) as ranked
    where recency_rank = 1

),

by_time as (

    select
        latest_deployment_before.defect_id,
        'time' as rule,
        cast(null as {{ dbt.type_string() }}) as via_work_item_key,
        latest_deployment_before.deployment_id as via_deployment_id,
        shipped.pull_request_id,
        shipped.repo_full_name,
        shipped.pull_request_number
    from latest_deployment_before
    left join shipped
        on latest_deployment_before.deployment_id = shipped.deployment_id

),
{% endif %}

final as (

    select * from explicit
    union all
    select * from through_work_items
    union all
    select * from through_named_deployments
    {% if var('attribute_incidents_by_time') %}
    union all
    select * from by_time
    {% endif %}

)

select * from final
