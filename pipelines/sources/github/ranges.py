"""Commit ranges of production deployments (`deployment_ranges`, `deployment_range_commits`),
read from GitHub's compare endpoint.

For each successful production deployment that has a previous successful production
deployment of the same repository and environment (environments compared ignoring case;
ordered by created_at, then id), `GET /repos/{o}/{r}/compare/{base_sha}...{head_sha}` lists
the commits it shipped since that one: `git log base..head`, oldest first, in pages. Each
(deployment, previous deployment) pair is asked once and never again: an answer does not
change. A 404 (a commit GitHub no longer has) is kept as `not_found`, any other client error
(a 422, say) as `unavailable`; the models then fall back to the time rule. A server error
that outlives the retries (GitHub answers 500 to a comparison whose diff takes too long) is
kept as `unavailable` too, without failing the load, and asked again on the next one.

Production (docs/metrics.md section 8): GitHub's `production_environment` flag, or an environment
matching one of the patterns (ignoring case; `*` any run of characters, the rest literal):
the dbt var `production_environments` by default, `SOURCES__GITHUB__PRODUCTION_ENVIRONMENTS`
(a JSON list) to override.

The deployments and statuses resources run first and note what they read in the extraction
(`Extraction.deployments_read`, `succeeded`); this resource keeps, per repository in its
state, the successful production deployments it knows and the pairs it asked. It keeps only
what a later run can still need: the deployments created within the deployments' window
(a success arriving late changes predecessors only there) plus the latest one before it in
each environment, and the pairs whose deployment it keeps. So the state stays the size of a
few days of deployments, whatever the history.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import partial
from typing import Any

import dlt
from dlt.sources import DltResource
from requests import HTTPError

from pipelines.sources.contract import to_timestamp
from pipelines.sources.github.extraction import RESOURCE_HINTS, Extraction, conformer
from pipelines.sources.github.tables import DEPLOYMENT_RANGE_COMMITS, DEPLOYMENT_RANGES
from pipelines.sources.http_session import RateLimitExceeded
from pipelines.transform.parameters import metric_parameters

# Client errors that are the caller's problem, not the comparison's: retried or raised.
_RAISED = (401, 403, 429)


class ProductionEnvironments:
    """Which deployments are production: the flag, or a pattern matching the environment."""

    def __init__(self, patterns: Sequence[str] | None = None):
        if patterns is None:
            patterns = metric_parameters()["production_environments"]
        self.patterns = [
            re.compile(".*".join(map(re.escape, str(p).lower().split("*"))), re.DOTALL)
            for p in patterns
        ]

    def __call__(self, environment: str | None, flag: bool | None) -> bool:
        name = (environment or "").lower()
        return bool(flag) or any(p.fullmatch(name) for p in self.patterns)


@dataclass(frozen=True)
class Released:
    """A successful production deployment, as the state keeps it."""

    id: int
    environment: str | None
    created_at: datetime
    sha: str | None

    @property
    def lineage(self) -> str:
        """Its environment as compared: ignoring case."""
        return (self.environment or "").lower()

    def state(self) -> list[Any]:
        return [self.environment, self.created_at.isoformat(), self.sha]

    @classmethod
    def from_state(cls, key: str, value: list[Any]) -> Released:
        return cls(int(key), value[0], to_timestamp(value[1]), value[2])


def deployment_ranges(
    ctx: Extraction, production: ProductionEnvironments
) -> tuple[DltResource, DltResource]:
    @dlt.resource(
        name="deployment_ranges",
        primary_key=("deployment_id", "base_deployment_id"),
        columns=DEPLOYMENT_RANGES.hints,
        **RESOURCE_HINTS,
    )
    def deployment_ranges() -> Iterator[list[dict[str, Any]]]:
        """What GitHub's compare answers for each new (deployment, previous) pair."""
        if not ctx.deployments_complete:
            return  # the deployments were not read in this extraction: nothing new to know
        keep_commits = _selected("deployment_range_commits")
        states = dlt.current.resource_state().setdefault("repos", {})
        for repo in ctx.repos():
            state = states.setdefault(repo, {})
            known = _known(ctx, repo, state, production)
            asked = set(state.get("asked", []))
            pairs = [p for p in _pairs(known) if _key(p) not in asked]
            rows = []
            for pair, answer in zip(
                pairs, ctx.each(pairs, partial(_compare, ctx, repo)), strict=True
            ):
                row = _range_row(ctx, repo, pair, answer, keep_commits)
                if row is not None:
                    rows.append(row)
                    if answer.final:
                        asked.add(_key(pair))
            if rows:
                yield rows
            _prune(state, known, asked, ctx.deployments_floor.get(repo))

    ranges = deployment_ranges()

    @dlt.transformer(
        name="deployment_range_commits",
        data_from=ranges,
        primary_key=("deployment_id", "base_deployment_id", "sha"),
        columns=DEPLOYMENT_RANGE_COMMITS.hints,
        **RESOURCE_HINTS,
    )
    def deployment_range_commits(ranges: list[dict[str, Any]]) -> Iterator[list[dict[str, Any]]]:
        """The commits of each range just compared (read with it, held until now)."""
        for row in ranges:
            commits = ctx.range_commits.pop((row["deployment_id"], row["base_deployment_id"]), [])
            if commits:
                yield commits

    return ranges, deployment_range_commits


# --- which pairs ----------------------------------------------------------------------------------


def _known(
    ctx: Extraction, repo: str, state: dict[str, Any], production: ProductionEnvironments
) -> dict[int, Released]:
    """The successful production deployments the state knows, with those read now."""
    known = {int(k): Released.from_state(k, v) for k, v in state.get("released", {}).items()}
    for deployment_id, row in ctx.deployments_read.get(repo, {}).items():
        if deployment_id in ctx.succeeded and production(
            row["environment"], row["production_environment"]
        ):
            known[deployment_id] = Released(
                deployment_id, row["environment"], row["created_at"], row["sha"]
            )
    return known


def _pairs(known: dict[int, Released]) -> list[tuple[Released, Released]]:
    """(deployment, its previous one) in each environment, in creation order."""
    previous: dict[str, Released] = {}
    pairs = []
    for d in sorted(known.values(), key=lambda d: (d.created_at, d.id)):
        if d.lineage in previous:
            pairs.append((d, previous[d.lineage]))
        previous[d.lineage] = d
    return pairs


def _key(pair: tuple[Released, Released]) -> str:
    return f"{pair[0].id}:{pair[1].id}"


def _prune(
    state: dict[str, Any],
    known: dict[int, Released],
    asked: set[str],
    floor: datetime | None,
) -> None:
    """Keep what a later run can need: the deployments from the deployments' next window on,
    the latest one before it in each environment (the previous one of the next), and the
    pairs of the deployments in the window."""
    kept = {d.id: d for d in known.values() if floor is None or d.created_at >= floor}
    latest: dict[str, Released] = {}
    for d in sorted(known.values(), key=lambda d: (d.created_at, d.id)):
        if floor is not None and d.created_at < floor:
            latest[d.lineage] = d
    # A pair is asked again only if its deployment could get another previous one: a late
    # success in the window can only change the predecessors of deployments in the window.
    window = {i for i, d in kept.items() if floor is None or d.created_at >= floor}
    kept.update({d.id: d for d in latest.values()})
    state["released"] = {str(i): d.state() for i, d in sorted(kept.items())}
    state["asked"] = sorted(k for k in asked if int(k.split(":")[0]) in window)


def _selected(resource: str) -> bool:
    """Whether `resource` is extracted with this one (a subset may leave it out)."""
    try:
        return resource in dlt.current.source().selected_resources
    except Exception:  # noqa: BLE001 - outside a source's extraction: everything runs
        return True


# --- asking GitHub ------------------------------------------------------------------------------


@dataclass
class Answer:
    status: str  # ok | not_found | unavailable
    pages: list[dict[str, Any]]
    final: bool = True  # False: GitHub may answer later; the pair is asked again next run


def _compare(ctx: Extraction, repo: str, pair: tuple[Released, Released]) -> Answer:
    """Every page of the comparison (requests only: runs on the fan-out threads)."""
    head, base = pair
    if not head.sha or not base.sha:
        return Answer("unavailable", [])
    try:
        # Each page is the comparison object (the commits of that page among its fields).
        pages = [
            comparison
            for page in ctx.pages(f"/repos/{repo}/compare/{base.sha}...{head.sha}")
            for comparison in page
        ]
    except HTTPError as exc:
        status = exc.response.status_code if exc.response is not None else None
        if status is None or status in _RAISED or isinstance(exc, RateLimitExceeded):
            raise  # credentials or the rate limit: the load stops, as for any list
        if status == 404:
            return Answer("not_found", [])
        # A 5xx or a broken body that outlived the retries: GitHub answers 500 when a
        # comparison's diff takes too long to generate, for ever. The load goes on with the
        # range unknown, and the pair is asked again next time.
        return Answer("unavailable", [], final=400 <= status < 500)
    return Answer("ok", pages)


def _range_row(
    ctx: Extraction,
    repo: str,
    pair: tuple[Released, Released],
    answer: Answer,
    keep_commits: bool,
) -> dict[str, Any] | None:
    """The pair's range row (its commits go to ctx.range_commits); None when GitHub's
    answer broke the contract (quarantined; the pair is asked again next run)."""
    head, base = pair
    pair_keys = {"deployment_id": head.id, "base_deployment_id": base.id, "repo_full_name": repo}
    given = {
        **pair_keys,
        "environment": head.environment,
        "base_sha": base.sha,
        "head_sha": head.sha,
        "commits_loaded": 0,
        "compared_at": datetime.now(UTC),
    }
    if answer.status != "ok":  # no comparison to conform: the row says only why
        return DEPLOYMENT_RANGES.projection(**given)({"status": answer.status})
    checked = conformer(ctx, DEPLOYMENT_RANGES, **given).row(answer.pages[0])
    if checked is None:
        return None
    commits = conformer(ctx, DEPLOYMENT_RANGE_COMMITS, **pair_keys, position=None)
    loaded = []
    position = 0
    for page in answer.pages:
        for commit in page.get("commits") or []:
            conformed = commits.row(commit)
            if conformed is not None:
                conformed["position"] = position
                loaded.append(conformed)
            position += 1
    if keep_commits:
        ctx.range_commits[(head.id, base.id)] = loaded
    checked["commits_loaded"] = len(loaded) if keep_commits else 0
    return checked
