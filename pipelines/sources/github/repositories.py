"""The `repositories` resource: each configured repository, as GET /repos/{owner}/{name}."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from functools import partial
from typing import Any

import dlt
from dlt.sources import DltResource

from pipelines.sources.github.columns import REPOSITORY_COLUMNS
from pipelines.sources.github.extraction import RESOURCE_HINTS, Extraction, conformer
from pipelines.sources.rest import get_json


def repositories_resource(ctx: Extraction) -> DltResource:
    rows = conformer(ctx, "repositories", REPOSITORY_COLUMNS, _project_repository)

    @dlt.resource(
        name="repositories", primary_key="id", columns=REPOSITORY_COLUMNS, **RESOURCE_HINTS
    )
    def repositories() -> Iterator[list[dict[str, Any]]]:
        """Each configured repository, written when anything in it changed."""
        known: dict[str, str] = dlt.current.resource_state().setdefault("digests", {})
        changed = []
        for payload in ctx.each(ctx.repos(), partial(_read, ctx)):
            row = rows.row(payload)
            if row is None:
                continue
            digest = hashlib.sha256(json.dumps(row, default=str).encode()).hexdigest()[:16]
            if known.get(str(row["id"])) != digest:
                known[str(row["id"])] = digest
                changed.append(row)
        if changed:
            yield changed

    return repositories()


def _read(ctx: Extraction, repo: str) -> Any:
    return get_json(ctx.client, f"/repos/{repo}")


def _project_repository(repo: dict[str, Any]) -> dict[str, Any]:
    return {
        "id": repo["id"],
        "full_name": repo["full_name"],
        "name": repo.get("name"),
        "owner_login": (repo.get("owner") or {}).get("login"),
        "description": repo.get("description"),
        "private": repo.get("private"),
        "visibility": repo.get("visibility"),
        "fork": repo.get("fork"),
        "archived": repo.get("archived"),
        "default_branch": repo.get("default_branch"),
        "language": repo.get("language"),
        "topics": repo.get("topics") or [],
        "created_at": repo.get("created_at"),
        "updated_at": repo.get("updated_at"),
        "pushed_at": repo.get("pushed_at"),
        "html_url": repo.get("html_url"),
    }
