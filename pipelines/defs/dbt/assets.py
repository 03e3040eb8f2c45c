"""The dbt project as Dagster assets (one op running `dbt build`)."""

import dagster as dg
from dagster_dbt import DbtCliResource, DbtProject, dbt_assets

from pipelines.defs.resources import DUCKDB_POOL, WarehouseResource
from pipelines.transform import DBT_EXECUTABLE, DBT_PROJECT_DIR, manifest_is_stale, parse_project

dbt_project = DbtProject(project_dir=DBT_PROJECT_DIR)
# Parse when the manifest is missing or older than any project file, so every load (and
# `dagster dev` after an edit) sees the models on disk. In-process: dbt need not be on PATH.
if manifest_is_stale(dbt_project.manifest_path):
    parse_project()

dbt_resource = DbtCliResource(project_dir=dbt_project, dbt_executable=DBT_EXECUTABLE)


@dbt_assets(manifest=dbt_project.manifest_path, project=dbt_project, pool=DUCKDB_POOL)
def dbt_models(
    context: dg.AssetExecutionContext, dbt: DbtCliResource, warehouse: WarehouseResource
):
    with warehouse.exported_path():  # the dbt subprocess's profile reads AOW_DUCKDB_PATH
        yield from dbt.cli(["build"], context=context).stream()
