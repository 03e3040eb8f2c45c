"""dlt source `github`: GitHub REST API (VCS and CI) -> dataset `raw_github`.

Configuration follows dlt's convention (env vars or .dlt/ toml):
  SOURCES__GITHUB__BASE_URL       e.g. https://api.github.com (the default)
  SOURCES__GITHUB__ACCESS_TOKEN   secret; sent only as an Authorization header
  SOURCES__GITHUB__REPOSITORIES   JSON list of "owner/name", e.g. '["acme/api"]'
  SOURCES__GITHUB__START_DATE     optional ISO date/time: ignore PRs and comments last updated,
                                  and deployments and workflow runs created, before it (a
                                  PR's reviews and commits come with it); default: the
                                  whole history
  SOURCES__GITHUB__CONCURRENCY    per-parent requests in flight at once (default 4): a
                                  changed PR's single read, reviews, commits and review
                                  comments re-read, a deployment's statuses, a run's jobs.
                                  GitHub's secondary rate limits punish many concurrent
                                  requests: keep it low
  SOURCES__GITHUB__REPOSITORIES_PER_RUN
                                  repositories loaded and committed together (default 5)
                                  while their history is read: a load is one dlt run per
                                  group (`checkpoints`), so a backfill cut off by an
                                  exhausted rate limit keeps the groups it finished and the
                                  next load goes on from there
  SOURCES__GITHUB__REPOSITORIES_PER_INCREMENTAL_RUN
                                  the same for repositories an earlier load read, whose
                                  runs read only what changed since (default 50)
  SOURCES__GITHUB__MAX_WAIT_SECONDS
                                  the longest wait for a rate-limit reset (default 900); a
                                  longer one fails the load. GitHub resets its limit hourly:
                                  3600 lets a large backfill wait out every window in one load
  SOURCES__GITHUB__PRODUCTION_ENVIRONMENTS
                                  JSON list of environment patterns that are production
                                  (ignoring case, `*` any run of characters) besides the ones
                                  GitHub flags production_environment; default: the dbt var
                                  production_environments, so the models and the loader agree

Tables, merged on their natural keys (`quarantine` on each record's hash):
  repositories                  GET /repos/{o}/{r} of each configured repository
  pull_requests                 the PR list, each changed PR read whole (sizes, merged_by)
  pull_request_reviews          reviews of changed PRs
  pull_request_commits          commits of changed PRs (GitHub lists 250 at most)
  pull_request_review_comments  review (diff) comments
  issue_comments                conversation comments of PRs and issues
  deployments                   deployments; `payload` as the deployer sent it (JSON)
  deployment_statuses           statuses of new or changed deployments
  deployment_ranges             GitHub's compare of each successful production deployment
                                with the previous one of its environment (once per pair)
  deployment_range_commits      the commits each comparison lists, oldest first
  workflow_runs                 Actions runs, as of their latest attempt
  workflow_jobs                 jobs of every attempt of new or changed runs

Incremental loading. Every list keeps, per repository in dlt resource state, a cursor and
the versions of the records it read within its look-back window (`Window`). A run reads
[cursor - look-back, now]; a record whose version the window already holds is neither
written again nor are its children fetched again. So a run with no changes makes one request
per list and repository and writes nothing, and a record that shows up late with an older
timestamp still loads. The single PR, reviews, commits, statuses and jobs are fetched only
for new or changed parents, and for the parents of records an earlier load quarantined
(see `Extraction.quarantined_again`). State is saved with the data, so a failed run
changes nothing.

  list                    cursor      look-back  version
  pull_requests           updated_at  1 hour     updated_at (sorted by update, newest first)
  review/issue comments   updated_at  1 hour     updated_at (`since`, oldest first)
  deployments             created_at  2 days     updated_at (statuses arrive after creation)
  workflow_runs           created_at  3 days     updated_at, status, attempt (re-runs)

Two API facts shape the rest:
- A pending review's comments are published when the review is submitted, but keep their
  drafting time, so a `since` walk can miss them. A changed PR that has review comments and
  a review submitted within the comment window gets its comments read on their own.
- A workflow-run query filtered by `created` reaches at most 1,000 runs. When a query stops
  short of its `total_count`, the next one continues below the oldest run read
  (`created=<since>..<oldest>`), so every page read is a page of new runs.

Commit ranges (`ranges`): for each successful production deployment with a previous one in
its environment, `GET /repos/{o}/{r}/compare/{base}...{head}`, paged, once per pair: the state
keeps the pairs asked, trimmed to the deployments' look-back window, so a load with nothing
new asks nothing. A deployment that succeeds after one load is compared on the next (its
statuses are read again when it changes); a 404 is kept as `not_found`.

Per-parent requests run `concurrency` at a time (pipelines.sources.fanout): the requests
only; rows are conformed, state noted and pages yielded on the extracting thread, in the
parents' order, so the output and the number of requests do not depend on it.

Modules (laid out as every source is, see pipelines.sources): `tables` (each table declared
once: its typed columns and where GitHub's records hold their values), `extraction` (what the
resources share: client, configuration, windows, the fan-out of per-parent requests), and one
per family of resources: `repositories`, `pulls` (pull requests, reviews, commits), `comments`
(review and issue comments), `deployments` (with statuses), `ranges` (commit ranges of
production deployments), `actions` (workflow runs and jobs).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
from typing import Any

import dlt
from dlt.common.configuration import with_config
from dlt.common.typing import TSecretStrValue
from dlt.sources import DltResource
from dlt.sources.helpers.rest_client.auth import BearerTokenAuth
from dlt.sources.helpers.rest_client.paginators import HeaderLinkPaginator

from pipelines.sources import http_session
from pipelines.sources.contract import Quarantine
from pipelines.sources.github.actions import workflow_jobs, workflow_runs
from pipelines.sources.github.comments import issue_comments, pull_request_review_comments
from pipelines.sources.github.deployments import deployment_statuses, deployments
from pipelines.sources.github.extraction import Extraction
from pipelines.sources.github.pulls import (
    pull_request_commits,
    pull_request_reviews,
    pull_requests,
)
from pipelines.sources.github.ranges import ProductionEnvironments, deployment_ranges
from pipelines.sources.github.repositories import repositories_resource
from pipelines.sources.record_keys import GITHUB_KEYS
from pipelines.sources.rest import rest_client

SOURCE_NAME = "github"
DATASET_NAME = "raw_github"
DEFAULT_BASE_URL = "https://api.github.com"
API_HEADERS = {"Accept": "application/vnd.github+json", "X-GitHub-Api-Version": "2022-11-28"}

DEFAULT_REPOSITORIES_PER_RUN = 5
# A repository read before costs a day's changes a daily load (on the medium organisation
# about ten requests): fifty of them are a few hundred requests, little to redo after a failure.
DEFAULT_REPOSITORIES_PER_INCREMENTAL_RUN = 50

__all__ = ["DATASET_NAME", "DEFAULT_BASE_URL", "SOURCE_NAME", "checkpoints", "github"]


@dlt.source(name=SOURCE_NAME, section=SOURCE_NAME, max_table_nesting=1)
def github(
    access_token: TSecretStrValue = dlt.secrets.value,
    repositories: Sequence[str] = dlt.config.value,
    base_url: str = DEFAULT_BASE_URL,
    start_date: str | None = None,
    per_page: int = 100,
    concurrency: int = 4,
    max_wait_seconds: float | None = None,
    production_environments: Sequence[str] | None = None,
) -> Sequence[DltResource]:
    """GitHub repositories, pull requests with their reviews, commits and comments,
    deployments with their statuses and the commit ranges of production ones, and Actions
    runs with their jobs."""
    concurrency = max(1, concurrency)
    policy = None
    if max_wait_seconds is not None:
        policy = dataclasses.replace(http_session.DEFAULT_POLICY, max_wait=max_wait_seconds)
    client = rest_client(
        base_url,
        BearerTokenAuth(access_token),
        headers=API_HEADERS,
        paginator=HeaderLinkPaginator(),
        data_selector="$",
        policy=policy,
        connections=concurrency,
    )
    ctx = Extraction(
        client,
        list(repositories),
        start_date,
        per_page,
        Quarantine(SOURCE_NAME, GITHUB_KEYS),
        concurrency,
    )
    pulls = pull_requests(ctx)
    deploys = deployments(ctx)
    ranges, range_commits = deployment_ranges(ctx, ProductionEnvironments(production_environments))
    runs = workflow_runs(ctx)
    # Extraction follows this order (pipelines.ingest.loads): a parent's transformers run as its
    # pages are yielded, the review-comment walk after the reviews it depends on, the ranges
    # after the deployments and statuses they are found from, and the quarantine last.
    return [
        repositories_resource(ctx),
        pulls,
        pull_request_reviews(ctx, pulls),
        pull_request_commits(ctx, pulls),
        pull_request_review_comments(ctx),
        issue_comments(ctx),
        deploys,
        deployment_statuses(ctx, deploys),
        ranges,
        range_commits,
        runs,
        workflow_jobs(ctx, runs),
        ctx.quarantine.resource(),
    ]


@with_config(sections=("sources", SOURCE_NAME))
def checkpoints(
    source_state: Mapping[str, Any],
    repositories: Sequence[str] | None = None,
    repositories_per_run: int = DEFAULT_REPOSITORIES_PER_RUN,
    repositories_per_incremental_run: int = DEFAULT_REPOSITORIES_PER_INCREMENTAL_RUN,
) -> list[dict[str, Any]]:
    """The `github` arguments of each committed run of a load, the configured repositories
    in their configured order: first those an earlier load read (every list has its window
    in `source_state`: a run reads what changed since), in groups of
    `repositories_per_incremental_run`, then the others (a run reads their history) in groups
    of `repositories_per_run`. Every cursor is kept per repository, so a group's run leaves
    the other repositories' state as it was."""
    repos = list(repositories or [])
    if not repos:
        return [{}]  # the source itself says what is missing, with every other setting
    windows = [
        resource["repos"]
        for resource in source_state.get("resources", {}).values()
        if "repos" in resource
    ]
    read = [r for r in repos if windows and all(r in repo_windows for repo_windows in windows)]
    unread = [r for r in repos if r not in read]
    return [
        *_groups(read, repositories_per_incremental_run),
        *_groups(unread, repositories_per_run),
    ]


def _groups(repos: list[str], size: int) -> list[dict[str, Any]]:
    size = max(1, size)
    return [{"repositories": repos[i : i + size]} for i in range(0, len(repos), size)]
