"""GitHub REST (`https://api.github.com`) over the store's gh_* tables, as of the clock.

State is as of `req.now`: nothing created after it exists, and what changed after it shows
its earlier state (a PR merged later is open; a run finishing later is in progress). Every
query is fully ordered, so the same store, clock and request give the same bytes.

Endpoints (all GET): org repos, repo; pulls (list, one, reviews, commits, review comments,
repo-wide review comments); issue comments (one PR, repo-wide); deployments (list, one,
statuses); compare two commits (`github_compare`); actions runs (list, one, jobs of the
latest attempt or all, jobs of an attempt). Transport (auth, errors, rate limit, ETags, Link
pages) lives in `github_transport`, body shapes in `github_objects`.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from org_simulator.http import ApiError, Request, Response, Vendor, parse_time, route
from org_simulator.vendors import github_objects as obj
from org_simulator.vendors.github_compare import compare
from org_simulator.vendors.github_transport import (
    Page,
    authenticate,
    decorate,
    error_body,
    guard,
    page_args,
    paged,
)

COMMITS_CAP = 250  # GET /pulls/{n}/commits lists at most 250 commits
RUNS_CAP = 1000  # a filtered GET /actions/runs reaches at most 1,000 runs
RUN_SEARCH_FILTERS = ("actor", "branch", "check_suite_id", "created", "event", "head_sha", "status")
RUN_STATUSES = {"completed", "in_progress", "queued", "requested", "waiting", "pending",
                "action_required"}  # fmt: skip
RUN_CONCLUSIONS = {"success", "failure", "neutral", "cancelled", "skipped", "timed_out",
                   "stale", "startup_failure"}  # fmt: skip

# A review comment drafted in a pending review stays hidden until the review is submitted,
# then shows with its drafting time as created_at (as GitHub does): a `since` cursor alone
# can miss it.
_VISIBLE_REVIEW_COMMENT = """
    c.created_at <= $1 and (c.review_id is null or exists (
        select 1 from gh_reviews r where r.id = c.review_id and r.submitted_at <= $1))
"""


# --- small helpers --------------------------------------------------------------------------


def _choice(req: Request, name: str, allowed: tuple[str, ...], default: str) -> str:
    value = req.arg(name) or default
    if value not in allowed:
        raise ApiError(422, f"Validation Failed: {name} must be one of {', '.join(allowed)}")
    return value


def _number(req: Request, name: str) -> int:
    try:
        return int(req.params[name])
    except ValueError as exc:
        raise ApiError(404, "Not Found") from exc


def _since(req: Request) -> datetime | None:
    raw = req.arg("since")
    if not raw:
        return None
    return parse_time(raw.replace(" ", "+"), "since")


def _count(req: Request, sql: str, params: list) -> int:
    return int(req.db.execute(f"select count(*) from ({sql})", params).fetchone()[0])


def _listing(
    req: Request, sql: str, order: str, params: list, cap: int | None = None, behind: int = 0
) -> tuple[Page, list[dict[str, Any]], list[dict[str, Any]]]:
    """One page of `sql` in `order`, counted in the same query: (page, rows, the `behind`
    rows just before the page). `cap`: how many rows page-walking can reach at most."""
    page_no, per_page = page_args(req)
    offset = (page_no - 1) * per_page
    limit = per_page if cap is None else max(0, min(per_page, cap - offset))
    rows: list[dict[str, Any]] = []
    start = max(offset - behind, 0)
    if limit > 0:
        rows = req.rows(
            f"""select * from (select *, count(*) over () as _total from ({sql}))
                order by {order} limit {limit + offset - start} offset {start}""",
            params,
        )
    total = rows[0]["_total"] if rows else _count(req, sql, params)
    for row in rows:
        del row["_total"]
    page = Page(page_no, per_page, offset, total if cap is None else min(total, cap), total)
    return page, rows[offset - start :], rows[: offset - start]


def _window(
    req: Request, rows: list[dict[str, Any]], cap: int | None = None, behind: int = 0
) -> tuple[Page, list[dict[str, Any]], list[dict[str, Any]]]:
    """`_listing` over rows already in order (one parent's share of a `_grouped` query)."""
    page_no, per_page = page_args(req)
    offset = (page_no - 1) * per_page
    limit = per_page if cap is None else max(0, min(per_page, cap - offset))
    start = max(offset - behind, 0)
    window = rows[start : offset + limit] if limit > 0 else []
    total = len(rows)
    page = Page(page_no, per_page, offset, total if cap is None else min(total, cap), total)
    return page, window[offset - start :], window[: offset - start]


def _grouped(
    req: Request, name: str, sql: str, params: list, parent: str, order: str
) -> dict[Any, list[dict[str, Any]]]:
    """The rows of `sql` for every parent at once, by `parent` column, each list in `order`:
    one query where a page per parent would run one each. Computed once per server and
    `params` (the clock and the repository among them); the rows are shared, never changed."""

    def compute() -> dict[Any, list[dict[str, Any]]]:
        groups: dict[Any, list[dict[str, Any]]] = {}
        for row in req.rows(f"select * from ({sql}) order by {parent}, {order}", params):
            groups.setdefault(row[parent], []).append(row)
        return groups

    return req.memo(("github", name, *params), compute)


# --- repositories -----------------------------------------------------------------------------


_ORG_REPOS = """
    with r as (
        select * from gh_repositories where created_at <= $1 and lower(owner) = $2
    ),
    c as (
        select repo_full_name, max(committer_date) as last_commit from gh_commits
        where committer_date <= $1 and repo_full_name in (select full_name from r) group by 1
    ),
    o as (
        select repo_full_name, count(*) as n from gh_pull_requests
        where created_at <= $1 and repo_full_name in (select full_name from r)
          and not coalesce(coalesce(closed_at, merged_at) <= $1, false)
        group by 1
    )
    select r.*,
        case when r.pushed_at is not null and r.pushed_at <= $1 then r.pushed_at
             else greatest(r.created_at, c.last_commit) end as pushed_at_now,
        coalesce(o.n, 0) as open_issues_count
    from r left join c on c.repo_full_name = r.full_name
        left join o on o.repo_full_name = r.full_name
"""


def _repo(req: Request) -> dict[str, Any]:
    """The repository of the path (names are not case sensitive), or 404."""
    full = f"{req.params['owner']}/{req.params['repo']}".lower()
    repo = _repositories(req).get(full)
    if repo is None:
        raise ApiError(404, "Not Found")
    return repo


def _repositories(req: Request) -> dict[str, dict[str, Any]]:
    """The repositories as of the clock by lower-cased full name (the first by id)."""

    def compute() -> dict[str, dict[str, Any]]:
        rows = req.rows(
            "select * from gh_repositories where created_at <= $1 order by id", [req.now]
        )
        found: dict[str, dict[str, Any]] = {}
        for row in rows:
            found.setdefault(row["full_name"].lower(), row)
        return found

    return req.memo(("github", "repositories", req.now), compute)


def _full_repo(req: Request, repo: dict[str, Any]) -> dict[str, Any]:
    """The repository with what its full object shows as of the clock (pushes, open PRs)."""
    last_commit, open_count = req.db.execute(
        """select
            (select max(committer_date) from gh_commits
             where repo_full_name = $2 and committer_date <= $1),
            (select count(*) from gh_pull_requests
             where repo_full_name = $2 and created_at <= $1
               and not coalesce(coalesce(closed_at, merged_at) <= $1, false))""",
        [req.now, repo["full_name"]],
    ).fetchone()
    pushed = repo["pushed_at"]
    if pushed is None or pushed > req.now:
        pushed = max(x for x in (repo["created_at"], last_commit) if x is not None)
    return {**repo, "pushed_at_now": pushed, "open_issues_count": open_count}


def get_repo(req: Request) -> Response:
    return Response(200, obj.repository(req, _full_repo(req, _repo(req))))


def list_org_repos(req: Request) -> Response:
    org = req.params["org"].lower()
    exists = req.db.execute(
        "select count(*) from gh_repositories where lower(owner) = ?", [org]
    ).fetchone()[0]
    if not exists:
        raise ApiError(404, "Not Found")
    kind = _choice(req, "type", ("all", "public", "private", "forks", "sources", "member"), "all")
    sort = _choice(req, "sort", ("created", "updated", "pushed", "full_name"), "created")
    default_direction = "asc" if sort == "full_name" else "desc"
    direction = _choice(req, "direction", ("asc", "desc"), default_direction)
    where = " where true"
    if kind == "public":
        where += " and not private"
    elif kind == "private":
        where += " and private"
    elif kind == "forks":
        where += " and false"
    key = {"created": "created_at", "updated": "pushed_at_now", "pushed": "pushed_at_now",
           "full_name": "full_name"}[sort]  # fmt: skip
    sql = f"select * from ({_ORG_REPOS}){where}"
    order = f"{key} {direction}, id {direction}"
    page, rows, _ = _listing(req, sql, order, [req.now, org])
    return paged(req, page, [obj.repository(req, r) for r in rows])


# --- pull requests ----------------------------------------------------------------------------


def _pulls_sql() -> str:
    """PRs of repository $2 as of $1 with their *_now columns."""
    return """
    with p as (
        select * from gh_pull_requests
        where repo_full_name = $2 and created_at <= $1
    ),
    act as (
        select number, max("at") as last_at from gh_pull_request_activity
        where repo_full_name = $2 and "at" <= $1 group by number
    ),
    cm as (
        select pr_number, arg_max(sha, position) as sha, count(*) as n from gh_commits
        where repo_full_name = $2 and committer_date <= $1 group by pr_number
    ),
    s as (
        select p.*,
            case when p.merged_at <= $1 then p.merged_at end as merged_now,
            case when coalesce(p.closed_at, p.merged_at) <= $1
                 then coalesce(p.closed_at, p.merged_at) end as closed_now,
            coalesce(cm.sha, p.head_sha) as head_sha_now,
            coalesce(cm.n, 0) as commits_now,
            case when p.ready_for_review_at is not null then p.ready_for_review_at > $1
                 else coalesce(p.draft, false) end as draft_now,
            case when p.ready_for_review_at <= $1 then p.ready_for_review_at end as ready_now,
            act.last_at
        from p left join act on act.number = p.number left join cm on cm.pr_number = p.number
    )
    select s.*,
        case when closed_now is null then 'open' else 'closed' end as state_now,
        greatest(created_at, last_at, closed_now, merged_now, ready_now) as updated_now
    from s
    """


def _pull_row(req: Request, repo: dict[str, Any], number: int) -> dict[str, Any]:
    """One visible PR with its counters as of the clock, or 404."""
    sql = f"""select q.*,
            (select count(*) from gh_issue_comments c where c.repo_full_name = $2
               and c.pr_number = q.number and c.created_at <= $1) as comments_now,
            (select count(*) from gh_review_comments c where c.repo_full_name = $2
               and c.pr_number = q.number and {_VISIBLE_REVIEW_COMMENT}) as review_comments_now
        from ({_pulls_sql()}) q"""
    rows = _grouped(req, "pull", sql, [req.now, repo["full_name"]], "number", "number")
    if number not in rows:
        raise ApiError(404, "Not Found")
    return rows[number][0]


def list_pulls(req: Request) -> Response:
    repo = _full_repo(req, _repo(req))
    state = _choice(req, "state", ("open", "closed", "all"), "open")
    sort = _choice(req, "sort", ("created", "updated", "popularity", "long-running"), "created")
    # GitHub: "desc when sort is created or sort is not specified, otherwise asc".
    direction = _choice(req, "direction", ("asc", "desc"), "desc" if sort == "created" else "asc")
    params: list[Any] = [req.now, repo["full_name"]]
    where = []
    if sort == "long-running":  # open over a month, with activity within the last month
        params.append(req.now - timedelta(days=30))
        where.append(f"created_at <= ${len(params)} and updated_now >= ${len(params)}")
    if state != "all":
        params.append(state)
        where.append(f"state_now = ${len(params)}")
    if req.arg("base"):
        params.append(req.arg("base"))
        where.append(f"base_ref = ${len(params)}")
    if req.arg("head"):
        owner, _, ref = req.arg("head").rpartition(":")
        if owner and owner.lower() != repo["owner"].lower():
            where.append("false")
        params.append(ref)
        where.append(f"head_ref = ${len(params)}")
    key = {
        "created": "created_at",
        "updated": "updated_now",
        "popularity": "popularity",
        "long-running": "created_at",
    }[sort]
    popularity = ""
    if sort == "popularity":
        popularity = """, (select count(*) from gh_issue_comments c where c.repo_full_name = $2
                           and c.pr_number = q.number and c.created_at <= $1) as popularity"""
    sql = f"""select q.*{popularity} from ({_pulls_sql()}) q
              {"where " + " and ".join(where) if where else ""}"""
    page, rows, _ = _listing(req, sql, f"{key} {direction}, number {direction}", params)
    users = obj.Users(req)
    users.load(r["author_login"] for r in rows)
    return paged(req, page, [obj.pull_request(req, r, repo, users) for r in rows])


def get_pull(req: Request) -> Response:
    repo = _full_repo(req, _repo(req))
    row = _pull_row(req, repo, _number(req, "number"))
    users = obj.Users(req)
    users.load([row["author_login"], row["merged_by_login"]])
    return Response(200, obj.pull_request(req, row, repo, users, full=True))


def _visible_pull(req: Request) -> tuple[dict[str, Any], int]:
    repo = _repo(req)
    number = _number(req, "number")
    if number not in _base_refs(req, repo):
        raise ApiError(404, "Not Found")
    return repo, number


def _base_refs(req: Request, repo: dict[str, Any]) -> dict[int, str]:
    """The base branch of each PR of `repo` created by the clock, by number."""

    def compute() -> dict[int, str]:
        rows = req.db.execute(
            "select number, base_ref from gh_pull_requests "
            "where repo_full_name = ? and created_at <= ?",
            [repo["full_name"], req.now],
        ).fetchall()
        return dict(rows)

    return req.memo(("github", "base_refs", repo["full_name"], req.now), compute)


def list_reviews(req: Request) -> Response:
    repo, number = _visible_pull(req)
    sql = "select * from gh_reviews where repo_full_name = $2 and submitted_at <= $1"
    reviews = _grouped(req, "reviews", sql, [req.now, repo["full_name"]], "pr_number", "id")
    page, rows, _ = _window(req, reviews.get(number, []))
    users = obj.Users(req)
    users.load(r["user_login"] for r in rows)
    return paged(req, page, [obj.review(req, r, users) for r in rows])


def list_pull_commits(req: Request) -> Response:
    repo, number = _visible_pull(req)
    sql = """select *, $3::bigint as repo_id from gh_commits
             where repo_full_name = $2 and committer_date <= $1 and pr_number is not null"""
    params = [req.now, repo["full_name"], repo["id"]]
    commits = _grouped(req, "pull_commits", sql, params, "pr_number", "position, sha")
    page, rows, before = _window(req, commits.get(number, []), COMMITS_CAP, behind=1)
    parent = before[-1]["sha"] if before else None
    users = obj.Users(req)
    users.load(r["author_login"] for r in rows)
    base = obj.derived_sha("base", repo["full_name"], _base_refs(req, repo)[number], number)
    out = []
    for row in rows:
        out.append(obj.commit(req, row, [parent or base], users))
        parent = row["sha"]
    return paged(req, page, out)


# --- comments ---------------------------------------------------------------------------------

_REVIEW_COMMENTS = f"""
    select c.*,
        case when c.updated_at <= $1 then c.updated_at else c.created_at end as updated_now
    from gh_review_comments c where c.repo_full_name = $2 and {_VISIBLE_REVIEW_COMMENT}
"""
_ISSUE_COMMENTS = """
    select *, case when updated_at <= $1 then updated_at else created_at end as updated_now
    from gh_issue_comments where repo_full_name = $2 and created_at <= $1
"""


def _comments(
    req: Request, repo: dict[str, Any], base_sql: str, number: int | None, sortable: bool
) -> tuple[str, str, list]:
    """Comment query and order: ascending id, or `sort`/`direction` where GitHub has them."""
    params: list[Any] = [req.now, repo["full_name"]]
    where = []
    if number is not None:
        params.append(number)
        where.append(f"pr_number = ${len(params)}")
    since = _since(req)
    if since is not None:
        params.append(since)
        where.append(f"updated_now >= ${len(params)}")
    order = "id asc"
    if sortable and req.arg("sort"):
        key = {"created": "created_at", "updated": "updated_now"}[
            _choice(req, "sort", ("created", "updated"), "created")
        ]
        direction = _choice(req, "direction", ("asc", "desc"), "desc")
        order = f"{key} {direction}, id {direction}"
    elif sortable:
        _choice(req, "direction", ("asc", "desc"), "asc")
    sql = f"select * from ({base_sql}) {'where ' + ' and '.join(where) if where else ''}"
    return sql, order, params


def _comment_page(req: Request, sql: str, order: str, params: list, render) -> Response:
    page, rows, _ = _listing(req, sql, order, params)
    return _render_comments(req, page, rows, render)


def _pull_comment_page(req: Request, name: str, base_sql: str, sortable: bool, render) -> Response:
    """One PR's comments: from every PR's comments at once in the common case (ascending id,
    no `since`), else by their own query."""
    repo, number = _visible_pull(req)
    sql, order, params = _comments(req, repo, base_sql, number, sortable)
    if order != "id asc" or len(params) != 3:
        return _comment_page(req, sql, order, params, render)
    every = _grouped(req, name, base_sql, params[:2], "pr_number", "id asc")
    page, rows, _ = _window(req, every.get(number, []))
    return _render_comments(req, page, rows, render)


def _render_comments(req: Request, page: Page, rows: list[dict[str, Any]], render) -> Response:
    users = obj.Users(req)
    users.load(r["user_login"] for r in rows)
    return paged(req, page, [render(req, r, users) for r in rows])


def list_pull_review_comments(req: Request) -> Response:
    return _pull_comment_page(
        req, "review_comments", _REVIEW_COMMENTS, sortable=True, render=obj.review_comment
    )


def list_repo_review_comments(req: Request) -> Response:
    repo = _repo(req)
    sql, order, params = _comments(req, repo, _REVIEW_COMMENTS, None, sortable=True)
    return _comment_page(req, sql, order, params, obj.review_comment)


def list_issue_comments(req: Request) -> Response:
    return _pull_comment_page(
        req, "issue_comments", _ISSUE_COMMENTS, sortable=False, render=obj.issue_comment
    )


def list_repo_issue_comments(req: Request) -> Response:
    repo = _repo(req)
    sql, order, params = _comments(req, repo, _ISSUE_COMMENTS, None, sortable=True)
    return _comment_page(req, sql, order, params, obj.issue_comment)


# --- deployments ------------------------------------------------------------------------------

_DEPLOYMENTS = """
    with st as (
        select deployment_id, max(created_at) as last_at from gh_deployment_statuses
        where repo_full_name = $2 and created_at <= $1 group by deployment_id
    )
    select d.*,
        case when d.updated_at is not null and d.updated_at <= $1
             then greatest(d.created_at, d.updated_at)
             else greatest(d.created_at, st.last_at) end as updated_now
    from gh_deployments d left join st on st.deployment_id = d.id
    where d.repo_full_name = $2 and d.created_at <= $1
"""


def list_deployments(req: Request) -> Response:
    repo = _repo(req)
    params: list[Any] = [req.now, repo["full_name"]]
    where = []
    for name in ("sha", "ref", "task", "environment"):
        value = req.arg(name)
        if value:
            params.append(value)
            where.append(f"{name} = ${len(params)}")
    sql = f"""select * from ({_DEPLOYMENTS}) {"where " + " and ".join(where) if where else ""}"""
    page, rows, _ = _listing(req, sql, "id desc", params)
    users = obj.Users(req)
    users.load(r["creator_login"] for r in rows)
    return paged(req, page, [obj.deployment(req, r, users) for r in rows])


def _deployment_row(req: Request) -> tuple[dict[str, Any], dict[str, Any]]:
    repo = _repo(req)
    every = _grouped(req, "deployments", _DEPLOYMENTS, [req.now, repo["full_name"]], "id", "id")
    rows = every.get(_number(req, "deployment_id"))
    if not rows:
        raise ApiError(404, "Not Found")
    return repo, rows[0]


def get_deployment(req: Request) -> Response:
    _, row = _deployment_row(req)
    users = obj.Users(req)
    return Response(200, obj.deployment(req, row, users))


def list_deployment_statuses(req: Request) -> Response:
    repo, deployment = _deployment_row(req)
    sql = """select * from gh_deployment_statuses
             where repo_full_name = $2 and created_at <= $1"""
    params = [req.now, repo["full_name"]]
    statuses = _grouped(req, "deployment_statuses", sql, params, "deployment_id", "id desc")
    page, rows, _ = _window(req, statuses.get(deployment["id"], []))
    users = obj.Users(req)
    users.load(r["creator_login"] for r in rows)
    return paged(req, page, [obj.deployment_status(req, r, users) for r in rows])


def compare_commits(req: Request) -> Response:
    return compare(req, _repo(req))


# --- actions ----------------------------------------------------------------------------------


def _runs_sql() -> str:
    """Runs of repository $2 as of $1. A run not settled by the clock is in progress, on the
    latest attempt that has jobs by then."""
    return """
    with ja as (
        select run_id, max(run_attempt) as attempt from gh_workflow_jobs
        where repo_full_name = $2 and created_at <= $1 group by run_id
    ),
    r as (
        select w.*, coalesce(w.updated_at, w.created_at) <= $1 as settled,
            ja.attempt as job_attempt
        from gh_workflow_runs w left join ja on ja.run_id = w.id
        where w.repo_full_name = $2 and w.created_at <= $1
    )
    select r.*,
        case when settled then status else 'in_progress' end as status_now,
        case when settled then conclusion end as conclusion_now,
        case when settled then run_attempt
             else least(run_attempt, coalesce(job_attempt, 1)) end as attempt_now,
        case when settled or run_started_at <= $1 then run_started_at
             else created_at end as started_now,
        case when settled then updated_at
             else greatest(created_at, case when run_started_at <= $1 then run_started_at end)
        end as updated_now
    from r
    """


def _created_filter(raw: str, params: list) -> list[str]:
    """GitHub search date syntax: D, >=D, >D, <=D, <D, A..B (with * for open ends)."""
    raw = raw.strip().replace(" ", "+")

    def point(text: str) -> tuple[datetime, datetime, bool]:
        """(start, end, is_day): a bare date covers its whole day."""
        value = parse_time(text, "created")
        if len(text) == 10:
            return value, value + timedelta(days=1), True
        return value, value, False

    def cond(op: str, value: datetime) -> str:
        # Compared as served: in whole seconds (`created=<=T` includes a run shown at T).
        params.append(value)
        return f"date_trunc('second', created_at) {op} ${len(params)}"

    try:
        if ".." in raw:
            lo, _, hi = raw.partition("..")
            out = []
            if lo not in ("", "*"):
                out.append(cond(">=", point(lo)[0]))
            if hi not in ("", "*"):
                _, end, day = point(hi)
                out.append(cond("<" if day else "<=", end))
            return out
        for op in (">=", "<=", ">", "<"):
            if raw.startswith(op):
                start, end, day = point(raw[len(op) :])
                if op == ">=":
                    return [cond(">=", start)]
                if op == ">":
                    return [cond(">=" if day else ">", end)]
                if op == "<=":
                    return [cond("<" if day else "<=", end)]
                return [cond("<", start)]
        start, end, day = point(raw)
        return [cond(">=", start), cond("<" if day else "<=", end)]
    except ApiError as exc:
        raise ApiError(422, f"Validation Failed: invalid created filter {raw!r}") from exc


def list_runs(req: Request) -> Response:
    repo = _repo(req)
    params: list[Any] = [req.now, repo["full_name"]]
    where = []
    for name, column in (("branch", "head_branch"), ("event", "event"),
                         ("head_sha", "head_sha"), ("actor", "actor_login")):  # fmt: skip
        value = req.arg(name)
        if value:
            params.append(value)
            where.append(f"{column} = ${len(params)}")
    status = req.arg("status")
    if status:
        if status not in RUN_STATUSES | RUN_CONCLUSIONS:
            raise ApiError(422, f"Validation Failed: unknown status {status!r}")
        params.append(status)
        column = "status_now" if status in RUN_STATUSES else "conclusion_now"
        where.append(f"{column} = ${len(params)}")
    if req.arg("created"):
        where.extend(_created_filter(req.arg("created"), params))
    if req.arg("check_suite_id"):
        where.append("false")  # check suites are not simulated
    sql = f"""select * from ({_runs_sql()}) {"where " + " and ".join(where) if where else ""}"""
    filtered = any(req.arg(name) for name in RUN_SEARCH_FILTERS)
    cap = RUNS_CAP if filtered else None
    page, rows, _ = _listing(req, sql, "created_at desc, id desc", params, cap)
    runs = _render_runs(req, repo, rows)
    return paged(req, page, {"total_count": page.total, "workflow_runs": runs})


def _render_runs(req: Request, repo: dict[str, Any], rows: list[dict]) -> list[dict]:
    if not rows:
        return []
    name = repo["full_name"]
    shas = sorted({r["head_sha"] for r in rows if r["head_sha"]})
    commits = {
        c["sha"]: c
        for c in req.rows(
            """select * from gh_commits where repo_full_name = $1 and sha in
                   (select unnest($2::varchar[]))
               qualify row_number() over (partition by sha order by pr_number, position) = 1""",
            [name, shas],
        )
    }
    numbers = sorted({r["pr_number"] for r in rows if r["pr_number"] is not None})
    pulls = {
        p["number"]: p
        for p in req.rows(
            """select id, number, title, head_ref, base_ref from gh_pull_requests
               where repo_full_name = $1 and created_at <= $2
                 and number in (select unnest($3::integer[]))""",
            [name, req.now, numbers],
        )
    }
    users = obj.Users(req)
    users.load(r["actor_login"] for r in rows)
    exclude_pulls = (req.arg("exclude_pull_requests") or "").lower() == "true"
    return [
        obj.workflow_run(
            req,
            r,
            repo,
            users,
            obj.head_commit(commits.get(r["head_sha"]), name),
            None if exclude_pulls else pulls.get(r["pr_number"]),
        )
        for r in rows
    ]


def _run_row(req: Request) -> tuple[dict[str, Any], dict[str, Any]]:
    repo = _repo(req)
    every = _grouped(req, "runs", _runs_sql(), [req.now, repo["full_name"]], "id", "id")
    rows = every.get(_number(req, "run_id"))
    if not rows:
        raise ApiError(404, "Not Found")
    return repo, rows[0]


def get_run(req: Request) -> Response:
    repo, row = _run_row(req)
    return Response(200, _render_runs(req, repo, [row])[0])


_JOBS = """
    select j.*,
        case when j.completed_at <= $1 then j.status
             when j.started_at <= $1 then 'in_progress'
             else 'queued' end as status_now,
        case when j.completed_at <= $1 then j.conclusion end as conclusion_now,
        case when j.completed_at <= $1 then j.completed_at end as completed_now,
        case when j.started_at <= $1 then j.started_at else j.created_at end as started_now
    from gh_workflow_jobs j
    where j.repo_full_name = $2 and j.created_at <= $1
"""


def _jobs(req: Request, repo: dict[str, Any], run: dict[str, Any], attempt: int | None):
    every = _grouped(req, "jobs", _JOBS, [req.now, repo["full_name"]], "run_id", "id")
    rows = every.get(run["id"], [])
    if attempt is not None:
        rows = [r for r in rows if r["run_attempt"] == attempt]
    page, rows, _ = _window(req, rows)
    jobs = [obj.workflow_job(req, r, run) for r in rows]
    return paged(req, page, {"total_count": page.total, "jobs": jobs})


def list_run_jobs(req: Request) -> Response:
    repo, run = _run_row(req)
    which = _choice(req, "filter", ("latest", "all"), "latest")
    return _jobs(req, repo, run, int(run["attempt_now"]) if which == "latest" else None)


def list_attempt_jobs(req: Request) -> Response:
    repo, run = _run_row(req)
    attempt = _number(req, "attempt")
    if not 1 <= attempt <= int(run["attempt_now"]):
        raise ApiError(404, "Not Found")
    return _jobs(req, repo, run, attempt)


# --- the vendor -------------------------------------------------------------------------------

_R = "/repos/{owner}/{repo}"

VENDOR = Vendor(
    name="github",
    routes=[
        route("GET", "/orgs/{org}/repos", "org_repos", list_org_repos),
        route("GET", f"{_R}", "repo", get_repo),
        route("GET", f"{_R}/pulls", "pulls", list_pulls),
        route("GET", f"{_R}/pulls/comments", "review_comments", list_repo_review_comments),
        route("GET", f"{_R}/pulls/{{number}}", "pull", get_pull),
        route("GET", f"{_R}/pulls/{{number}}/reviews", "reviews", list_reviews),
        route("GET", f"{_R}/pulls/{{number}}/commits", "pull_commits", list_pull_commits),
        route(
            "GET",
            f"{_R}/pulls/{{number}}/comments",
            "pull_review_comments",
            list_pull_review_comments,
        ),
        route("GET", f"{_R}/issues/comments", "issue_comments", list_repo_issue_comments),
        route(
            "GET",
            f"{_R}/issues/{{number}}/comments",
            "pull_issue_comments",
            list_issue_comments,
        ),
        route("GET", f"{_R}/deployments", "deployments", list_deployments),
        route("GET", f"{_R}/deployments/{{deployment_id}}", "deployment", get_deployment),
        route(
            "GET",
            f"{_R}/deployments/{{deployment_id}}/statuses",
            "deployment_statuses",
            list_deployment_statuses,
        ),
        route("GET", f"{_R}/compare/{{basehead}}", "compare", compare_commits),
        route("GET", f"{_R}/actions/runs", "runs", list_runs),
        route("GET", f"{_R}/actions/runs/{{run_id}}", "run", get_run),
        route("GET", f"{_R}/actions/runs/{{run_id}}/jobs", "jobs", list_run_jobs),
        route(
            "GET",
            f"{_R}/actions/runs/{{run_id}}/attempts/{{attempt}}/jobs",
            "attempt_jobs",
            list_attempt_jobs,
        ),
    ],
    authenticate=authenticate,
    error_body=error_body,
    decorate=decorate,
    guard=guard,
)
