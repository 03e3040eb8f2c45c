"""Orchestration: the Dagster definitions, one package per tool (dlt, dbt, quality),
assembled in pipelines.orchestration.definitions, which builds them from the settings as the
code location loads (none of these modules reads a setting or does any work on import).
"""
