{#-
    Every external identity the sources show, and the person it resolves to (docs/metrics.md
    section 1), in order: an exact match on an id the people seed maps (GitHub login, compared
    case-insensitively as GitHub does; Jira account id; PagerDuty user id), then the email
    (case-insensitive, against the seed's emails; a GitHub noreply address
    `ID+login@users.noreply.github.com` resolves through `login`), else unresolved: kept with
    a null person_id.
    Systems: github (PR authors and review actors), git_email (commit author emails), jira
    (issue assignees and reporters), pagerduty (incident assignees and the users acting in
    incident logs), claude_code (actor emails in Claude Code usage).
-#}

with

people as (

    select * from {{ ref('int_people') }}

),

people_emails as (

    select * from {{ ref('int_people__emails') }}

),

github_logins as (

    select author_login as external_id from {{ ref('stg_github__pull_requests') }}
    union
    select reviewer_login from {{ ref('stg_github__pull_request_reviews') }}
    union
    select commenter_login from {{ ref('stg_github__pull_request_review_comments') }}
    union
    select commenter_login from {{ ref('stg_github__issue_comments') }}

),

commit_emails as (

    select distinct author_email as external_id
    from {{ ref('stg_github__pull_request_commits') }}

),

jira_accounts as (

    select assignee_account_id as external_id from {{ ref('stg_jira__issues') }}
    union
    select reporter_account_id from {{ ref('stg_jira__issues') }}

),

pagerduty_users as (

    -- PagerDuty clears an incident's assignees when it resolves, so the users who acted on
    -- it (acknowledged, annotated, resolved) in its log count too.
    select assignee_user_id as external_id
    from (
        select {{ json_strings_unnested('assignee_user_ids') }} as assignee_user_id
        from {{ ref('stg_pagerduty__incidents') }}
        where assignee_user_ids is not null
    ) as assignees
    union
    select agent_id
    from {{ ref('stg_pagerduty__incident_log_entries') }}
    where agent_type = 'user_reference'

),

claude_code_emails as (

    select distinct actor_email_address as external_id
    from {{ ref('stg_anthropic__claude_code_usage') }}

),

emails as (

    select 'git_email' as system, external_id from commit_emails
    union all
    select 'claude_code' as system, external_id from claude_code_emails

),

email_matches as (

    select
        emails.system,
        emails.external_id,
        min(people_emails.person_id) as person_id
    from emails
    inner join people_emails
        on lower(emails.external_id) = people_emails.email
    group by
        emails.system,
        emails.external_id

),

noreply_matches as (

    -- ID+login@users.noreply.github.com: the login is between the '+' and the '@'.
    select
        emails.system,
        emails.external_id,
        min(people.person_id) as person_id
    from emails
    inner join people
        on lower(people.github_login) = {{ noreply_github_login('emails.external_id') }}
    group by
        emails.system,
        emails.external_id

),

resolved_emails as (

    select
        emails.system,
        emails.external_id,
        coalesce(email_matches.person_id, noreply_matches.person_id) as person_id,
        case
            when email_matches.person_id is not null then 'email'
            when noreply_matches.person_id is not null then 'noreply_email'
        end as resolved_by
    from emails
    left join email_matches
        on emails.system = email_matches.system
            and emails.external_id = email_matches.external_id
    left join noreply_matches
        on emails.system = noreply_matches.system
            and emails.external_id = noreply_matches.external_id

),

resolved_github as (

    select
        'github' as system,
        github_logins.external_id,
        people.person_id,
        case when people.person_id is not null then 'github_login' end as resolved_by
    from github_logins
    left join people
        on lower(github_logins.external_id) = lower(people.github_login)

),

resolved_jira as (

    select
        'jira' as system,
        jira_accounts.external_id,
        people.person_id,
        case when people.person_id is not null then 'jira_account_id' end as resolved_by
    from jira_accounts
    left join people
        on jira_accounts.external_id = people.jira_account_id

),

resolved_pagerduty as (

    select
        'pagerduty' as system,
        pagerduty_users.external_id,
        people.person_id,
        case when people.person_id is not null then 'pagerduty_user_id' end as resolved_by
    from pagerduty_users
    left join people
        on pagerduty_users.external_id = people.pagerduty_user_id

),

unioned as (

    select * from resolved_github
    union all
    select * from resolved_emails
    union all
    select * from resolved_jira
    union all
    select * from resolved_pagerduty

),

final as (

    select

        ----------  ids
        unioned.system,
        unioned.external_id,
        unioned.person_id,

        ---------- how
        unioned.resolved_by,

        ---------- flags
        -- A bot: a GitHub login (or noreply address) ending in [bot], or a bot in the seed.
        coalesce(
            people.is_bot
            or (unioned.system = 'github' and {{ dbt.right('unioned.external_id', 5) }} = '[bot]')
            or (
                unioned.system = 'git_email'
                and unioned.external_id like '%[bot]@users.noreply.github.com'
            ),
            false
        ) as is_bot

    from unioned
    left join people
        on unioned.person_id = people.person_id
    where unioned.external_id is not null and unioned.external_id <> ''

)

select * from final
