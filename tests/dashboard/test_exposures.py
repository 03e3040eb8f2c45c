"""The dbt exposures (dbt_project/models/marts/_exposures.yml) name each dashboard page and the
marts it reads: the marts its queries name (queries.page_marts), as dbt parsed them."""

from __future__ import annotations

import json
import re

from pipelines.serving.dashboard.queries import QUERIES, page_marts
from pipelines.serving.dashboard.views import PAGES
from pipelines.transform.dbt_runner import prepare_manifest

PROJECT = "ai_outcomes_warehouse"


def _exposures() -> dict[str, dict]:
    manifest = json.loads(prepare_manifest().read_text())
    return {e["name"]: e for e in manifest["exposures"].values()}


def test_each_page_has_an_exposure_depending_on_the_marts_it_reads() -> None:
    exposures = _exposures()
    expected = {f"dashboard_{url.replace('-', '_')}": url for _, _, url in PAGES}
    assert set(exposures) == set(expected)
    for name, url in expected.items():
        exposure = exposures[name]
        assert exposure["type"] == "dashboard"
        assert exposure["url"].rstrip("/").endswith("" if url == "outcomes" else url)
        depends = {
            node.removeprefix(f"model.{PROJECT}.") for node in exposure["depends_on"]["nodes"]
        }
        assert depends == page_marts(url), name
        assert exposure["owner"]["name"]


def test_every_query_belongs_to_a_page_and_reads_only_the_publication() -> None:
    pages = {url for _, _, url in PAGES} | {"*"}
    for name, query in QUERIES.items():
        assert query.page in pages, name
        # Only the publication's two schemas: never the warehouse's other layers.
        relations = re.findall(r"\b(?:from|join)\s+(\w+)\.", query.sql, flags=re.I)
        schemas = set(relations)
        assert schemas <= {"marts", "publication"}, (name, schemas)
