"""One dlt source per vendor. `SOURCES` maps a source name to its factory and raw dataset.

A factory called without arguments resolves its configuration the dlt way (env vars such
as SOURCES__GITHUB__ACCESS_TOKEN, or .dlt/*.toml).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from dlt.sources import DltSource

from pipelines.sources import github


@dataclass(frozen=True)
class SourceSpec:
    name: str  # dlt source name, also the dlt pipeline name
    dataset: str  # raw schema in the warehouse
    factory: Callable[..., DltSource]


SOURCES: dict[str, SourceSpec] = {
    github.SOURCE_NAME: SourceSpec(github.SOURCE_NAME, github.DATASET_NAME, github.github),
}
