{#-
    Whether a PR is AI-assisted (docs/metrics.md section 3) and why. Patterns come from the seed
    `ai_signatures`: a `trailer` matches a commit whose message contains it (any case), an
    `author` is an agent bot's exact login, a `branch_prefix` starts the head branch, a `label`
    is one of the PR's labels (exact). ai_reasons lists the reasons found, comma-separated, in
    the order commit_signature, agent_author, branch_prefix, label ('' when none).
-#}

with

pull_requests as (

    select * from {{ ref('stg_github__pull_requests') }}

),

commits as (

    select * from {{ ref('stg_github__pull_request_commits') }}

),

signatures as (

    select * from {{ ref('ai_signatures') }}

),

trailers as (

    select lower(pattern) as pattern from signatures
    where kind = 'trailer'

),

commit_flags as (

    select
        commits.repo_full_name,
        commits.pull_request_number,
        commits.commit_sha,
        max(case when trailers.pattern is not null then 1 else 0 end) as is_ai_commit
    from commits
    left join trailers
        on {{ dbt.position('trailers.pattern', 'lower(commits.commit_message)') }} > 0
    group by
        commits.repo_full_name,
        commits.pull_request_number,
        commits.commit_sha

),

commit_counts as (

    select
        repo_full_name,
        pull_request_number,
        count(*) as commit_count,
        sum(is_ai_commit) as ai_commit_count
    from commit_flags
    group by
        repo_full_name,
        pull_request_number

),

agent_authors as (

    select distinct pull_requests.pull_request_id
    from pull_requests
    inner join signatures
        on signatures.kind = 'author'
            and pull_requests.author_login = signatures.pattern

),

branch_prefixes as (

    select distinct pull_requests.pull_request_id
    from pull_requests
    inner join signatures
        on signatures.kind = 'branch_prefix'
            and {{ dbt.position('signatures.pattern', 'pull_requests.head_ref') }} = 1

),

pull_request_labels as (

    select
        pull_request_id,
        {{ json_strings_unnested('label_names') }} as label_name
    from pull_requests
    where label_names is not null

),

ai_labels as (

    select distinct pull_request_labels.pull_request_id
    from pull_request_labels
    inner join signatures
        on signatures.kind = 'label'
            and pull_request_labels.label_name = signatures.pattern

),

flags as (

    select
        pull_requests.pull_request_id,
        pull_requests.repo_full_name,
        pull_requests.pull_request_number,
        coalesce(commit_counts.commit_count, 0) as commit_count,
        coalesce(commit_counts.ai_commit_count, 0) as ai_commit_count,
        coalesce(commit_counts.ai_commit_count, 0) > 0 as has_commit_signature,
        agent_authors.pull_request_id is not null as has_agent_author,
        branch_prefixes.pull_request_id is not null as has_branch_prefix,
        ai_labels.pull_request_id is not null as has_ai_label
    from pull_requests
    left join commit_counts
        on pull_requests.repo_full_name = commit_counts.repo_full_name
            and pull_requests.pull_request_number = commit_counts.pull_request_number
    left join agent_authors
        on pull_requests.pull_request_id = agent_authors.pull_request_id
    left join branch_prefixes
        on pull_requests.pull_request_id = branch_prefixes.pull_request_id
    left join ai_labels
        on pull_requests.pull_request_id = ai_labels.pull_request_id

),

reasons as (

    select
        *,
        {{ dbt.concat([
            "case when has_commit_signature then ',commit_signature' else '' end",
            "case when has_agent_author then ',agent_author' else '' end",
            "case when has_branch_prefix then ',branch_prefix' else '' end",
            "case when has_ai_label then ',label' else '' end",
        ]) }} as reason_list
    from flags

),

final as (

    select

        ----------  ids
        pull_request_id,
        repo_full_name,
        pull_request_number,

        ---------- classification
        has_commit_signature or has_agent_author or has_branch_prefix or has_ai_label
            as is_ai_assisted,
        case
            when reason_list = '' then ''
            else substring(reason_list, 2)
        end as ai_reasons,
        has_commit_signature,
        has_agent_author,
        has_branch_prefix,
        has_ai_label,

        ---------- commits
        cast(commit_count as {{ dbt.type_int() }}) as commit_count,
        cast(ai_commit_count as {{ dbt.type_int() }}) as ai_commit_count,
        case
            when commit_count > 0
                then cast(ai_commit_count as {{ type_double() }}) / commit_count
        end as ai_commit_share

    from reasons

)

select * from final
