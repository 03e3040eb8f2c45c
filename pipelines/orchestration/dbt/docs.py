"""The dbt docs as a Dagster asset: generated after every dbt model of the run is built.

`dbt docs generate --static` reads the warehouse (the catalog: every table and column, with
its type) and dbt-duckdb opens the file for writing, so the step runs in the
`duckdb_warehouse` pool and holds the warehouse's writer lock, like the dbt ops. It runs in
the run's process, from the dbt ops' parse (dbt_runner.parsed_manifest). The docs are
kept beside the warehouse (pipelines.serving.dbt_docs): static_index.html opens from disk.
Docs that already describe the project's code and the warehouse's tables (their columns and
types) are not generated again: a daily run that only added rows leaves them as they are.
"""

import json
from collections.abc import Sequence
from pathlib import Path

import dagster as dg

from pipelines.orchestration.resources import DUCKDB_POOL, WarehouseResource
from pipelines.serving.dbt_docs import STATIC_PAGE, docs_are_current, docs_inputs, publish_docs
from pipelines.transform.dbt_runner import (
    generate_docs,
    invocation_target,
    parse_digest,
    run_vars,
)

DBT_DOCS = dg.AssetKey(["serving", "dbt_docs"])


def dbt_docs_asset(
    dbt_models: Sequence[dg.AssetsDefinition], seeds_dir: Path | None, as_of: str | None
) -> dg.AssetsDefinition:
    """The docs of every dbt model (`dbt_models`, the dbt ops' assets), generated with the
    run's vars: the dbt ops' parse is reused, not redone."""

    @dg.asset(
        key=DBT_DOCS,
        group_name="serving",
        deps=[key for assets in dbt_models for key in assets.keys],
        pool=DUCKDB_POOL,
        output_required=False,
        description="dbt docs of the warehouse (models, columns, lineage, catalog): "
        f"<warehouse stem>_docs/{STATIC_PAGE} beside the warehouse file opens from disk.",
    )
    def dbt_docs(context: dg.AssetExecutionContext, warehouse: WarehouseResource):
        # The vars of the dbt ops (the window of days is not one of them), whose parse this
        # reuses: pipelines.orchestration.dbt.assets.
        dbt_vars = run_vars(warehouse.path, seeds_dir, as_of)
        with warehouse.writer(f"dagster run {context.run.run_id} (dbt_docs)"):
            inputs = docs_inputs(warehouse.path, parse_digest(dbt_vars))
            if docs_are_current(warehouse.path, inputs):
                context.log.info("The dbt docs describe this code and these tables already.")
                return
            with invocation_target(publish=()) as target:
                generate_docs(target, dbt_vars)
                docs = publish_docs(target, warehouse.path, inputs)
        catalog = json.loads((docs / "catalog.json").read_text(encoding="utf-8"))
        yield dg.Output(
            None,
            metadata={
                "page": dg.MetadataValue.path(str(docs / STATIC_PAGE)),
                "catalogued_relations": len(catalog["nodes"]),
            },
        )

    return dbt_docs
