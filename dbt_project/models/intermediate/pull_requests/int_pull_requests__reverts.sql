{#-
    Which merged PR reverted each PR (docs/metrics.md section 3). A merged PR R reverts P when
      body_reference: R's body says `Reverts owner/repo#N` and P is PR N of owner/repo;
      body_sha:       R's body says `This reverts commit <sha>` and P's merge commit starts
                      with that sha (7 to 40 hex digits);
      title:          R's title is `Revert "<t>"` and P is the PR of R's repository titled t
                      merged latest before R was opened (titles repeat).
    A PR reverted more than once is reverted by the earliest merged revert (then the lowest
    PR id); revert_rule is the first rule, in the order above, by which that revert names it.
-#}

{%- set reverts_ref_pattern = "'Reverts ([A-Za-z0-9_.-]+/[A-Za-z0-9_.-]+#[0-9]+)'" -%}
{%- set reverts_sha_pattern = "'This reverts commit ([0-9a-f]{7,40})'" -%}

with

pull_requests as (

    select * from {{ ref('stg_github__pull_requests') }}

),

reverting as (

    select
        pull_request_id,
        repo_full_name,
        pull_request_number,
        pull_request_title,
        coalesce(pull_request_body, '') as pull_request_body,
        created_at as opened_at,
        merged_at
    from pull_requests
    where merged_at is not null

),

body_references as (

    select
        pull_request_id,
        {{ regexp_matches_unnested('pull_request_body', reverts_ref_pattern, 1) }} as reference
    from reverting

),

by_reference as (

    select
        body_references.pull_request_id as reverting_pull_request_id,
        targets.pull_request_id,
        1 as rule_order,
        'body_reference' as revert_rule
    from body_references
    inner join pull_requests as targets
        on targets.repo_full_name = {{ dbt.split_part('body_references.reference', "'#'", 1) }}
            and cast(targets.pull_request_number as {{ dbt.type_string() }})
            = {{ dbt.split_part('body_references.reference', "'#'", 2) }}

),

body_shas as (

    select
        pull_request_id,
        {{ regexp_matches_unnested('pull_request_body', reverts_sha_pattern, 1) }} as sha_prefix
    from reverting

),

by_sha as (

    -- Only merged PRs have a merge commit on main to revert.
    select
        body_shas.pull_request_id as reverting_pull_request_id,
        targets.pull_request_id,
        2 as rule_order,
        'body_sha' as revert_rule
    from body_shas
    inner join pull_requests as targets
        on targets.merged_at is not null
            and {{ dbt.position('body_shas.sha_prefix', 'targets.merge_commit_sha') }} = 1

),

revert_titles as (

    select
        pull_request_id,
        repo_full_name,
        opened_at,
        substring(
            pull_request_title, 9, {{ dbt.length('pull_request_title') }} - 9
        ) as reverted_title
    from reverting
    where substring(pull_request_title, 1, 8) = 'Revert "'
        and {{ dbt.right('pull_request_title', 1) }} = '"'
        and {{ dbt.length('pull_request_title') }} >= 9

),

title_candidates as (

    select
        revert_titles.pull_request_id as reverting_pull_request_id,
        targets.pull_request_id,
        row_number() over (
            partition by revert_titles.pull_request_id
            order by targets.merged_at desc, targets.pull_request_number desc
        ) as candidate_rank
    from revert_titles
    inner join pull_requests as targets
        on revert_titles.repo_full_name = targets.repo_full_name
            and revert_titles.reverted_title = targets.pull_request_title
            and revert_titles.opened_at > targets.merged_at

),

by_title as (

    select
        reverting_pull_request_id,
        pull_request_id,
        3 as rule_order,
        'title' as revert_rule
    from title_candidates
    where candidate_rank = 1

),

matches as (

    select * from by_reference
    union all
    select * from by_sha
    union all
    select * from by_title

),

ranked as (

    select
        matches.pull_request_id,
        matches.revert_rule,
        reverting.pull_request_id as reverted_by_pull_request_id,
        reverting.pull_request_number as reverted_by_number,
        reverting.merged_at as reverted_at,
        row_number() over (
            partition by matches.pull_request_id
            order by reverting.merged_at, reverting.pull_request_id, matches.rule_order
        ) as revert_rank
    from matches
    inner join reverting
        on matches.reverting_pull_request_id = reverting.pull_request_id
    where matches.pull_request_id <> matches.reverting_pull_request_id

),

final as (

    select

        ----------  ids
        pull_request_id,
        reverted_by_pull_request_id,
        reverted_by_number,

        ---------- revert
        revert_rule,
        reverted_at

    from ranked
    where revert_rank = 1

)

select * from final
