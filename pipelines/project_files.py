"""Where the project's own files are: the repository root and the directories beside the
package (the dbt project, the expectation suites). Computed here only."""

from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]
DBT_PROJECT_DIR = REPO_ROOT / "dbt_project"
EXPECTATIONS_DIR = REPO_ROOT / "expectations"
# The Dagster instance's committed configuration (`make dev`'s DAGSTER_HOME).
DAGSTER_INSTANCE_CONFIG = REPO_ROOT / "dagster_home" / "dagster.yaml"
