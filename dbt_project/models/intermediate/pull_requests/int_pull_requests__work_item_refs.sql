{#-
    Candidate Jira keys a PR names in its title or head branch (\b[A-Z][A-Z0-9]+-\d+\b,
    word boundaries in the Unicode sense: a key glued to letters of any script is no key):
    the work items it implements once filtered by the Jira issues that exist (downstream).
    Regular expressions have no lookaround here, so a match takes the character before the
    key (a non-word character or the start) and the word characters right after it; a key
    followed by word characters is not a key and is dropped.
-#}

{%- set word = regexp_word_characters() -%}
{%- set key_pattern = "'(^|[^" ~ word ~ "])([A-Z][A-Z0-9]+-[0-9]+)([" ~ word ~ "]*)'" -%}

with

pull_requests as (

    select * from {{ ref('stg_github__pull_requests') }}

),

texts as (

    select
        pull_request_id,
        repo_full_name,
        pull_request_number,
        'title' as found_in,
        pull_request_title as searched_text
    from pull_requests
    where pull_request_title is not null

    union all

    select
        pull_request_id,
        repo_full_name,
        pull_request_number,
        'head_ref' as found_in,
        head_ref as searched_text
    from pull_requests
    where head_ref is not null

),

matches as (

    select
        pull_request_id,
        repo_full_name,
        pull_request_number,
        found_in,
        {{ regexp_match_groups_unnested('searched_text', key_pattern,
            [(2, 'work_item_key'), (3, 'trailing_word')]) }}
    from texts

),

final as (

    select

        ----------  ids
        pull_request_id,
        repo_full_name,
        pull_request_number,
        work_item_key,

        ---------- where
        max(case when found_in = 'title' then 1 else 0 end) = 1 as in_title,
        max(case when found_in = 'head_ref' then 1 else 0 end) = 1 as in_head_ref

    from matches
    where trailing_word = ''
    group by
        pull_request_id,
        repo_full_name,
        pull_request_number,
        work_item_key

)

select * from final
