"""The `repositories` resource: each configured repository, as GET /repos/{owner}/{name}."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from functools import partial
from typing import Any

import dlt
from dlt.sources import DltResource

from pipelines.sources.github.extraction import RESOURCE_HINTS, Extraction, conformer
from pipelines.sources.github.tables import REPOSITORIES
from pipelines.sources.rest import get_json


def repositories_resource(ctx: Extraction) -> DltResource:
    rows = conformer(ctx, REPOSITORIES)

    @dlt.resource(
        name="repositories", primary_key="id", columns=REPOSITORIES.hints, **RESOURCE_HINTS
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
