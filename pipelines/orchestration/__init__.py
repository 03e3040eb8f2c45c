"""Orchestration: the Dagster definitions, one package per tool (dlt, dbt, quality),
assembled in pipelines.orchestration.definitions.

The project's settings (AOW_*) are checked here, before any module below reads one: a broken
one fails the code location's load with its name (pipelines.settings), not with an error
from deep inside a schedule or a partitions definition. Each source step checks its own
source's settings when it loads.
"""

from pipelines.settings import check_project_settings

check_project_settings()
