with

issues as (

    select * from {{ ref('stg_jira__issues') }}

),

changelog as (

    select * from {{ ref('stg_jira__issue_changelog') }}

),

people as (

    select * from {{ ref('int_people') }}

),

status_categories as (

    -- The category of each status id, read off the issues' current statuses (status ids are
    -- shared across a site's projects and locales). A status no issue is in now is unknown,
    -- hence never "done": a done status always has the issues that stayed done.
    select
        status_id,
        max(status_category_key) as status_category_key
    from issues
    group by status_id

),

status_changes as (

    select
        changelog.issue_id,
        changelog.created_at,
        coalesce(from_status.status_category_key = 'done', false) as is_from_done,
        coalesce(to_status.status_category_key = 'done', false) as is_to_done
    from changelog
    left join status_categories as from_status
        on changelog.from_value = from_status.status_id
    left join status_categories as to_status
        on changelog.to_value = to_status.status_id
    where changelog.field_name = 'status'

),

first_done as (

    select
        issue_id,
        min(created_at) as done_at
    from status_changes
    where is_to_done
    group by issue_id

),

first_reopen as (

    select
        status_changes.issue_id,
        min(status_changes.created_at) as reopened_at
    from status_changes
    inner join first_done
        on status_changes.issue_id = first_done.issue_id
    where status_changes.is_from_done
        and not status_changes.is_to_done
        and status_changes.created_at >= first_done.done_at
    group by status_changes.issue_id

),

issue_people as (

    select
        issues.issue_id,
        issues.project_key,
        assignee.person_id as assignee_person_id,
        assignee.team_id as assignee_team_id,
        reporter.person_id as reporter_person_id,
        reporter.team_id as reporter_team_id
    from issues
    left join people as assignee
        on issues.assignee_account_id = assignee.jira_account_id
    left join people as reporter
        on issues.reporter_account_id = reporter.jira_account_id

),

project_team_votes as (

    -- A project's team: the team most of its issues' resolved assignees and reporters are
    -- in (ties: the smallest team id).
    select
        project_key,
        team_id,
        count(*) as votes
    from (
        select project_key, assignee_team_id as team_id from issue_people
        union all
        select project_key, reporter_team_id as team_id from issue_people
    ) as members
    where team_id is not null
    group by project_key, team_id

),

project_teams as (

    select
        project_key,
        team_id
    from (
        select
            project_key,
            team_id,
            row_number() over (
                partition by project_key
                order by votes desc, team_id asc
            ) as team_rank
        from project_team_votes
    ) as ranked
    where team_rank = 1

),

final as (

    select

        ----------  ids
        issues.issue_key as work_item_key,
        issues.issue_id as work_item_id,
        issues.project_key,
        issue_people.assignee_person_id,
        issue_people.reporter_person_id,
        -- The assignee's team; unassigned or unresolved: the project's team.
        coalesce(issue_people.assignee_team_id, project_teams.team_id) as team_id,

        ---------- type and status
        issues.issue_type_name as issue_type,
        issues.issue_type_name in {{ sql_string_list(var('bug_issue_types')) }} as is_defect,
        issues.status_name,
        issues.status_category_key,
        issues.summary as title,

        ---------- timestamps (UTC)
        issues.created_at,
        issues.resolved_at,
        -- First time the issue reached the done category, from the changelog; an issue done
        -- without a recorded transition falls back to its last category change.
        coalesce(
            first_done.done_at,
            case
                when issues.status_category_key = 'done'
                    then issues.status_category_changed_at
            end
        ) as done_at,
        first_reopen.reopened_at

    from issues
    left join issue_people
        on issues.issue_id = issue_people.issue_id
    left join project_teams
        on issues.project_key = project_teams.project_key
    left join first_done
        on issues.issue_id = first_done.issue_id
    left join first_reopen
        on issues.issue_id = first_reopen.issue_id

)

select * from final
