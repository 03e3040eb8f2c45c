{#-
    Every submitted review beside the opening of its pull request, for the blocking suite
    expectations/chk_github__review_time_order.json: a review cannot precede its PR (GitHub
    stamps both), and one that does stretches the PR's review time (docs/quality.md, time
    order). `minutes_before_opened` is positive for a review dated before the opening; the
    suite allows `time_order_tolerance_minutes`. Built with staging, so the suite runs
    before any model that reads reviews.
-#}

with

pull_requests as (

    select * from {{ ref('stg_github__pull_requests') }}

),

reviews as (

    select * from {{ ref('stg_github__pull_request_reviews') }}
    -- A pending review has no submission time: nothing to order.
    where submitted_at is not null

),

final as (

    select

        ----------  ids
        reviews.review_id,
        pull_requests.pull_request_id,
        reviews.repo_full_name,
        reviews.pull_request_number,

        ---------- timestamps (UTC)
        reviews.submitted_at,
        pull_requests.created_at as opened_at,

        ---------- measures
        {{ minutes_between('reviews.submitted_at', 'pull_requests.created_at') }}
            as minutes_before_opened

    from reviews
    inner join pull_requests
        on reviews.repo_full_name = pull_requests.repo_full_name
            and reviews.pull_request_number = pull_requests.pull_request_number

)

select * from final
