"""Benchmark: a simulated organisation loaded and built on each warehouse engine.

.venv/bin/python -m benchmarks.engines                      # tiny, all three engines
.venv/bin/python -m benchmarks.engines --size demo --engines postgres

On each engine, as tests/engines does (tests/engines/builds.py): the real loaders load the
organisation with the simulator's clock 12 days early, dbt builds; the loaders load again at
the as-of date, dbt builds incrementally; then a full refresh with every data and unit test.
Postgres is a throwaway 15 from the machine's packages, Spark a local Thrift Server from
`make spark` (their start times are printed too). Prints each phase's wall time.
"""

from __future__ import annotations

import argparse
import contextlib
import tempfile
import time
from pathlib import Path

from org_simulator.demo import store_path
from org_simulator.testing import TINY_SEED
from pipelines.warehouse.engines import ENGINES, Postgres, Spark
from tests.engines.builds import build_on
from tests.engines.postgres_server import postgres_server
from tests.engines.spark_server import spark_thrift_server

SEEDS = {"tiny": TINY_SEED, "demo": 42}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", default="tiny", choices=sorted(SEEDS))
    parser.add_argument("--engines", default=",".join(ENGINES))
    args = parser.parse_args()
    store = store_path(args.size, SEEDS[args.size])
    for engine in args.engines.split(","):
        with tempfile.TemporaryDirectory() as work, contextlib.ExitStack() as servers:
            started = time.monotonic()
            if engine == "postgres":
                pg = servers.enter_context(postgres_server())
                target = Postgres(host=pg.host, port=pg.port, user=pg.user, database=pg.database)
            elif engine == "spark":
                spark = servers.enter_context(spark_thrift_server())
                target = Spark(spark.lake, spark.host, spark.port)
            else:
                target = Path(work) / "warehouse.duckdb"
            server_seconds = time.monotonic() - started
            build = build_on(engine, target, store)
            phases = {"server start": server_seconds, **build.seconds}
            ok = all(b.success for b in [*build.incremental, build.full_refresh])
            print(
                f"{engine:<9} {args.size}: "
                + ", ".join(f"{name} {seconds:.1f} s" for name, seconds in phases.items())
                + f", total {sum(phases.values()):.1f} s{'' if ok else '  (a build FAILED)'}",
                flush=True,
            )


if __name__ == "__main__":
    main()
