"""Command line of the simulated organisation: `python -m org_simulator <command> ...`.

    demo      simulate, serve, run the warehouse's whole Dagster job on it, summarise
    simulate  generate an organisation into a store file
    serve     serve an organisation as the vendors' APIs on loopback

Failures are reported as the warehouse's own command line reports them (pipelines.cli).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from org_simulator.options import add_arguments as add_org_options
from org_simulator.options import from_arguments as org_options
from org_simulator.sizes import SIZES
from pipelines.cli import common_options, run


def _demo(args: argparse.Namespace) -> int:
    from org_simulator.demo import run_demo

    return run_demo(args.size, args.seed, args.duckdb, org_options(args), verbose=args.verbose)


def _simulate(args: argparse.Namespace) -> int:
    from org_simulator.generate import generate_org

    options = org_options(args)
    path = generate_org(args.size, args.seed, args.out, generation=options.generation)
    print(f"wrote the {args.size} organisation (seed {args.seed}) to {path}")
    return 0


def _serve(args: argparse.Namespace) -> int:
    from org_simulator.demo import store_path
    from org_simulator.server import SimulatorServer
    from org_simulator.sources_env import simulator_sources_env

    options = org_options(args)
    if args.github_rate_limit:
        from org_simulator.vendors import github_transport

        github_transport.RATE_LIMIT = args.github_rate_limit
    store = args.store or store_path(args.size, args.seed, generation=options.generation)
    sim = SimulatorServer(
        store,
        port=args.port,
        absent_fields=options.absent_fields,
        page_cache_mib=args.page_cache_mib,
    )
    # Flushed at once: org_simulator.process reads the URL from this line.
    print(f"serving {store} on {sim.url} (Ctrl-C stops). Point the loaders at it with:", flush=True)
    for key, value in simulator_sources_env(sim, vendors=options.vendors).items():
        print(f"  export {key}='{value}'")
    try:
        sim.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        sim.stop()
    return 0


def build_parser() -> argparse.ArgumentParser:
    common = common_options()
    parser = argparse.ArgumentParser(
        prog="python -m org_simulator",
        description=__doc__,
        parents=[common],
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    sub = parser.add_subparsers(dest="command", required=True)

    def command(name: str, serving: bool = True, **kwargs) -> argparse.ArgumentParser:
        p = sub.add_parser(name, parents=[common], **kwargs)
        p.add_argument("--size", choices=sorted(SIZES), default="demo")
        p.add_argument("--seed", type=int, default=42)
        add_org_options(p, serving=serving)  # vendors, empty billing, absent fields
        return p

    p = command("demo", help="simulate, serve, run the whole Dagster job, summarise")
    p.add_argument(
        "--duckdb",
        type=Path,
        default=Path(".data/demo.duckdb"),
        help="a fresh warehouse, replaced on every demo run",
    )
    p.add_argument(
        "--verbose",
        action="store_true",
        help="Dagster's whole event stream and dbt's own log, instead of a line per step",
    )
    p.set_defaults(func=_demo)

    p = command("simulate", serving=False, help="generate an organisation into a store file")
    p.add_argument("--out", type=Path, required=True)
    p.set_defaults(func=_simulate)

    p = command("serve", help="serve an organisation as the vendors' APIs")
    p.add_argument("--store", type=Path, help="a store made by `simulate` (default: cached)")
    p.add_argument("--port", type=int, default=8765, help="0: a free port")
    p.add_argument(
        "--github-rate-limit",
        type=int,
        help="requests per hour the simulated GitHub allows a token (default 15,000)",
    )
    p.add_argument(
        "--page-cache-mib",
        type=float,
        default=64,
        help="rendered pages kept for requests asked again (0: none)",
    )
    p.set_defaults(func=_serve)
    return parser


def main(argv: list[str] | None = None) -> int:
    return run(build_parser().parse_args(argv))


if __name__ == "__main__":
    sys.exit(main())
