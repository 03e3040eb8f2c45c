"""The metric index of docs/metrics.md resolves: for every metric, its definition's section, the
mart and column that hold it, the SQL model, the dbt tests on that column (all of them, no
more), the quality suite, the Dagster asset, the ground-truth test and the semantic-layer
metrics all exist as written. A renamed column, a moved model, a dropped test, suite or metric
fails here instead of leaving the docs pointing at nothing."""

from __future__ import annotations

import ast
import json
import re
from pathlib import Path

import pytest

from pipelines.transform.dbt_runner import DBT_PROJECT_DIR, prepare_manifest
from tests.definition_keys import SNAPSHOT

ROOT = Path(__file__).resolve().parents[1]
METRICS = ROOT / "docs" / "metrics.md"
NONE = "—"
LINK = re.compile(r"\[([^\]]*)\]\(([^)]*)\)")
CODE = re.compile(r"`([^`]+)`")


def index_rows() -> list[dict[str, str]]:
    """The rows of the table under `## Index`, by column header."""
    lines = METRICS.read_text(encoding="utf-8").split("\n## Index", 1)[1].split("\n## ", 1)[0]
    table = [line for line in lines.splitlines() if line.startswith("|")]
    header = [cell.strip() for cell in table[0].strip("|").split("|")]
    return [
        dict(zip(header, (cell.strip() for cell in line.strip("|").split("|")), strict=True))
        for line in table[2:]
    ]


def anchors() -> set[str]:
    """GitHub's anchors of the document's headings."""
    found = set()
    for line in METRICS.read_text(encoding="utf-8").splitlines():
        if line.startswith("#"):
            title = line.lstrip("#").strip().lower()
            found.add(re.sub(r"[^\w\- ]", "", title).replace(" ", "-"))
    return found


@pytest.fixture(scope="module")
def manifest() -> dict:
    return json.loads(prepare_manifest().read_text())  # parsed only when stale


def dbt_checks_of(manifest: dict, model: str, column: str) -> set[str]:
    """What checks the metric inside dbt: the data tests on `model`.`column` (a
    `not_null_columns` is on the columns it lists) and on the whole model (its grain),
    generic ones by their macro's name, and the unit tests of `model`."""
    names = {test["name"] for test in manifest["unit_tests"].values() if test["model"] == model}
    for node in manifest["nodes"].values():
        if node["resource_type"] != "test":
            continue
        metadata = node.get("test_metadata") or {}
        if metadata.get("name") == "not_null_columns":
            if column not in metadata["kwargs"]["columns"]:
                continue
        elif node.get("column_name") not in (column, None):
            continue
        if f"model.{manifest['metadata']['project_name']}.{model}" in node["depends_on"]["nodes"]:
            names.add((node.get("test_metadata") or {}).get("name") or node["name"])
    return names


ROWS = index_rows()


def test_the_index_lists_the_headline_metrics():
    names = {row["metric"] for row in ROWS}
    assert {"Bugs per shipped PR", "Production survival rate", "Cost per surviving PR"} <= names
    assert len(ROWS) >= 20


@pytest.mark.parametrize("row", ROWS, ids=[row["metric"] for row in ROWS])
def test_every_reference_of_a_metric_resolves(row: dict[str, str], manifest: dict):
    (anchor,) = [target for _, target in LINK.findall(row["definition"])]
    assert anchor.lstrip("#") in anchors()

    model, column = CODE.findall(row["mart · column"])[0].split(".")
    (node,) = [
        n
        for n in manifest["nodes"].values()
        if n["resource_type"] == "model" and n["name"] == model
    ]
    assert column in node["columns"], f"{model}.{column} is not documented"

    (sql,) = [target for _, target in LINK.findall(row["model"])]
    assert (METRICS.parent / sql).resolve() == (DBT_PROJECT_DIR / node["original_file_path"])

    listed = set(CODE.findall(row["dbt tests"]))
    assert listed == dbt_checks_of(manifest, model, column)

    suites = [target for _, target in LINK.findall(row["quality suite"])]
    for suite in suites:
        meta = json.loads((METRICS.parent / suite).read_text())["meta"]["aow"]
        assert meta["relation"].split(".")[-1] == model
    assert suites or row["quality suite"] == NONE

    (asset,) = CODE.findall(row["Dagster asset"])
    assert f"asset {asset}" in SNAPSHOT.read_text(encoding="utf-8").splitlines()

    truths = CODE.findall(row["ground-truth test"])  # pytest node ids: path::function
    for truth in truths:
        path, _, function = truth.partition("::")
        tree = ast.parse((ROOT / path).read_text(encoding="utf-8"))
        defined = {f.name for f in ast.walk(tree) if isinstance(f, ast.FunctionDef)}
        assert function in defined, f"{path} has no {function}"
    assert truths or row["ground-truth test"] == NONE

    semantic = CODE.findall(row["semantic metric"])
    defined = {metric["name"] for metric in manifest["metrics"].values()}
    assert set(semantic) <= defined, f"{set(semantic) - defined} are no dbt metrics"
    assert semantic or row["semantic metric"] == NONE
