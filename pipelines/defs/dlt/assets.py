"""dlt loaders as Dagster assets: one asset per dlt resource, keyed [<raw dataset>, <table>].

One multi-asset per registered source (pipelines.sources.SOURCES), so each vendor is one
step: its resources share a client, a rate limit and a commit of their cursors.
"""

import tempfile
from pathlib import Path

import dagster as dg
from dagster_dlt import DagsterDltResource, DagsterDltTranslator, dlt_assets
from dagster_dlt.translator import DltResourceTranslatorData

from pipelines.defs.resources import DEFAULT_DUCKDB_PATH, DUCKDB_POOL, WarehouseResource
from pipelines.loads import LOADER_FILE_FORMAT, make_pipeline, pipelines_dir_for, source_spec
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
    @dlt_assets(
        # Placeholder arguments: specs need the resources, not credentials (resolved at run).
        dlt_source=spec.factory(**spec.spec_args),
        dlt_pipeline=_definition_pipeline(spec.name),
        name=spec.name,
        dagster_dlt_translator=RawTranslator(),
        pool=DUCKDB_POOL,
    )
    def _assets(
        context: dg.AssetExecutionContext, dlt: DagsterDltResource, warehouse: WarehouseResource
    ):
        with pipelines_dir_for(None) as pipelines_dir:
            pipeline = make_pipeline(spec.name, warehouse.path, pipelines_dir)
            # The factory resolves SOURCES__<NAME>__* now, at run time.
            yield from dlt.run(
                context=context,
                dlt_source=spec.factory(),
                dlt_pipeline=pipeline,
                loader_file_format=LOADER_FILE_FORMAT,
            )

    return _assets


dlt_resource = DagsterDltResource()
source_assets = [build_source_assets(spec) for spec in SOURCES.values()]
