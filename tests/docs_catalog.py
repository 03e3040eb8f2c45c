"""The marts as the dbt docs of a warehouse show them: what the catalog found in the warehouse
(every mart table and its columns) with the description the manifest gives each column."""

from __future__ import annotations

import json
from pathlib import Path


def mart_columns(docs: Path) -> dict[str, dict[str, str]]:
    """Mart -> {column as the warehouse names it, in its order: its description, '' when it
    has none}."""
    manifest = json.loads((docs / "manifest.json").read_text(encoding="utf-8"))
    catalog = json.loads((docs / "catalog.json").read_text(encoding="utf-8"))
    marts = {}
    for unique_id, table in catalog["nodes"].items():
        if table["metadata"]["schema"] != "marts":
            continue
        columns = manifest["nodes"][unique_id]["columns"]
        described = {name.lower(): column["description"] for name, column in columns.items()}
        in_order = sorted(table["columns"], key=lambda name: table["columns"][name]["index"])
        marts[table["metadata"]["name"]] = {
            name: described.get(name.lower(), "").strip() for name in in_order
        }
    return marts
