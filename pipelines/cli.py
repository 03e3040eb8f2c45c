"""Command line for what people do by hand: `python -m pipelines <command> ...`."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from pipelines.simulator.options import add_arguments as add_org_options
from pipelines.simulator.options import from_arguments as org_options
from pipelines.simulator.sizes import SIZES

DEFAULT_WAREHOUSE = Path(".data/warehouse.duckdb")


def _simulate(args: argparse.Namespace) -> int:
    from pipelines.simulator.generate import generate_org

    options = org_options(args)
    path = generate_org(args.size, args.seed, args.out, generation=options.generation)
    print(f"wrote the {args.size} organisation (seed {args.seed}) to {path}")
    return 0


def _serve(args: argparse.Namespace) -> int:
    from pipelines.demo import store_path
    from pipelines.simulator.server import SimulatorServer
    from pipelines.simulator.sources_env import simulator_sources_env

    options = org_options(args)
    store = args.store or store_path(args.size, args.seed, generation=options.generation)
    sim = SimulatorServer(store, port=args.port, absent_fields=options.absent_fields)
    print(f"serving {store} on {sim.url} (Ctrl-C stops). Point the loaders at it with:")
    for key, value in simulator_sources_env(sim, vendors=options.vendors).items():
        print(f"  export {key}='{value}'")
    try:
        sim.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        sim.stop()
    return 0


def _ingest(args: argparse.Namespace) -> int:
    from pipelines.loads import SourceNotConfigured, run_load
    from pipelines.sources.failures import LoadFailed

    try:
        counts = run_load(args.source, args.duckdb)
    except SourceNotConfigured as exc:
        # Not an error: an organisation without this vendor loads the others.
        print(f"nothing loaded: {exc}")
        return 0
    except LoadFailed as exc:
        print(f"error: ingest failed: {exc}", file=sys.stderr)
        return 1
    print(f"loaded {args.source} into {args.duckdb} (schema raw_{args.source})")
    for table, n in counts.items():
        print(f"  {table:<36} {n:>9,} rows")
    return 0


def _transform(args: argparse.Namespace) -> int:
    from pipelines.transform import build_models, org_env

    result = build_models(
        args.duckdb,
        select=args.select,
        full_refresh=args.full_refresh,
        dbt_vars=args.vars,
        env=org_env(args.seeds_dir, args.as_of),
    )
    for node in result.nodes:
        print(
            f"  {node.status:<8} {node.unique_id}" + (f"  {node.message}" if node.failures else "")
        )
    if result.error:
        print(f"dbt failed: {result.error}", file=sys.stderr)
    return 0 if result.success else 1


def _check(args: argparse.Namespace) -> int:
    from uuid import uuid4

    from pipelines.quality import run_checks
    from pipelines.quality.history import record_results

    results = run_checks(args.duckdb)
    for name, result in results.items():
        print(f"{'pass' if result.success else 'FAIL'}  {name}")
        # One line per failed expectation, then its sample rows whole: the rows are what
        # a reader acts on, and a cut line would lose them.
        for f in result.failed:
            bounds = {k: v for k, v in f.kwargs.items() if k not in ("column", "column_list")}
            print(f"      {f.label} {json.dumps(bounds, default=str)}: ", end="")
            print(f.error or f"{f.unexpected_count} unexpected")
            for row in f.sample_rows:
                print(f"        {json.dumps(row, default=str)}")
    run_id = f"cli-{uuid4()}"
    record_results(args.duckdb, run_id, results.values(), holder="python -m pipelines check")
    print(f"results kept in quality.gx_results (run_id {run_id})")
    return 0 if all(r.success for r in results.values()) else 1


def _demo(args: argparse.Namespace) -> int:
    from pipelines.demo import run_demo

    return run_demo(args.size, args.seed, args.duckdb, org_options(args))


def _dbt_vars(text: str) -> dict:
    """--vars as dbt takes them: a YAML (or JSON) mapping."""
    import yaml

    try:
        value = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise argparse.ArgumentTypeError(f"not YAML: {exc}") from None
    if not isinstance(value, dict):
        raise argparse.ArgumentTypeError("give a mapping, e.g. '{survival_horizon_days: 14}'")
    return value


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m pipelines", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)

    def org_args(p: argparse.ArgumentParser, default_size: str = "demo", serving=True) -> None:
        p.add_argument("--size", choices=sorted(SIZES), default=default_size)
        p.add_argument("--seed", type=int, default=42)
        add_org_options(p, serving=serving)  # vendors, empty billing, absent fields

    p = sub.add_parser("demo", help="simulate, serve, run the whole Dagster job, summarise")
    org_args(p)
    p.add_argument(
        "--duckdb",
        type=Path,
        default=Path(".data/demo.duckdb"),
        help="a fresh warehouse, replaced on every demo run",
    )
    p.set_defaults(func=_demo)

    p = sub.add_parser("simulate", help="generate a simulated organisation into a store file")
    org_args(p, serving=False)
    p.add_argument("--out", type=Path, required=True)
    p.set_defaults(func=_simulate)

    p = sub.add_parser("serve", help="serve a simulated organisation as the vendors' APIs")
    org_args(p)
    p.add_argument("--store", type=Path, help="a store made by `simulate` (default: cached)")
    p.add_argument("--port", type=int, default=8765)
    p.set_defaults(func=_serve)

    p = sub.add_parser("ingest", help="load one source into a DuckDB file (schema raw_<source>)")
    p.add_argument("source", choices=["github", "jira", "pagerduty", "anthropic", "openai"])
    p.add_argument("--duckdb", type=Path, default=DEFAULT_WAREHOUSE)
    p.set_defaults(func=_ingest)

    p = sub.add_parser("transform", help="dbt build the models")
    p.add_argument("--duckdb", type=Path, default=DEFAULT_WAREHOUSE)
    p.add_argument("--select", help="dbt selection syntax")
    p.add_argument(
        "--vars",
        type=_dbt_vars,
        help="dbt vars as YAML or JSON, e.g. '{survival_horizon_days: 14}'",
    )
    p.add_argument(
        "--full-refresh",
        action="store_true",
        help="rebuild the incremental models from scratch (after editing the people seed)",
    )
    p.add_argument(
        "--seeds-dir",
        type=Path,
        help="the organisation's seeds, any directory (read only; default $AOW_SEEDS_DIR, "
        "else dbt_project/seeds)",
    )
    p.add_argument("--as-of", help="the metrics' 'now', ISO UTC (default: $AOW_AS_OF or now)")
    p.set_defaults(func=_transform)

    p = sub.add_parser("check", help="run the Great Expectations suites in expectations/")
    p.add_argument("--duckdb", type=Path, default=DEFAULT_WAREHOUSE)
    p.set_defaults(func=_check)
    return parser


def main(argv: list[str] | None = None) -> int:
    from pipelines.warehouse_lock import WarehouseBusy

    args = build_parser().parse_args(argv)
    try:
        return args.func(args)
    except WarehouseBusy as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    except (ValueError, FileNotFoundError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
