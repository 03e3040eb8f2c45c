"""The quarantine check (pipelines.quality.quarantine) as blocking Dagster asset checks.

One multi-asset check per source, with one check `quarantine_share` on each of its tables:
after the source's step, a table whose records the load quarantined above the allowed share
(`AOW_QUARANTINE_MAX_SHARE`), or all of them, fails its check, and being blocking, that holds
back the dbt ops that read it, so the previous marts stay as they were instead of freezing
silently on a load that "succeeded". The check's metadata names the field, the expected and
seen types, the count and a sample record.
"""

from collections.abc import Sequence

import dagster as dg

from pipelines.orchestration.resources import DUCKDB_POOL, WarehouseResource
from pipelines.quality.quarantine import QuarantineShare, check_source
from pipelines.sources import SourceSpec
from pipelines.sources.contract import QUARANTINE_TABLE

CHECK_NAME = "quarantine_share"


def build_quarantine_check(
    spec: SourceSpec, tables: list[dg.AssetKey], max_share: float
) -> dg.AssetChecksDefinition:
    """`max_share`: the share of a table's records above which its check fails."""
    checked = [key for key in tables if key.path[-1] != QUARANTINE_TABLE]

    @dg.multi_asset_check(
        name=f"quarantine_{spec.name}",
        specs=[
            dg.AssetCheckSpec(
                CHECK_NAME,
                asset=key,
                blocking=True,
                description=f"Records of {key.path[-1]} the last {spec.name} load quarantined: "
                f"fails above {max_share:.1%} (AOW_QUARANTINE_MAX_SHARE), or when all were.",
            )
            for key in checked
        ],
        can_subset=True,
        pool=DUCKDB_POOL,
    )
    def _check(context: dg.AssetCheckExecutionContext, warehouse: WarehouseResource):
        with warehouse.connect(read_only=True) as con:
            results = check_source(con, spec.name, spec.dataset, max_share)
        by_table: dict[str, list[QuarantineShare]] = {}
        for result in results:
            by_table.setdefault(result.table, []).append(result)
        for key in checked:
            if dg.AssetCheckKey(key, CHECK_NAME) not in context.selected_asset_check_keys:
                continue
            found = by_table.get(key.path[-1], [])
            failed = [r for r in found if not r.passed]
            if failed:
                context.log.error("\n".join(r.message() for r in failed))
            yield dg.AssetCheckResult(
                asset_key=key,
                check_name=CHECK_NAME,
                passed=not failed,
                severity=dg.AssetCheckSeverity.ERROR,
                description="; ".join(r.message() for r in failed) or None,
                metadata={
                    "quarantined_records": sum(r.quarantined for r in found),
                    "resources": dg.MetadataValue.json([r.metadata() for r in found]),
                },
            )

    return _check


def build_quarantine_checks(
    source_assets: Sequence[dg.AssetsDefinition], specs: dict[str, SourceSpec], max_share: float
) -> list[dg.AssetChecksDefinition]:
    """One per source multi-asset (named after its source)."""
    return [
        build_quarantine_check(specs[assets.node_def.name], sorted(assets.keys), max_share)
        for assets in source_assets
    ]
