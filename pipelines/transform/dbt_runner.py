"""Build the dbt models into the warehouse, in-process (dbt's programmatic runner).

The warehouse's engine picks the dbt target (dbt_project/profiles.yml): a DuckDB file is
passed as the var `duckdb_path`, a server's connection through the environment its output
reads (pipelines.warehouse.engines)."""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import tempfile
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pipelines.atomic_files import written_atomically
from pipelines.envvars import temporary_env
from pipelines.project_files import DBT_PROJECT_DIR
from pipelines.transform.changes import (
    BuildPlan,
    forget_all,
    plan_build,
    record_results,
    selection_names,
)
from pipelines.transform.org_seeds import dbt_seed_vars
from pipelines.warehouse.engines import (
    Warehouse,
    dbt_env,
    dbt_target,
    is_duckdb,
    require_build_settings,
)
from pipelines.warehouse.lock import warehouse_writer, writer_lock

# What `dbt parse` and every build publish: manifest.json (which the Dagster definitions
# read), run_results.json, partial_parse.msgpack (the next invocation's head start).
DBT_TARGET_DIR = DBT_PROJECT_DIR / "target"
MANIFEST = DBT_TARGET_DIR / "manifest.json"
PARTIAL_PARSE = "partial_parse.msgpack"

# What a dbt parse reads: a manifest older than any of these is stale.
_DBT_SOURCE_DIRS = ("models", "macros", "seeds", "snapshots", "tests", "analyses")
_DBT_SOURCE_FILES = ("dbt_project.yml", "profiles.yml", "packages.yml", "dependencies.yml")


# Where every dbt invocation finds the project and its profile.
PROJECT_ARGS = ("--project-dir", str(DBT_PROJECT_DIR), "--profiles-dir", str(DBT_PROJECT_DIR))
# dbt's statuses of a node that did not succeed (a skipped node is not a failure of its own).
FAILED = ("error", "fail", "runtime error")
# What a parse stamps on each node of the manifest, with the time it made it.
_PARSE_STAMPS = frozenset({"created_at"})
# Vars that only compiled SQL reads (the as_of macros), never a node's configuration or refs.
COMPILE_ONLY_VARS = frozenset({"as_of"})
# The events that carry a node's result, which dagster-dbt turns into Dagster events.
RESULT_EVENTS = frozenset({"LogSeedResult", "LogModelResult", "LogSnapshotResult", "LogTestResult"})


@dataclass
class NodeResult:
    unique_id: str
    status: str  # success, error, fail, warn, skipped, pass
    message: str | None = None
    failures: int | None = None


@dataclass
class BuildResult:
    success: bool
    nodes: list[NodeResult] = field(default_factory=list)
    error: str | None = None  # dbt itself failed (bad project, no profile...)

    @property
    def failed(self) -> list[NodeResult]:
        return [n for n in self.nodes if n.status in FAILED]


@dataclass
class InProcessBuild:
    statuses: dict[str, str]  # unique_id -> dbt status
    result_events: list[dict[str, Any]]  # dbt's result events, as its JSON log writes them
    error: str | None  # dbt itself failed (bad selection, broken project...)


def build_in_process(
    select: Sequence[str], dbt_vars: dict[str, Any], warehouse: Warehouse
) -> InProcessBuild:
    """`dbt build --select <select>` in this process, from the project's parse for these vars
    (parsed once per code version and seeds: parsed_manifest), with dbt's result events
    kept. The caller holds the warehouse's writer lock. The run's files go with its target
    directory: the daily run's record is the warehouse's own (pipelines.transform.changes)."""
    from dbt.cli.main import dbtRunner
    from dbt_common.events.functions import msg_to_dict

    events: list[dict[str, Any]] = []

    def keep(msg) -> None:
        if msg.info.name in RESULT_EVENTS:
            events.append(msg_to_dict(msg))

    args = ["build", *PROJECT_ARGS, "--select", *select, "--indirect-selection", "empty"]
    args += ["--vars", json.dumps(dbt_vars), "--log-level", "none"]
    # The default target's parse hands its partial parse on; another target's parses apart.
    target_args = [] if is_duckdb(warehouse) else ["--target", dbt_target(warehouse)]
    require_build_settings(warehouse)
    env = dbt_env(warehouse)
    with temporary_env(env):
        manifest = parsed_manifest(dbt_vars, target_args)
    with invocation_target(publish=()) as target, temporary_env(env):
        try:
            res = dbtRunner(manifest=manifest, callbacks=[keep]).invoke(
                [*args, *target_args, "--target-path", str(target)]
            )
        finally:
            _close_duckdb()
    statuses = {r.node.unique_id: str(r.status) for r in _results(res)}
    return InProcessBuild(statuses, events, _invocation_error(res))


def _results(res) -> list:
    """The node results of a dbt invocation (none when dbt itself failed)."""
    return getattr(res.result, "results", None) or []


def _invocation_error(res) -> str | None:
    """What made dbt itself fail (a bad project, no profile...), or None."""
    return None if res.exception is None else f"{type(res.exception).__name__}: {res.exception}"


_parsed: dict[tuple, tuple[Any, str]] = {}


def parsed_manifest(dbt_vars: dict[str, Any], target_args: Sequence[str] = ()):
    """The project parsed (a dbt Manifest), once per process for each code version, seeds
    directory and dbt target (`target_args`: a node's database is its target's): what a parse
    reads of the vars. Builds given it parse nothing."""
    return _parse_of(dbt_vars, target_args)[0]


def parse_digest(dbt_vars: dict[str, Any]) -> str:
    """A digest of the project as parsed for these vars (parsed_manifest), taken before any
    build compiled its nodes into it, and without the times a parse stamps on the manifest
    and each node: the same code gives the same digest, whatever the day."""
    return _parse_of(dbt_vars)[1]


def _parse_of(dbt_vars: dict[str, Any], target_args: Sequence[str] = ()) -> tuple[Any, str]:
    key = (_project_version(), dbt_vars.get("staged_seeds"), tuple(target_args))
    if key not in _parsed:
        # The clock is left out: only compiled SQL reads it, from the build's own vars, and
        # dbt parses the whole project again whenever a parse's vars differ from the last
        # one's; without it, the next day's run starts from this parse's partial parse.
        parse_vars = {k: v for k, v in dbt_vars.items() if k not in COMPILE_ONLY_VARS}
        # Only the partial parse is handed on: the manifest the definitions read stays theirs.
        args = ["--vars", json.dumps(parse_vars), "--log-level", "none", *target_args]
        # The partial parse is the default target's: another target's would make the next
        # parse of the default one start over.
        manifest = _parse(args, [] if target_args else [PARTIAL_PARSE])
        content = manifest.writable_manifest().to_dict(omit_none=False)
        _parsed.clear()
        _parsed[key] = (manifest, _lasting_digest(content))
    return _parsed[key]


def _lasting_digest(content: dict[str, Any]) -> str:
    def lasting(value: Any) -> Any:
        if isinstance(value, dict):
            return {k: lasting(v) for k, v in value.items() if k not in _PARSE_STAMPS}
        if isinstance(value, list):
            return [lasting(v) for v in value]
        return value

    project = {k: v for k, v in content.items() if k != "metadata"}
    canonical = json.dumps(lasting(project), sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(canonical.encode()).hexdigest()


def _project_version() -> tuple[float, int]:
    """The newest modification time and the number of the dbt project's source files."""
    files = _project_files()
    return max((p.stat().st_mtime for p in files if p.exists()), default=0.0), len(files)


def build_models(
    warehouse: Warehouse,
    select: str | Sequence[str] | None = None,
    *,
    full_refresh: bool = False,
    dbt_vars: dict[str, Any] | None = None,
    seeds_dir: Path | str | None = None,
    as_of: str | None = None,
    tests: bool = True,
    unit_tests: bool = True,
    quiet: bool = False,
    changed_only: bool = False,
) -> BuildResult:
    """`dbt build` (seeds, models, then their tests) against `warehouse`.

    `changed_only` builds only the nodes whose inputs changed since they last succeeded, as
    the daily run does (pipelines.transform.changes), and records what it built; any other
    build forgets that record, so that the next changed-only build builds everything. The
    record lives in a DuckDB warehouse: on a server engine every build builds everything
    (incremental models still process only what is new).

    `select` is dbt selection syntax; `dbt_vars` override the docs/metrics.md parameters;
    `seeds_dir` and `as_of` are the organisation's seeds and clock (see run_vars); `tests`
    False builds seeds and models only (no data or unit tests: they take most of a build's
    time), `unit_tests` False leaves out the unit tests only; `quiet` keeps dbt's console log
    to itself (it still writes dbt_project/logs/dbt.log): the caller reports the failed nodes.
    The seed files are checked first (pipelines.transform.org_seeds: SeedError names the
    file, line and column). Holds the warehouse's writer lock: raises WarehouseBusy while
    another process writes it.
    """
    from dbt.cli.main import dbtRunner

    args = ["build", *PROJECT_ARGS]
    if select:
        args += ["--select", *([select] if isinstance(select, str) else select)]
    if full_refresh:
        args.append("--full-refresh")
    # Exposures (the dashboard's pages) document what reads the marts; there is nothing to build.
    args += ["--exclude-resource-type", "exposure"]
    if not tests:
        args += ["--exclude-resource-type", "test"]
    if not (tests and unit_tests):
        args += ["--exclude-resource-type", "unit_test"]
    if quiet:
        args += ["--log-level", "none"]
    all_vars = {**run_vars(warehouse, seeds_dir, as_of), **(dbt_vars or {})}
    args += ["--vars", json.dumps(all_vars), "--target", dbt_target(warehouse)]
    if changed_only and (select or full_refresh):
        raise ValueError("changed_only builds what changed: no selection, no full refresh")
    changed_only = changed_only and is_duckdb(warehouse)
    require_build_settings(warehouse)
    holder = f"dbt build (pid {os.getpid()})"
    with (
        warehouse_writer(warehouse, holder),
        # A server engine's parse is its target's (other relations, other macros): it must
        # not replace the manifest the Dagster definitions and the daily plan read.
        invocation_target(publish=None if is_duckdb(warehouse) else ()) as target,
        temporary_env(dbt_env(warehouse)),
    ):
        plan = None
        if changed_only:
            plan, selection = _changed_selection(warehouse, all_vars, tests, unit_tests)
            if not selection:
                return BuildResult(success=True)
            args += ["--select", *selection, "--indirect-selection", "empty"]
        elif is_duckdb(warehouse):
            # A build of its own (other vars, a selection, a full refresh) leaves the record
            # of what was last built untrue: the next changed-only build builds everything.
            forget_built_state(warehouse)
        try:
            res = dbtRunner().invoke([*args, "--target-path", str(target)])
        finally:
            _close_duckdb()
    nodes = [
        NodeResult(
            unique_id=r.node.unique_id,
            status=str(r.status),
            message=r.message,
            failures=r.failures,
        )
        for r in _results(res)
    ]
    error = _invocation_error(res)
    if plan is not None and res.exception is None:
        import duckdb

        with duckdb.connect(str(warehouse)) as con:
            record_results(con, plan, {n.unique_id: n.status for n in nodes})
    return BuildResult(success=bool(res.success), nodes=nodes, error=error)


def _changed_selection(
    duckdb_path: Path | str, dbt_vars: dict[str, Any], tests: bool, unit_tests: bool
) -> tuple[BuildPlan, list[str]]:
    """The build plan, and the dbt selection of its changed nodes that this build runs."""
    import duckdb

    manifest = json.loads(prepare_manifest().read_text())
    with duckdb.connect(str(duckdb_path)) as con:
        plan = plan_build(con, manifest, dbt_vars)
    kinds = {"seed", "model", "snapshot"} | ({"test"} if tests else set())
    kinds |= {"unit_test"} if tests and unit_tests else set()
    nodes = {**manifest["nodes"], **manifest.get("unit_tests", {})}
    todo = [uid for uid in plan.changed if nodes[uid]["resource_type"] in kinds]
    return plan, selection_names(manifest, todo)


def forget_built_state(duckdb_path: Path | str) -> None:
    """Drop the daily run's record of what it built (pipelines.transform.changes), if any."""
    import duckdb

    if Path(duckdb_path).exists():
        with duckdb.connect(str(duckdb_path)) as con:
            forget_all(con)


def docs_generate(
    duckdb_path: Path | str, seeds_dir: Path | str | None = None, as_of: str | None = None
) -> Path:
    """`dbt docs generate --static` against a built warehouse, holding its writer lock (the
    catalog opens the file as dbt-duckdb does, for writing); the docs are kept beside the
    warehouse (pipelines.serving.dbt_docs). Returns their directory: static_index.html (opens
    from disk), index.html, manifest.json and catalog.json."""
    from pipelines.serving.dbt_docs import publish_docs

    holder = f"dbt docs generate (pid {os.getpid()})"
    with writer_lock(duckdb_path, holder), invocation_target(publish=()) as target:
        generate_docs(target, run_vars(duckdb_path, seeds_dir, as_of))
        return publish_docs(target, duckdb_path)


def generate_docs(target: Path, dbt_vars: dict[str, Any]) -> None:
    """`dbt docs generate --static` into `target`, in this process from the project's parse
    (parsed_manifest). The caller holds the warehouse's writer lock; raises RuntimeError
    with dbt's reason when the docs could not be generated."""
    from dbt.cli.main import dbtRunner

    args = ["docs", "generate", "--static", *PROJECT_ARGS, "--vars", json.dumps(dbt_vars)]
    args += ["--log-level", "none", "--target-path", str(target)]
    try:
        res = dbtRunner(manifest=parsed_manifest(dbt_vars)).invoke(args)
    finally:
        _close_duckdb()
    if not res.success:
        errors = getattr(res.result, "errors", None) or []
        reason = _invocation_error(res) or "; ".join(str(e) for e in errors) or "no reason given"
        raise RuntimeError(f"dbt docs generate failed: {reason}")


def run_vars(
    warehouse: Warehouse, seeds_dir: Path | str | None = None, as_of: str | None = None
) -> dict[str, str]:
    """The dbt vars of a run: a DuckDB warehouse's file (profiles.yml), the organisation's seeds
    (`seeds_dir`, any directory, read and never written: staged and checked first, see
    pipelines.transform.org_seeds; None: the project's own) and its clock (`as_of`, the
    metrics' "now"; None: the build's time)."""
    fixed_clock = {"as_of": as_of} if as_of else {}
    duckdb_var = {"duckdb_path": str(Path(warehouse).resolve())} if is_duckdb(warehouse) else {}
    return {**duckdb_var, **dbt_seed_vars(seeds_dir), **fixed_clock}


# The window of days of a partitioned run (int_ai_spend), as environment variables: dbt parses
# the whole project again when its vars change, but only the files that read an environment
# variable whose value changed.
WINDOW_ENV = {"partition_start": "DBT_PARTITION_START", "partition_end": "DBT_PARTITION_END"}


def window_env(window: dict[str, str]) -> dict[str, str]:
    """The environment that gives dbt the window `window` (partition_start, partition_end),
    or none (both variables empty)."""
    return {env: str(window.get(var) or "") for var, env in WINDOW_ENV.items()}


def parse_project() -> Path:
    """`dbt parse`: write target/manifest.json (no warehouse connection needed)."""
    _parse([])
    return MANIFEST


def _parse(extra_args: list[str], publish: Sequence[str] | None = None):
    """`dbt parse` with `extra_args`, its files published as `invocation_target` says; the
    parsed dbt Manifest."""
    from dbt.cli.main import dbtRunner

    with invocation_target(publish) as target:
        res = dbtRunner().invoke(
            ["parse", *PROJECT_ARGS, *extra_args, "--target-path", str(target)]
        )
    if not res.success:
        raise RuntimeError(f"dbt parse failed: {res.exception}")
    return res.result


def prepare_manifest() -> Path:
    """target/manifest.json, which the Dagster definitions are built from, parsed again when
    missing or older than any project file so that they see the models on disk. An explicit
    step: `python -m pipelines prepare` (make install runs it) or the code location's loader,
    never an import."""
    if manifest_is_stale(MANIFEST):
        parse_project()
    return MANIFEST


@contextmanager
def invocation_target(publish: Sequence[str] | None = None) -> Iterator[Path]:
    """A target directory of one dbt invocation's own, under target/ (`publish`: only these
    of its files replace the project's; all by default).

    Processes that run dbt at the same time (a build while the Dagster code location loads
    target/manifest.json, or two builds of two warehouses) would otherwise write the same
    files while others read them. The invocation starts from the project's partial parse;
    when it ends, the files it wrote at the top level (manifest.json, run_results.json, the
    partial parse, the docs) replace the project's one by one, each whole, and the rest
    (compiled SQL) goes with the directory.
    """
    DBT_TARGET_DIR.mkdir(exist_ok=True)
    target = Path(tempfile.mkdtemp(prefix="invocation-", dir=DBT_TARGET_DIR))
    try:
        parsed = DBT_TARGET_DIR / PARTIAL_PARSE
        if parsed.exists():
            shutil.copyfile(parsed, target / PARTIAL_PARSE)
        yield target
        publish_target_files(target, publish)
    finally:
        shutil.rmtree(target, ignore_errors=True)


def publish_target_files(invocation_dir: Path, names: Sequence[str] | None = None) -> None:
    """Move an invocation's top-level files (or only `names`) into target/, each by an
    atomic rename: a reader sees the old file or the new one, never half of one."""
    for path in sorted(invocation_dir.iterdir()):
        if path.is_file() and (names is None or path.name in names):
            with written_atomically(DBT_TARGET_DIR / path.name) as staged:
                shutil.copyfile(path, staged)


def manifest_is_stale(manifest_path: Path) -> bool:
    """True when the manifest is missing or older than any dbt project source file."""
    if not manifest_path.exists():
        return True
    built = manifest_path.stat().st_mtime
    return any(p.exists() and p.stat().st_mtime > built for p in _project_files())


def _project_files() -> list[Path]:
    files = [DBT_PROJECT_DIR / name for name in _DBT_SOURCE_FILES]
    for d in _DBT_SOURCE_DIRS:
        files += [p for p in (DBT_PROJECT_DIR / d).rglob("*") if p.is_file()]
    return files


def _close_duckdb() -> None:
    """dbt-duckdb keeps its DuckDB connection open for the life of the process; close it, or
    this process keeps the warehouse's write lock (and no read-only connection can open)."""
    from dbt.adapters.duckdb.connections import DuckDBConnectionManager

    env = getattr(DuckDBConnectionManager, "_ENV", None)
    DuckDBConnectionManager.close_all_connections()
    if env is not None:
        env.close()
