{#-
    Every comment on a pull request (review comments on its diff and conversation comments)
    beside the opening of its PR, for the blocking suite
    expectations/chk_github__comment_time_order.json. Both kinds start review time (a PR's
    first human event, docs/metrics.md section 5), so a comment dated before its PR was
    opened stretches it. `minutes_before_opened` is positive for such a comment; the suite
    allows `time_order_tolerance_minutes`. Conversation comments on plain issues have no PR
    and drop out in the join.
-#}

with

pull_requests as (

    select * from {{ ref('stg_github__pull_requests') }}

),

comments as (

    select
        'review_comment' as comment_type,
        review_comment_id as comment_id,
        repo_full_name,
        pull_request_number,
        created_at
    from {{ ref('stg_github__pull_request_review_comments') }}

    union all

    select
        'issue_comment' as comment_type,
        issue_comment_id as comment_id,
        repo_full_name,
        pull_request_number,
        created_at
    from {{ ref('stg_github__issue_comments') }}

),

final as (

    select

        ----------  ids
        comments.comment_type,
        comments.comment_id,
        pull_requests.pull_request_id,
        comments.repo_full_name,
        comments.pull_request_number,

        ---------- timestamps (UTC)
        comments.created_at,
        pull_requests.created_at as opened_at,

        ---------- measures
        {{ minutes_between('comments.created_at', 'pull_requests.created_at') }}
            as minutes_before_opened

    from comments
    inner join pull_requests
        on comments.repo_full_name = pull_requests.repo_full_name
            and comments.pull_request_number = pull_requests.pull_request_number

)

select * from final
