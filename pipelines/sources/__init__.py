"""One dlt source per vendor. `SOURCES` maps a source name to its factory and raw dataset.

A factory called without arguments resolves its configuration the dlt way (env vars such
as SOURCES__GITHUB__ACCESS_TOKEN, or .dlt/*.toml).

Every source is laid out the same way, in one module (`jira`, `pagerduty`, `anthropic`,
`openai`) or, for GitHub, one package whose modules hold the same parts:

1. the docstring: the configuration, the tables, how a load stays incremental;
2. the tables, each declared once (pipelines.sources.tables) with the small functions its
   columns derive values with: the `# --- tables` section (GitHub: `github/tables.py`). The
   billing sources declare each report and reference list with its endpoint (`Report`,
   `ReferenceList`, pipelines.sources.billing_buckets);
3. the `@dlt.source` function, listing the resources in the order they extract, the
   `quarantine` last;
4. the resources (`# --- resources`; GitHub: a module per family), each conforming its
   records to its table (`Conformer.of`, pipelines.sources.contract);
5. what the requests need: pages, windows, cursors.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from dlt.sources import DltSource

from pipelines.sources import anthropic, github, jira, openai, pagerduty


@dataclass(frozen=True)
class SourceSpec:
    name: str  # dlt source name, also the dlt pipeline name
    dataset: str  # raw schema in the warehouse
    factory: Callable[..., DltSource]
    # Dummy arguments that build the source without configuration: Dagster needs the
    # resources (asset specs) when it loads the definitions, before any secret is resolved.
    spec_args: dict[str, Any] = field(default_factory=dict)
    # The factory arguments of each run a load is split into, every run committing its data
    # and cursors before the next starts (pipelines.ingest.loads.load_checkpoints): a backfill
    # larger than one rate-limit window then keeps its progress. Called with the source's
    # state as the warehouse holds it (its cursors), so a load that reads little can take
    # fewer runs. Default: one run.
    checkpoints: Callable[[Mapping[str, Any]], list[dict[str, Any]]] = lambda source_state: [{}]
    # The factory reads exactly the UTC days [start_date, end_date) when given both (daily
    # report buckets): such a source is daily-partitioned in Dagster.
    windowed: bool = False


SOURCES: dict[str, SourceSpec] = {
    github.SOURCE_NAME: SourceSpec(
        github.SOURCE_NAME,
        github.DATASET_NAME,
        github.github,
        spec_args={"access_token": "", "repositories": []},
        checkpoints=github.checkpoints,
    ),
    jira.SOURCE_NAME: SourceSpec(
        jira.SOURCE_NAME,
        jira.DATASET_NAME,
        jira.jira,
        spec_args={"base_url": "", "email": "", "api_token": "", "projects": []},
    ),
    pagerduty.SOURCE_NAME: SourceSpec(
        pagerduty.SOURCE_NAME,
        pagerduty.DATASET_NAME,
        pagerduty.pagerduty,
        spec_args={"api_key": ""},
    ),
    anthropic.SOURCE_NAME: SourceSpec(
        anthropic.SOURCE_NAME,
        anthropic.DATASET_NAME,
        anthropic.anthropic,
        spec_args={"admin_api_key": ""},
        windowed=True,
    ),
    openai.SOURCE_NAME: SourceSpec(
        openai.SOURCE_NAME,
        openai.DATASET_NAME,
        openai.openai,
        spec_args={"admin_api_key": ""},
        windowed=True,
    ),
}
