"""Command line for what people do by hand: `python -m pipelines <command> ...`.

Each command checks what it was given before it does anything: the project settings, read
once as it starts (pipelines.settings; a flag such as `--as-of` replaces its variable), the
warehouse (`--duckdb`, else the server AOW_WAREHOUSE names, else AOW_DUCKDB_PATH's file; a new
file only with `--create`) and,
for `transform`, the seed files. An expected failure (a broken setting, a refused load, a failed
dbt node, a busy warehouse) prints one line per problem on stderr and exits non-zero;
`--debug` adds the traceback (and dbt's own log).
"""

from __future__ import annotations

import argparse
import json
import sys
import time
import traceback
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pipelines.settings import Settings, read_settings
from pipelines.warehouse.engines import Warehouse, engine_of, is_duckdb
from pipelines.warehouse.path import WarehouseMissing, existing_warehouse

if TYPE_CHECKING:
    from pipelines.progress import CheckTally, DbtProgress
    from pipelines.transform.dbt_runner import BuildResult

CREATE_HINT = "pass --create to start a new warehouse there"
# For the commands that read a built warehouse.
BUILD_HINT = "load and build one first (make demo, or the ingest and transform commands)"
# The transform flags that stand for a project setting.
SETTING_FLAGS = {"AOW_SEEDS_DIR": "seeds_dir", "AOW_AS_OF": "as_of", "AOW_SERVING_PATH": "to"}
# Shown for each failed dbt node: its first lines, not a compiled-SQL dump.
NODE_MESSAGE_CHARS = 300
FAILED_NODES_SHOWN = 20


def _settings(args: argparse.Namespace) -> Settings:
    """The project settings, the command's flags replacing the variables they stand for."""
    given = {
        name: (f"--{flag.replace('_', '-')}", getattr(args, flag))
        for name, flag in SETTING_FLAGS.items()
        if getattr(args, flag, None) is not None
    }
    return read_settings(given=given)


def _warehouse(
    args: argparse.Namespace, settings: Settings, create: bool = False, hint: str = CREATE_HINT
) -> Warehouse:
    """The warehouse the command was given (`--duckdb`), else the setting's: a server engine's
    (AOW_WAREHOUSE), or the DuckDB file, which must exist unless `create`."""
    if args.duckdb is None and settings.server is not None:
        return settings.server
    return existing_warehouse(args.duckdb or settings.duckdb_path, create=create, hint=hint)


def _duckdb_warehouse(args: argparse.Namespace, settings: Settings, hint: str) -> Path:
    """The DuckDB warehouse of a command that reads a DuckDB file (publish, docs, metrics)."""
    warehouse = _warehouse(args, settings, hint=hint)
    if not is_duckdb(warehouse):
        raise WarehouseMissing(
            f"this command reads a DuckDB warehouse, and AOW_WAREHOUSE={engine_of(warehouse)}: "
            "give it one with --duckdb (docs/warehouses.md says what runs on each engine)"
        )
    return warehouse


def _ingest(args: argparse.Namespace) -> int:
    from pipelines.ingest.loads import run_load

    def report(warehouse: Path, counts: dict[str, int]) -> list[str]:
        tables = [f"  {table:<36} {n:>9,} rows" for table, n in counts.items()]
        return [*tables, f"  into {warehouse} (schema raw_{args.source})"]

    return _load_command(args, lambda warehouse: run_load(args.source, warehouse), report)


def _load_command(
    args: argparse.Namespace,
    load: Callable[[Path], Any],
    report: Callable[[Path, Any], list[str]],
) -> int:
    """Check the settings and the warehouse, run a source load, print its progress line
    (pipelines.progress), then the lines `report` makes of its result. A failed load prints
    its FAILED line, then reaches main() (the reason on one line, no traceback)."""
    from pipelines.ingest.loads import SourceNotConfigured, source_spec
    from pipelines.progress import FAILED, SKIPPED, LoadProgress
    from pipelines.sources.configuration import source_configuration
    from pipelines.sources.contract import QUARANTINE_TABLE
    from pipelines.sources.failures import LoadFailed
    from pipelines.sources.http_session import metered

    # Settings first: a broken one is named before the warehouse is touched or created.
    settings = _settings(args)
    configuration = source_configuration(source_spec(args.source))
    configuration.check()
    create = getattr(args, "create", False)  # replay works on an existing warehouse only
    warehouse = _warehouse(args, settings, create=create)
    started = time.monotonic()
    with metered() as meter:
        try:
            result = load(warehouse)
        except SourceNotConfigured as exc:
            # Not an error: an organisation without this vendor loads the others.
            print(LoadProgress(args.source, SKIPPED, reason=str(exc)).line())
            return 0
        except LoadFailed:
            seconds = time.monotonic() - started
            # What the checkpoints before the failure loaded is kept, but not counted here.
            failed = LoadProgress(args.source, FAILED, None, meter.requests, seconds=seconds)
            print(failed.line())
            raise
    rows = getattr(result, "rows_loaded", result)  # a replay's result, or the rows per table
    progress = LoadProgress(
        args.source,
        rows=sum(rows.values()),
        requests=meter.requests,
        quarantined=rows.get(QUARANTINE_TABLE, 0),
        seconds=time.monotonic() - started,
    )
    print("\n".join([progress.line(), *report(warehouse, result)]))
    return 0


def _transform(args: argparse.Namespace) -> int:
    from pipelines.transform.dbt_runner import build_models

    settings = _settings(args)
    warehouse = _warehouse(args, settings, create=args.create)
    started = time.monotonic()
    result = build_models(
        warehouse,
        select=args.select,
        full_refresh=args.full_refresh,
        dbt_vars=args.vars,
        seeds_dir=settings.seeds_dir,
        as_of=settings.as_of,
        quiet=not args.debug,
    )
    if args.debug:
        for node in result.nodes:
            print(f"  {node.status:<8} {node.unique_id}  {node.message or ''}".rstrip())
    print(_dbt_progress(result, time.monotonic() - started).line())
    for node in result.failed[:FAILED_NODES_SHOWN]:
        print(
            f"error: dbt {node.status}: {node.unique_id}: {_first_lines(node.message)}",
            file=sys.stderr,
        )
    if len(result.failed) > FAILED_NODES_SHOWN:
        more = len(result.failed) - FAILED_NODES_SHOWN
        print(f"error: ... and {more} more failed nodes", file=sys.stderr)
    if result.error:
        print(f"error: dbt failed: {_first_lines(result.error)}", file=sys.stderr)
    if not result.success and not args.debug:
        print("(dbt's whole log: dbt_project/logs/dbt.log, or run with --debug)", file=sys.stderr)
    return 0 if result.success else 1


def _dbt_progress(result: BuildResult, seconds: float) -> DbtProgress:
    """The build's progress line: its nodes by kind, how many failed or were skipped."""
    from pipelines.progress import FAILED, OK, DbtProgress

    kinds = Counter(node.unique_id.split(".")[0] for node in result.nodes)
    statuses = Counter(node.status for node in result.nodes)
    return DbtProgress(
        "build",
        OK if result.success else FAILED,
        models=kinds["model"] + kinds["snapshot"],
        seeds=kinds["seed"],
        tests=kinds["test"] + kinds["unit_test"],
        failed=len(result.failed),
        skipped=statuses["skipped"],
        seconds=seconds,
    )


def _first_lines(message: str | None) -> str:
    """A dbt message on one line: dbt's own wording, without its blank lines and indents."""
    text = " ".join(line.strip() for line in (message or "").splitlines() if line.strip())
    return text if len(text) <= NODE_MESSAGE_CHARS else text[: NODE_MESSAGE_CHARS - 3] + "..."


def _check(args: argparse.Namespace) -> int:
    from uuid import uuid4

    from pipelines.progress import CheckTally
    from pipelines.quality import run_checks
    from pipelines.quality.history import record_results

    settings = _settings(args)
    warehouse = _warehouse(args, settings, hint="load it first (ingest ... --create)")
    started = time.monotonic()
    results = run_checks(warehouse)
    suites = CheckTally("gx suites", seconds=time.monotonic() - started)
    for name, result in results.items():
        suites.add(name, result.success, False, ", ".join(f.label for f in result.failed))
        if result.success:
            continue
        print(f"FAIL  {name}")
        # One line per failed expectation, then its sample rows whole: the rows are what
        # a reader acts on, and a cut line would lose them.
        for f in result.failed:
            bounds = {k: v for k, v in f.kwargs.items() if k not in ("column", "column_list")}
            print(f"      {f.label} {json.dumps(bounds, default=str)}: ", end="")
            print(f.error or f"{f.unexpected_count} unexpected")
            for row in f.sample_rows:
                print(f"        {json.dumps(row, default=str)}")
    print(suites.line())
    run_id = f"cli-{uuid4()}"
    if is_duckdb(warehouse):
        record_results(warehouse, run_id, results.values(), holder="python -m pipelines check")
        print(f"  results kept in quality.gx_results (run_id {run_id})")
    if _models_not_built(results.values()):
        print(
            "error: the models are not built: run python -m pipelines transform first",
            file=sys.stderr,
        )
    quarantine = _check_quarantine(warehouse, settings.quarantine_max_share)
    return 0 if not suites.failed and not quarantine.failed else 1


def _check_quarantine(warehouse: Warehouse, max_share: float) -> CheckTally:
    """The quarantine check of each source's last load: what each resource with quarantined
    records kept back, then the checks' line (pipelines.progress.CheckTally)."""
    from pipelines.progress import OK, CheckTally, step_line
    from pipelines.quality.quarantine import check_sources

    tally = CheckTally("quarantine")
    for r in check_sources(warehouse, max_share):
        tally.add(f"{r.source}.{r.resource}", r.passed, False, r.message())
        print(f"{'pass' if r.passed else 'FAIL'}  quarantine {r.source}.{r.resource}")
        print(f"      {r.message()}")
    if tally.passed or tally.failed:
        print(tally.line())
    else:
        print(step_line("check quarantine", OK, "the last load of each source quarantined nothing"))
    return tally


def _replay(args: argparse.Namespace) -> int:
    from pipelines.ingest.replay import replay

    def report(_warehouse: Path, result: Any) -> list[str]:
        return [f"  {line}" for line in result.lines()]

    return _load_command(args, lambda warehouse: replay(args.source, warehouse), report)


def _publish(args: argparse.Namespace) -> int:
    from datetime import UTC, datetime
    from uuid import uuid4

    from pipelines.serving.publication import Provenance, publish
    from pipelines.settings import default_publication_path
    from pipelines.warehouse.lock import writer_lock

    settings = _settings(args)
    warehouse = _duckdb_warehouse(
        args, settings, hint="build it first (ingest ... --create, transform)"
    )
    target = settings.serving_path or default_publication_path(warehouse)
    with writer_lock(warehouse, "python -m pipelines publish"):
        # Outside a Dagster run the build's end is not recorded: the warehouse's last write
        # is its upper bound, and the metrics' "now" (unless fixed) the build's time before it.
        built_at = datetime.fromtimestamp(warehouse.stat().st_mtime, UTC)
        as_of = settings.as_of or built_at.replace(tzinfo=None).isoformat()
        provenance = Provenance(f"cli-{uuid4()}", datetime.fromisoformat(as_of), built_at)
        published = publish(warehouse, target, provenance)
    print(
        f"published {published.tables} marts ({sum(published.rows.values()):,} rows, "
        f"{published.size_bytes:,} bytes) to {published.path} (run_id {provenance.run_id})"
    )
    return 0


def _prepare(args: argparse.Namespace) -> int:
    from pipelines.transform.dbt_runner import prepare_manifest

    print(f"dbt manifest up to date: {prepare_manifest()}")
    return 0


def _dashboard(args: argparse.Namespace) -> int:
    import os

    from pipelines.serving.dashboard.server import environment, streamlit_command

    if args.publication is None:
        args.publication = _settings(args).publication_path
    if not args.publication.is_file():
        print(
            f"note: no publication at {args.publication} yet: `make demo` builds the demo's; "
            "the dashboard says so until there is one",
            file=sys.stderr,
        )
    print(f"dashboard: http://{args.host}:{args.port} (publication {args.publication})", flush=True)
    command = streamlit_command(args.publication, args.port, args.host)
    # The server takes this process's place: a signal to stop it reaches it, nothing is left.
    os.execve(command[0], command, environment(dict(os.environ)))
    return 0  # not reached


def _docs(args: argparse.Namespace) -> int:
    from pipelines.serving.dbt_docs import STATIC_PAGE, docs_dir
    from pipelines.transform.dbt_runner import docs_generate

    settings = _settings(args)
    warehouse = _duckdb_warehouse(args, settings, hint=BUILD_HINT)
    docs = docs_dir(warehouse)
    if args.generate or not (docs / STATIC_PAGE).exists():
        docs = docs_generate(warehouse, settings.seeds_dir, settings.as_of)
    page = docs / STATIC_PAGE
    print(f"dbt docs of {warehouse}: {page.as_uri()}")
    if args.serve:
        _serve(docs, args.serve)
    return 0


def _serve(directory: Path, port: int) -> None:
    """Serve `directory` on 127.0.0.1:`port` (index.html, as `dbt docs serve` does) until
    interrupted."""
    import contextlib
    import functools
    from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer

    handler = functools.partial(SimpleHTTPRequestHandler, directory=str(directory))
    with ThreadingHTTPServer(("127.0.0.1", port), handler) as server:
        print(f"serving on http://127.0.0.1:{port}/ (Ctrl-C stops)")
        with contextlib.suppress(KeyboardInterrupt):
            server.serve_forever()


def _metrics(args: argparse.Namespace) -> int:
    from pipelines.serving.metricflow import run_mf

    settings = _settings(args)
    warehouse = _duckdb_warehouse(args, settings, hint=BUILD_HINT)
    return run_mf(args.mf_args or ["--help"], warehouse).returncode


def _models_not_built(results) -> bool:
    """True when some suite failed because the relation it checks does not exist."""
    return any(f.expectation == "relation_exists" for result in results for f in result.failed)


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


def common_options() -> argparse.ArgumentParser:
    """The options every command takes (a parent parser): --debug, before or after the
    command; SUPPRESS keeps the subcommand's default from overriding one given before it."""
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument(
        "--debug",
        action="store_true",
        default=argparse.SUPPRESS,
        help="show the traceback of a failure (and dbt's own log)",
    )
    return common


def build_parser() -> argparse.ArgumentParser:
    common = common_options()
    parser = argparse.ArgumentParser(
        prog="python -m pipelines",
        description=__doc__,
        parents=[common],
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    sub = parser.add_subparsers(dest="command", required=True)
    add_parser = sub.add_parser

    def command(name: str, **kwargs) -> argparse.ArgumentParser:
        return add_parser(name, parents=[common], **kwargs)

    def warehouse_args(p: argparse.ArgumentParser, create: bool = True) -> None:
        p.add_argument(
            "--duckdb",
            type=Path,
            help="the warehouse file (default: $AOW_DUCKDB_PATH, else warehouse.duckdb at the "
            "repository root)",
        )
        if create:
            p.add_argument(
                "--create",
                action="store_true",
                help="start a new warehouse file if there is none (its directory must exist)",
            )

    p = command("ingest", help="load one source into a DuckDB file (schema raw_<source>)")
    p.add_argument("source", choices=["github", "jira", "pagerduty", "anthropic", "openai"])
    warehouse_args(p)
    p.set_defaults(func=_ingest)

    p = command("transform", help="dbt build the models")
    warehouse_args(p)
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

    p = command(
        "replay",
        help="load a source again and recover its quarantined records (docs/runbook_quarantine.md)",
    )
    p.add_argument("source", choices=["github", "jira", "pagerduty", "anthropic", "openai"])
    warehouse_args(p, create=False)
    p.set_defaults(func=_replay)

    p = command(
        "check", help="run the Great Expectations suites and the quarantine check of each source"
    )
    warehouse_args(p, create=False)
    p.set_defaults(func=_check)

    p = command(
        "docs",
        help="print where the warehouse's dbt docs are (a page that opens from disk), "
        "generating them when missing",
    )
    warehouse_args(p, create=False)
    p.add_argument(
        "--generate",
        action="store_true",
        help="generate them again (after a transform by hand; the Dagster job does it itself)",
    )
    p.add_argument(
        "--serve", type=int, metavar="PORT", help="also serve them on http://127.0.0.1:PORT/"
    )
    p.add_argument("--seeds-dir", type=Path, help="the organisation's seeds (as for transform)")
    p.add_argument("--as-of", help="the metrics' 'now' (as for transform)")
    p.set_defaults(func=_docs)

    p = command(
        "metrics",
        help="MetricFlow's `mf` against the warehouse: the semantic layer's metrics, e.g. "
        "metrics query --metrics prs_surviving --group-by pull_request__is_ai_assisted",
    )
    warehouse_args(p, create=False)
    p.add_argument("mf_args", nargs=argparse.REMAINDER, help="mf's command and its options")
    p.set_defaults(func=_metrics)

    p = command(
        "publish",
        help="publish the warehouse's marts for readers, replacing the publication whole "
        "(docs/serving.md)",
    )
    warehouse_args(p, create=False)
    p.add_argument(
        "--to",
        type=Path,
        help="the publication file (default: $AOW_SERVING_PATH, else <warehouse "
        "stem>.serving.duckdb beside the warehouse)",
    )
    p.set_defaults(func=_publish)

    p = command(
        "prepare",
        help="parse the dbt project into the manifest the Dagster definitions are built from, "
        "if it is missing or older than the project's files",
    )
    p.set_defaults(func=_prepare)

    p = command(
        "dashboard",
        help="serve the dashboard (Streamlit) on a publication of the marts (docs/dashboard.md)",
    )
    p.add_argument(
        "--publication",
        type=Path,
        help="the publication, a DuckDB file (default: $AOW_SERVING_PATH, else <warehouse "
        "stem>.serving.duckdb beside the warehouse; `make dashboard` serves the demo's)",
    )
    p.add_argument("--port", type=int, default=8501, help="the port (default 8501)")
    p.add_argument("--host", default="127.0.0.1", help="the address (default 127.0.0.1)")
    p.set_defaults(func=_dashboard)
    return parser


def main(argv: list[str] | None = None) -> int:
    return run(build_parser().parse_args(argv))


def run(args: argparse.Namespace) -> int:
    """Run a parsed command (`args.func`); an expected failure is one line per problem on
    stderr (the traceback with `--debug`), and the exit code says which kind it was."""
    args.debug = getattr(args, "debug", False)  # absent when given neither before nor after
    try:
        return args.func(args)
    except Exception as exc:
        if not isinstance(exc, _expected_failures()):
            raise  # a bug: its traceback is what to report
        if args.debug:
            traceback.print_exc()
        for line in _problems(exc):
            print(f"error: {line}", file=sys.stderr)
        return _exit_code(exc)


def _expected_failures() -> tuple[type[BaseException], ...]:
    """Failures a user can cause and fix, reported without a traceback: a broken setting, a
    missing warehouse or seed, a refused load, a busy or unreadable warehouse."""
    import duckdb

    from pipelines.sources.failures import LoadFailed
    from pipelines.warehouse.engines import (
        WarehouseNotReady,
        WarehouseQueryError,
        WarehouseUnreachable,
    )
    from pipelines.warehouse.lock import WarehouseBusy

    return (
        ValueError,
        FileNotFoundError,
        LoadFailed,
        WarehouseBusy,
        duckdb.Error,
        WarehouseNotReady,
        WarehouseQueryError,
        WarehouseUnreachable,
    )


def _problems(exc: BaseException) -> list[str]:
    """One line per problem (a SettingError names each broken setting)."""
    problems = getattr(exc, "problems", None) or [str(exc)]
    return [" ".join(str(p).split()) for p in problems]


def _exit_code(exc: BaseException) -> int:
    """2 for what was given (a setting, a path, a seed file), 1 for a run that failed."""
    from pipelines.settings import SettingError
    from pipelines.sources.failures import LoadFailed
    from pipelines.warehouse.lock import WarehouseBusy

    failed_run = isinstance(exc, LoadFailed | WarehouseBusy) and not isinstance(exc, SettingError)
    return 1 if failed_run else 2


if __name__ == "__main__":
    sys.exit(main())
