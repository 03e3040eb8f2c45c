"""Ingest: running the dlt sources (pipelines.sources) into the warehouse, whole, resumable
and logged (`loads`, `staged_loads`, `pipeline_folders`, `load_log`), and replaying what
they quarantined (`replay`)."""
