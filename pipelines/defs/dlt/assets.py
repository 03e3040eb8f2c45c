"""dlt loaders as Dagster assets: one asset per dlt resource, keyed [<raw dataset>, <table>].

One multi-asset per registered source (pipelines.sources.SOURCES), so each vendor is one
step: its resources share a client and a rate limit. The step runs the load the way the
command line does (pipelines.loads.load_checkpoints): in the source's checkpointed runs, so
a backfill that fails part-way keeps what it finished. dagster-dlt builds the asset specs;
the materializations are reported here, once per asset for the whole load.
"""

import tempfile
from collections import Counter
from pathlib import Path

import dagster as dg
from dagster_dlt import DagsterDltTranslator, dlt_assets
from dagster_dlt.translator import DltResourceTranslatorData
from dlt.common.schema import Schema

from pipelines.defs.resources import DEFAULT_DUCKDB_PATH, DUCKDB_POOL, WarehouseResource
from pipelines.loads import load_checkpoints, make_pipeline, source_spec
from pipelines.sources import SOURCES, SourceSpec


class RawTranslator(DagsterDltTranslator):
    """Keys match the warehouse table (and the dbt sources' meta.dagster.asset_key)."""

    def get_asset_spec(self, data: DltResourceTranslatorData) -> dg.AssetSpec:
        spec = super().get_asset_spec(data)
        dataset = source_spec(data.resource.source_name).dataset
        return spec.replace_attributes(
            key=dg.AssetKey([dataset, data.resource.table_name]),
            deps=[],  # the vendor API is not an asset
            group_name="raw",
        )


def _definition_pipeline(source: str):
    """A pipeline object for building asset specs only. Runs build their own, pointed at
    the warehouse resource's path, in a throwaway pipelines dir (see pipelines.loads)."""
    specs_dir = Path(tempfile.gettempdir()) / "aow-dlt-definitions"
    return make_pipeline(source, DEFAULT_DUCKDB_PATH, specs_dir)


def build_source_assets(spec: SourceSpec) -> dg.AssetsDefinition:
    # Placeholder arguments: specs need the resources, not credentials (resolved at run).
    definition_source = spec.factory(**spec.spec_args)
    tables = {
        dg.AssetKey([spec.dataset, resource.table_name]): resource.name
        for resource in definition_source.resources.values()
    }

    @dlt_assets(
        dlt_source=definition_source,
        dlt_pipeline=_definition_pipeline(spec.name),
        name=spec.name,
        dagster_dlt_translator=RawTranslator(),
        pool=DUCKDB_POOL,
    )
    def _assets(context: dg.AssetExecutionContext, warehouse: WarehouseResource):
        selected = [tables[key] for key in tables if key in context.selected_asset_keys]
        rows: Counter[str] = Counter()
        runs = 0
        schema = None
        for pipeline, counts in load_checkpoints(
            spec.name, warehouse.path, resources=selected if context.is_subset else None
        ):
            runs += 1
            rows.update(counts)
            schema = pipeline.default_schema  # read here: the pipeline's files go with the load
            context.log.info("%s: checkpoint %d loaded %s", spec.name, runs, dict(counts))
        for key, table in tables.items():
            if key in context.selected_asset_keys:
                yield dg.MaterializeResult(
                    asset_key=key, metadata=_table_metadata(spec, table, rows, runs, schema)
                )

    return _assets


def _table_metadata(
    spec: SourceSpec, table: str, rows: Counter[str], runs: int, schema: Schema | None
) -> dict[str, object]:
    """Rows this load wrote to the table (and to its child tables), the number of
    checkpointed runs, and the table's columns as dlt declared them."""
    children = {name: n for name, n in sorted(rows.items()) if name.startswith(f"{table}__")}
    metadata: dict[str, object] = {
        "rows_loaded": dg.MetadataValue.int(rows.get(table, 0)),
        "dlt_runs": dg.MetadataValue.int(runs),
        "dataset_name": spec.dataset,
    }
    if children:
        metadata["child_rows_loaded"] = dg.MetadataValue.json(children)
    if schema is not None and table in schema.tables:
        columns = schema.get_table_columns(table)
        # Dagster's standard table keys, which its UI shows as the table's name and columns.
        metadata["dagster/table_name"] = f"{spec.dataset}.{table}"
        metadata["dagster/column_schema"] = dg.TableSchema(
            columns=[
                dg.TableColumn(name, str(column.get("data_type") or "unknown"))
                for name, column in columns.items()
            ]
        )
    return metadata


source_assets = [build_source_assets(spec) for spec in SOURCES.values()]
