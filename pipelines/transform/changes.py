"""What a dbt build must do: the nodes whose inputs changed since they were last built.

Every seed, model, snapshot and test of the manifest gets an input signature: a digest of its
own code and configuration, the macros it calls, the vars of the run, the signatures of the
nodes it reads and, for a source, the content of its table and its dlt child tables (a digest
over every row, dlt's load and row ids left out: a loader re-reading an unchanged record
rewrites the row under new ones). A model that reads the build's clock (the as_of macros)
signs the clock too: with no fixed `as_of` the clock is the build's time, so those models are
always rebuilt. The partitioned spend model signs its window of days. Models that read the
warehouse's bookkeeping (the load log, which raw tables exist, the quarantine) sign what they
decide from it, not the times of the loads.

A node whose signature equals the one stored when it last succeeded, and whose relation
exists, is unchanged; everything else is selected. A change therefore reaches exactly the
nodes downstream of it. The signatures live in the warehouse (`build_state.node_inputs`),
written after each build: a warehouse copied or restored carries its own.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import duckdb

from pipelines.warehouse.sql import quoted

STATE_SCHEMA, STATE_TABLE = "build_state", "node_inputs"
BUILT = ("seed", "model", "snapshot")
TESTS = ("test", "unit_test")
# dlt's bookkeeping: the load id changes whenever a loader rewrites a row, whether or not its
# values changed, and so does the row id of a table loaded from Arrow (the billing reports)
# and, with it, its child rows' links.
VOLATILE_COLUMNS = ("_dlt_load_id", "_dlt_id", "_dlt_parent_id", "_dlt_root_id")
CLOCK_MACROS = ("as_of_timestamp", "as_of_date")
# Macros that read the warehouse's bookkeeping rather than a dbt source: the load log, dlt's
# record of loads, which raw tables exist, the quarantine (macros/source_availability.sql,
# macros/source_coverage.sql).
BOOKKEEPING_MACROS = (
    "source_loads_relation",
    "dlt_loads_relation",
    "raw_tables_present",
    "raw_table_or_empty",
)
# Vars that say where, not what: they never change a node's result.
PLACEMENT_VARS = ("duckdb_path", "partition_start", "partition_end")
WINDOW_VARS = ("partition_start", "partition_end")
WINDOW_MODELS = ("int_ai_spend",)
# The load log's own figures (int_source_availability, mart_source_coverage): a load that
# brought nothing new still adds an attempt, and rebuilds nothing for it. They are as of the
# last build that changed anything; Dagster's freshness checks and the publication's `about`
# tell when the sources were last loaded.
_LOG_TIMES = ("load_attempts", "successful_loads", "last_load_detail", "last_attempt_at")
LOAD_LOG_COLUMNS = {
    "int_source_availability": (*_LOG_TIMES, "last_loaded_at", "last_failed_at"),
    # `status` is a sentence that names the last load's time.
    "mart_source_coverage": (
        *_LOG_TIMES,
        "last_successful_load_at",
        "last_failed_load_at",
        "status",
    ),
}


@dataclass(frozen=True)
class BuildPlan:
    signatures: dict[str, str]  # unique_id -> input signature, every node
    changed: frozenset[str]  # unique_ids whose signature differs from the stored one

    def selected(self, nodes: Iterable[str]) -> list[str]:
        return sorted(set(nodes) & self.changed)


def plan_build(
    con: duckdb.DuckDBPyConnection,
    manifest: Mapping[str, Any],
    dbt_vars: Mapping[str, Any],
    now: datetime | None = None,
) -> BuildPlan:
    """The signatures of every node for a build with `dbt_vars`, and which of them changed."""
    columns = _catalog_columns(con)  # every relation of the warehouse, read once
    signatures = node_signatures(
        manifest,
        source_fingerprints(con, manifest, columns),
        dbt_vars,
        now,
        bookkeeping_fingerprint(con, columns),
    )
    stored = stored_signatures(con) if (STATE_SCHEMA, STATE_TABLE) in columns else {}
    changed = set()
    for uid, signature in signatures.items():
        node = _node(manifest, uid)
        missing = node["resource_type"] in BUILT and _relation(node) not in columns
        if stored.get(uid) != signature or missing:
            changed.add(uid)
    return BuildPlan(signatures, frozenset(changed))


def build_everything(manifest: Mapping[str, Any]) -> BuildPlan:
    """A plan where every node changed (no record to compare with)."""
    nodes = [uid for uid, _ in _all_nodes(manifest)]
    return BuildPlan({uid: "" for uid in nodes}, frozenset(nodes))


def source_fingerprints(
    con: duckdb.DuckDBPyConnection,
    manifest: Mapping[str, Any],
    columns: Mapping[tuple[str, str], list[str]],
) -> dict[str, str]:
    """source unique_id -> a digest of its table's rows and its dlt child tables' (row counts
    and the sums of the rows' hashes, the volatile columns left out), or "absent".
    `columns`: the warehouse's relations and their columns (_catalog_columns)."""
    fingerprints = {}
    for uid, source in manifest["sources"].items():
        schema = source["schema"].lower()
        table = (source.get("identifier") or source["name"]).lower()
        family = sorted(
            t for s, t in columns if s == schema and (t == table or t.startswith(table + "__"))
        )
        parts = [f"{t}={table_digest(con, schema, t, columns[(schema, t)])}" for t in family]
        fingerprints[uid] = ";".join(parts) or "absent"
    return fingerprints


def bookkeeping_fingerprint(
    con: duckdb.DuckDBPyConnection, columns: Mapping[tuple[str, str], list[str]]
) -> str:
    """What the models that read the warehouse's own bookkeeping see of it (the macros of
    BOOKKEEPING_MACROS): each source's availability as the load log and dlt record it (loaded
    ever, the latest attempt's status), which raw tables exist, and the quarantine's rows.
    The times of the loads are left out: a load that brought nothing new changes no figure."""
    parts: list = sorted(f"{s}.{t}" for s, t in columns if s.startswith("raw_"))
    if ("ops", "source_loads") in columns:
        parts += con.execute(
            "select source, bool_or(status = 'loaded'), arg_max(status, started_at) "
            "from ops.source_loads group by source order by source"
        ).fetchall()
    for schema, table in sorted(columns):
        if table == "_dlt_loads":
            parts.append(
                (
                    schema,
                    con.execute(
                        f"select count(*) > 0 from {quoted(schema)}._dlt_loads where status = 0"
                    ).fetchone()[0],
                )
            )
        elif table == "quarantine":
            parts.append((schema, table_digest(con, schema, table, columns[(schema, table)])))
    return hashlib.sha256(json.dumps(parts, default=str).encode()).hexdigest()


def _catalog_columns(con: duckdb.DuckDBPyConnection) -> dict[tuple[str, str], list[str]]:
    columns: dict[tuple[str, str], list[str]] = {}
    for schema, table, column in con.execute(
        "select table_schema, table_name, column_name from information_schema.columns "
        "where table_catalog = current_database() order by table_schema, table_name, "
        "ordinal_position"
    ).fetchall():
        columns.setdefault((schema.lower(), table.lower()), []).append(column)
    return columns


def table_digest(
    con: duckdb.DuckDBPyConnection, schema: str, table: str, columns: list[str]
) -> str:
    """ "<rows>:<sum of the rows' hashes>:<digest of the column names>" over `columns` less
    VOLATILE_COLUMNS (the quality checks' pipelines.quality.unchanged reads it too)."""
    kept = [c for c in columns if c not in VOLATILE_COLUMNS]
    row = ", ".join(quoted(c) for c in kept)
    count, total = con.execute(
        f"select count(*), coalesce(sum(hash({row})::hugeint), 0)::varchar "
        f"from {quoted(schema)}.{quoted(table)}"
    ).fetchone()
    return f"{count}:{total}:{hashlib.sha256(row.encode()).hexdigest()[:12]}"


def node_signatures(
    manifest: Mapping[str, Any],
    fingerprints: Mapping[str, str],
    dbt_vars: Mapping[str, Any],
    now: datetime | None = None,
    bookkeeping: str = "",
) -> dict[str, str]:
    """unique_id -> input signature of every seed, model, snapshot, test and unit test."""
    macro_digest = _macro_digests(manifest)
    shared_vars = {k: v for k, v in dbt_vars.items() if k not in (*PLACEMENT_VARS, "as_of")}
    window = {k: dbt_vars.get(k) for k in WINDOW_VARS}
    clock = dbt_vars.get("as_of") or (now or datetime.now(UTC)).isoformat()
    clock_macros = _macros_calling(manifest, CLOCK_MACROS)
    bookkeeping_macros = _macros_calling(manifest, BOOKKEEPING_MACROS)
    signatures: dict[str, str] = {}

    def own(node: Mapping[str, Any]) -> list:
        macros = node.get("depends_on", {}).get("macros", [])
        parts: list = [
            node.get("checksum"),
            node.get("raw_code"),
            node.get("config"),
            node.get("test_metadata"),
            node.get("given"),
            node.get("expect"),
            sorted(macro_digest.get(m, m) for m in macros),
            shared_vars,
        ]
        if clock_macros.intersection(macros):
            parts.append(("clock", clock))
        if bookkeeping_macros.intersection(macros):
            parts.append(("bookkeeping", bookkeeping))
        if node.get("name") in WINDOW_MODELS:
            parts.append(("window", window))
        return parts

    def sign(uid: str) -> str:
        if uid in signatures:
            return signatures[uid]
        if uid in fingerprints:
            return fingerprints[uid]
        node = _node(manifest, uid)
        parents = node.get("depends_on", {}).get("nodes", [])
        if node["resource_type"] == "unit_test":
            # A unit test mocks its model's inputs: only the model's own code matters.
            inputs = [
                json.dumps(own(_node(manifest, p)), sort_keys=True, default=str) for p in parents
            ]
        else:
            inputs = [sign(p) for p in sorted(parents)]
        payload = json.dumps([own(node), inputs], sort_keys=True, default=str)
        signatures[uid] = hashlib.sha256(payload.encode()).hexdigest()
        return signatures[uid]

    for uid, node in _all_nodes(manifest):
        if node["resource_type"] in (*BUILT, *TESTS):
            sign(uid)
    return signatures


def op_tests(manifest: Mapping[str, Any], op_models: Iterable[str]) -> set[str]:
    """The tests a stage of the build runs (dbt's "buildable" rule): those reading at least one
    of the stage's models and otherwise only what is built before it (the stage's ancestors)."""
    models = set(op_models)
    parents_of = {
        uid: set(n.get("depends_on", {}).get("nodes", [])) for uid, n in _all_nodes(manifest)
    }
    ancestors: set[str] = set()
    stack = [p for m in models for p in parents_of.get(m, ())]
    while stack:
        uid = stack.pop()
        if uid not in ancestors:
            ancestors.add(uid)
            stack.extend(parents_of.get(uid, ()))
    tests = set()
    for uid, node in _all_nodes(manifest):
        if node["resource_type"] in TESTS:
            parents = parents_of[uid]
            if parents & models and parents <= models | ancestors:
                tests.add(uid)
    return tests


def in_graph_order(manifest: Mapping[str, Any], unique_ids: Iterable[str]) -> list[str]:
    """`unique_ids`, each after every node it reads (directly or not)."""
    depth: dict[str, int] = {}

    def level(uid: str) -> int:
        if uid not in depth:
            parents = manifest["parent_map"].get(uid, [])
            depth[uid] = 1 + max((level(p) for p in parents), default=0)
        return depth[uid]

    return sorted(unique_ids, key=lambda uid: (level(uid), uid))


def stored_signatures(con: duckdb.DuckDBPyConnection) -> dict[str, str]:
    """unique_id -> the signature it last succeeded with (the table must exist)."""
    return dict(
        con.execute(f"select unique_id, signature from {STATE_SCHEMA}.{STATE_TABLE}").fetchall()
    )


def record_results(
    con: duckdb.DuckDBPyConnection, plan: BuildPlan, results: Mapping[str, str]
) -> None:
    """Store the signatures of the nodes that succeeded (`results`: unique_id -> dbt status)
    and forget those that did not, so that they are built again next time."""
    con.execute(f"create schema if not exists {STATE_SCHEMA}")
    con.execute(
        f"create table if not exists {STATE_SCHEMA}.{STATE_TABLE} "
        "(unique_id varchar primary key, signature varchar not null, built_at timestamp not null)"
    )
    ok = [
        (uid, plan.signatures[uid])
        for uid, s in results.items()
        if s in ("success", "pass", "warn") and uid in plan.signatures
    ]
    failed = [uid for uid, s in results.items() if s not in ("success", "pass", "warn")]
    built_at = datetime.now(UTC).replace(tzinfo=None)
    con.execute("begin transaction")
    if failed:
        con.execute(
            f"delete from {STATE_SCHEMA}.{STATE_TABLE} where unique_id in (select unnest(?))",
            [failed],
        )
    if ok:
        con.executemany(
            f"insert or replace into {STATE_SCHEMA}.{STATE_TABLE} values (?, ?, ?)",
            [(uid, sig, built_at) for uid, sig in ok],
        )
    con.execute("commit")


def forget_all(con: duckdb.DuckDBPyConnection) -> None:
    """Drop every stored signature: the next build builds everything (a full refresh)."""
    con.execute(f"drop table if exists {STATE_SCHEMA}.{STATE_TABLE}")


def selection_names(manifest: Mapping[str, Any], unique_ids: Iterable[str]) -> list[str]:
    """dbt selection syntax for exactly these nodes (their unique names)."""
    return sorted(_node(manifest, uid)["name"] for uid in unique_ids)


def _macros_calling(manifest: Mapping[str, Any], names: Iterable[str]) -> set[str]:
    """The macros named `names` and those that call them, directly or through others."""
    callers: dict[str, set[str]] = {}
    for uid, macro in manifest["macros"].items():
        for called in macro["depends_on"]["macros"]:
            callers.setdefault(called, set()).add(uid)
    found = {uid for uid, m in manifest["macros"].items() if m["name"] in names}
    stack = list(found)
    while stack:
        for caller in callers.get(stack.pop(), ()):
            if caller not in found:
                found.add(caller)
                stack.append(caller)
    return found


def _macro_digests(manifest: Mapping[str, Any]) -> dict[str, str]:
    """macro unique_id -> digest of its code and the macros it calls."""
    digests: dict[str, str] = {}

    def digest(uid: str, seen: frozenset[str] = frozenset()) -> str:
        if uid in digests:
            return digests[uid]
        macro = manifest["macros"].get(uid)
        if macro is None or uid in seen:
            return uid
        called = [digest(m, seen | {uid}) for m in macro["depends_on"]["macros"]]
        payload = json.dumps([macro["macro_sql"], sorted(called)])
        digests[uid] = hashlib.sha256(payload.encode()).hexdigest()
        return digests[uid]

    for uid in manifest["macros"]:
        digest(uid)
    return digests


def _all_nodes(manifest: Mapping[str, Any]):
    yield from manifest["nodes"].items()
    yield from manifest.get("unit_tests", {}).items()


def _node(manifest: Mapping[str, Any], uid: str) -> Mapping[str, Any]:
    return (
        manifest["nodes"].get(uid)
        or manifest.get("unit_tests", {}).get(uid)
        or manifest["sources"][uid]
    )


def _relation(node: Mapping[str, Any]) -> tuple[str, str]:
    return node["schema"].lower(), (node.get("alias") or node["name"]).lower()
