"""Dagster definitions, one package per tool (dlt, dbt, quality); see pipelines.definitions."""
