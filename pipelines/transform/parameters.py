"""The docs/metrics.md parameters as the dbt project declares them (the `vars` of dbt_project.yml).

The models read them as dbt vars; Python that must agree with the models reads the same file:
the quality suites' {"$PARAMETER": name} values, and the GitHub loader's production
environments (which deployments get a commit range).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from pipelines.project_files import DBT_PROJECT_DIR

DBT_PROJECT_FILE = DBT_PROJECT_DIR / "dbt_project.yml"


def metric_parameters(project_file: Path | str = DBT_PROJECT_FILE) -> dict[str, Any]:
    """The dbt project's vars: the docs/metrics.md parameters with their default values."""
    import yaml  # only when asked: Dagster imports the modules that use this with every load

    return dict(yaml.safe_load(Path(project_file).read_text()).get("vars") or {})
