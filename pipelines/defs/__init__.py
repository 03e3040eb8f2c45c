"""Dagster definitions, one package per tool (dlt, dbt, quality), assembled in pipelines.definitions."""
