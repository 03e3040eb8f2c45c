with

refs as (

    select * from {{ ref('int_pull_requests__work_item_refs') }}

),

work_items as (

    select * from {{ ref('int_work_items') }}

),

pull_requests as (

    select * from {{ ref('int_pull_requests__lifecycle') }}

),

existing_refs as (

    -- Candidate keys in a PR's title or head branch that are real Jira issues.
    select distinct
        refs.work_item_key,
        refs.pull_request_id
    from refs
    inner join work_items
        on refs.work_item_key = work_items.work_item_key

),

final as (

    select

        ----------  ids
        existing_refs.work_item_key,
        existing_refs.pull_request_id,
        pull_requests.repo_full_name,
        pull_requests.pull_request_number,

        ---------- the PR's life
        pull_requests.outcome,
        pull_requests.outcome = 'merged' as is_merged,
        pull_requests.merged_at,
        pull_requests.shipped_at,
        pull_requests.shipping_deployment_id

    from existing_refs
    inner join pull_requests
        on existing_refs.pull_request_id = pull_requests.pull_request_id

)

select * from final
