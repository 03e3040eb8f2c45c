"""Run a dlt source into the warehouse: a DuckDB file, or a Postgres or Spark server
(pipelines.warehouse.engines).

Local dlt pipeline state (the pipelines dir) is only a cache: the warehouse itself holds the
authoritative state, cursors included (`<dataset>._dlt_pipeline_state`), and dlt restores it
at the start of each run. So by default every load uses a throwaway pipelines dir
(pipelines.ingest.pipeline_folders), which keeps state from one warehouse file from ever leaking
into a load of another. dlt loads into a stage in that folder, and each checkpoint reaches
the warehouse in one transaction (pipelines.ingest.staged_loads), so readers see loads whole.

On Postgres dlt writes the raw schemas itself, each table's load (and merge) in a transaction
of its own, its state with them. On Spark dlt's filesystem destination writes Parquet files
into the lake (merge becomes append there), and each run's tables are then registered, with
views that keep what dlt's merge would have kept (pipelines.warehouse.lake).
"""

from __future__ import annotations

import logging
import os
from collections import Counter
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager, nullcontext
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import dlt
from dlt.common.configuration.container import Container
from dlt.common.pipeline import PipelineContext
from dlt.destinations.impl.duckdb.configuration import DuckDbCredentials
from dlt.sources import DltSource

from pipelines.ingest.load_log import FAILED, LOADED, NOT_CONFIGURED, SourceLoad, record_load
from pipelines.ingest.memory_bounds import DUCKDB_LOAD_SETTINGS, map_large_blocks
from pipelines.ingest.pipeline_folders import pipeline_folder
from pipelines.ingest.staged_loads import STAGE_FILE, MergeRules, stage_dataset, swap_in
from pipelines.sources import SOURCES, SourceSpec
from pipelines.sources.configuration import source_configuration
from pipelines.sources.contract import QUARANTINE_TABLE
from pipelines.sources.failures import LoadFailed
from pipelines.warehouse.engines import Postgres, Spark, Warehouse, engine_of, is_duckdb
from pipelines.warehouse.lake import register_tables
from pipelines.warehouse.lock import warehouse_writer

# How normalized dict rows reach DuckDB. dlt's default for DuckDB is SQL INSERT statements;
# JSON lines that DuckDB reads natively loaded the billing sources about 1.5x faster with a
# third of the memory. Resources that yield Arrow tables declare parquet themselves.
LOADER_FILE_FORMAT = "jsonl"
# Per engine: Postgres takes dlt's default (INSERT statements) for rows and COPY from CSV for
# Arrow tables; Spark reads the lake's files, so every table is Parquet.
LOADER_FILE_FORMATS = {"duckdb": LOADER_FILE_FORMAT, "postgres": None, "spark": "parquet"}


class SourceNotConfigured(RuntimeError):
    """The organisation does not use this source (none of its settings is set): nothing is
    loaded. Not an error for a job that loads every source; the message says which settings
    would turn it on."""


def source_spec(source: str) -> SourceSpec:
    try:
        return SOURCES[source]
    except KeyError:
        raise ValueError(f"unknown source {source!r}; known: {sorted(SOURCES)}") from None


def make_pipeline(source: str, warehouse: Warehouse, pipelines_dir: Path | str) -> dlt.Pipeline:
    """The dlt pipeline of `source` writing into `warehouse` (a DuckDB file: the load's
    stage), dataset `raw_<source>`."""
    spec = source_spec(source)
    # No anonymous usage telemetry from a warehouse job (set before dlt reads its config).
    os.environ.setdefault("RUNTIME__DLTHUB_TELEMETRY", "false")
    # dlt gzips its intermediate files by default; they live in a throwaway directory for
    # the length of one run, so compressing them only costs time (a quarter of a billing
    # load's time, measured).
    os.environ.setdefault("DATA_WRITER__DISABLE_COMPRESSION", "true")
    # Arrow tables (the billing reports) get dlt's load id and row id as dict rows do, so
    # every raw table carries both whichever way it was extracted.
    os.environ.setdefault("NORMALIZE__PARQUET_NORMALIZER__ADD_DLT_LOAD_ID", "true")
    os.environ.setdefault("NORMALIZE__PARQUET_NORMALIZER__ADD_DLT_ID", "true")
    # Resources extract one after another, in the order the source lists them: children
    # after parents, and each source's `quarantine` resource last, once every other
    # resource has reported the records it rejected (see pipelines.sources.contract).
    os.environ["EXTRACT__NEXT_ITEM_MODE"] = "fifo"
    return dlt.pipeline(
        pipeline_name=spec.name,
        destination=destination(warehouse),
        dataset_name=spec.dataset,
        pipelines_dir=str(pipelines_dir),
    )


def destination(warehouse: Warehouse) -> Any:
    """dlt's destination for the warehouse."""
    if isinstance(warehouse, Postgres):
        return dlt.destinations.postgres(credentials=warehouse.dlt_credentials())
    if isinstance(warehouse, Spark):
        logging.getLogger("dlt").addFilter(_planned_append)
        return dlt.destinations.filesystem(bucket_url=str(warehouse.lake))
    # DuckDB's working memory bounded (pipelines.ingest.memory_bounds), on every connection
    # dlt opens: the load's own and the quarantine's reads through it.
    credentials = DuckDbCredentials(
        str(Path(warehouse).resolve()), global_config=dict(DUCKDB_LOAD_SETTINGS)
    )
    return dlt.destinations.duckdb(credentials)


@contextmanager
def pipelines_dir_for(pipelines_dir: Path | str | None) -> Iterator[Path]:
    """The given pipelines dir, or a throwaway one removed afterwards (abandoned ones swept
    first). The stage is removed from either when the block ends."""
    with (
        nullcontext(Path(pipelines_dir)) if pipelines_dir is not None else pipeline_folder()
    ) as pdir:
        pdir.mkdir(parents=True, exist_ok=True)
        try:
            yield pdir
        finally:
            for path in pdir.glob(f"{STAGE_FILE}*"):  # the stage and its write-ahead log
                path.unlink(missing_ok=True)


def load_ids(pipeline: dlt.Pipeline) -> list[str]:
    """The load packages the pipeline's last run committed (none when it had nothing)."""
    trace = pipeline.last_trace
    info = trace.last_load_info if trace is not None else None
    return list(info.loads_ids) if info is not None else []


def data_row_counts(pipeline: dlt.Pipeline) -> dict[str, int]:
    """Rows normalized per data table in the pipeline's last run (dlt's own tables left out)."""
    trace = pipeline.last_trace
    if trace is None or trace.last_normalize_info is None:
        return {}
    counts = trace.last_normalize_info.row_counts
    return {table: n for table, n in sorted(counts.items()) if not table.startswith("_dlt")}


def _planned_append(record: logging.LogRecord) -> bool:
    """dlt warns, for every merge table of every load into the lake, that it appends instead:
    on Spark that is the design (the raw views merge: pipelines.warehouse.lake)."""
    return "Falling back to `append`" not in record.getMessage()


def with_file_formats(dlt_source: DltSource, engine: str = "duckdb") -> DltSource:
    """Each resource without a file format of its own writes the engine's format
    (LOADER_FILE_FORMATS; Spark's Parquet everywhere). (A run-wide `loader_file_format` would
    override the parquet of the Arrow resources.)"""
    file_format = LOADER_FILE_FORMATS[engine]
    for resource in dlt_source.selected_resources.values():
        declared = resource.compute_table_schema().get("file_format")
        if file_format is None and declared == "parquet":
            resource.apply_hints(file_format="csv")  # Postgres loads no Parquet
        elif file_format is not None and (not declared or engine == "spark"):
            resource.apply_hints(file_format=file_format)
    return dlt_source


def load_checkpoints(
    source: str,
    warehouse: Warehouse,
    pipelines_dir: Path | str | None = None,
    resources: Sequence[str] | None = None,
    arguments: Mapping[str, Any] | None = None,
    holder: str | None = None,
) -> Iterator[tuple[dlt.Pipeline, dict[str, int]]]:
    """Load `source` as the runs its spec splits it into (`SourceSpec.checkpoints`), each
    committed (data and cursors) before the next starts; yields the pipeline and the rows
    per table of each run. A run that fails leaves the earlier ones in place, so the next
    load goes on from the last checkpoint instead of starting over.

    `resources`: load only these (the `quarantine` resource always comes along, so a
    rejected record is kept whatever was selected). `arguments`: factory arguments added to
    every run, such as a window of days (start_date, end_date). The warehouse's writer lock
    is held throughout (`holder` says who holds it); another writer raises WarehouseBusy.
    Raises SourceNotConfigured when none of the source's settings is set (the organisation
    does not use it), SourceSettingsInvalid (a LoadFailed) when a setting breaks its rule
    (pipelines.settings), and LoadFailed, with a one-line reason safe to print, on an
    incomplete configuration, an API error that retries did not cure, or a failed load job. Every
    attempt is recorded in the warehouse's ops.source_loads (pipelines.ingest.load_log).
    """
    spec = source_spec(source)
    configuration = source_configuration(spec)
    holder = holder or f"load of {source} (pid {os.getpid()})"
    with warehouse_writer(warehouse, holder):
        log = SourceLoad(source, LOADED, started_at=datetime.now(UTC))
        if not configuration.configured:
            log.status, log.detail = NOT_CONFIGURED, configuration.unset
            record_load(warehouse, log)
            raise SourceNotConfigured(configuration.reason)
        try:
            configuration.check()  # a broken setting fails before the first request
        except LoadFailed as exc:
            log.status, log.detail = FAILED, str(exc)
            record_load(warehouse, log)
            raise
        rows: Counter[str] = Counter()
        try:
            for pipeline, counts in _checkpointed_runs(
                spec, warehouse, pipelines_dir, resources, arguments
            ):
                rows.update(counts)
                log.load_ids = [*log.load_ids, *load_ids(pipeline)]
                yield pipeline, counts
        except LoadFailed as exc:
            log.status, log.detail, log.rows_loaded = FAILED, str(exc), dict(rows)
            record_load(warehouse, log)
            raise
        log.rows_loaded = dict(rows)
        record_load(warehouse, log)


def _checkpointed_runs(
    spec: SourceSpec,
    warehouse: Warehouse,
    pipelines_dir: Path | str | None,
    resources: Sequence[str] | None,
    arguments: Mapping[str, Any] | None,
) -> Iterator[tuple[dlt.Pipeline, dict[str, int]]]:
    """The source's checkpointed dlt runs, one after another (the caller holds the lock)."""
    map_large_blocks()  # what a checkpoint frees goes back (pipelines.ingest.memory_bounds)
    with pipelines_dir_for(pipelines_dir) as pdir:
        if is_duckdb(warehouse):
            stage = pdir / STAGE_FILE
            # The quarantine is read while a source extracts (pipelines.sources.unresolved).
            stage_dataset(warehouse, stage, spec.dataset, read=[QUARANTINE_TABLE])
            pipeline = make_pipeline(spec.name, stage, pdir)
        else:
            stage, pipeline = None, make_pipeline(spec.name, warehouse, pdir)
        try:
            yield from _runs(spec, pipeline, warehouse, stage, resources, arguments)
        finally:
            # dlt keeps the last pipeline as the current one; its stage is about to go, and
            # nothing outside this load may read through it (pipelines.sources.unresolved).
            Container()[PipelineContext].deactivate()


def _runs(
    spec: SourceSpec,
    pipeline: dlt.Pipeline,
    warehouse: Warehouse,
    stage: Path | None,
    resources: Sequence[str] | None,
    arguments: Mapping[str, Any] | None,
) -> Iterator[tuple[dlt.Pipeline, dict[str, int]]]:
    source = spec.name
    # Start from the warehouse's state (copied to the stage), not from whatever a previous
    # run left locally.
    pipeline.drop()
    try:
        pipeline.sync_destination()  # the state, so the runs can be sized by what they read
        runs = spec.checkpoints(pipeline.state.get("sources", {}).get(spec.name, {}))
    except Exception as exc:  # noqa: BLE001 - re-raised as one clear, redacted line
        raise LoadFailed.from_error(exc, source) from None
    for done, run_arguments in enumerate(runs):
        try:
            dlt_source = spec.factory(**{**run_arguments, **(arguments or {})})
            if resources is not None:
                dlt_source = dlt_source.with_resources(*resources, QUARANTINE_TABLE)
            info = pipeline.run(with_file_formats(dlt_source, engine_of(warehouse)))
            info.raise_on_failed_jobs()
            ids = load_ids(pipeline)  # a run with nothing new leaves the stage as it was
            if ids and stage is not None:
                rules = MergeRules.of(pipeline.default_schema)
                swap_in(warehouse, stage, spec.dataset, ids, rules)
            elif ids and isinstance(warehouse, Spark):
                register_tables(warehouse, spec.dataset, pipeline.default_schema)
        except Exception as exc:  # noqa: BLE001 - re-raised as one clear, redacted line
            # `from None`: the chain holds request objects; the message says what matters.
            raise LoadFailed.from_error(exc, source, _kept(done, len(runs))) from None
        yield pipeline, data_row_counts(pipeline)


def run_load(
    source: str, warehouse: Warehouse, pipelines_dir: Path | str | None = None
) -> dict[str, int]:
    """Load `source` (configured the dlt way, e.g. SOURCES__GITHUB__*) into `warehouse`.

    Returns rows loaded per table (the `quarantine` table included), summed over the
    source's checkpoints. Raises SourceNotConfigured and LoadFailed as `load_checkpoints`
    does.
    """
    totals: Counter[str] = Counter()
    for _pipeline, counts in load_checkpoints(source, warehouse, pipelines_dir):
        totals.update(counts)
    return dict(sorted(totals.items()))


def _kept(done: int, total: int) -> str:
    if done == 0:
        return ""
    return (
        f" (after {done} of {total} checkpointed runs; what they loaded is kept "
        "and the next load goes on from there)"
    )
