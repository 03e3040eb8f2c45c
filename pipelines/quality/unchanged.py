"""Validating only what changed: a suite whose inputs are provably those of its last
validation in this warehouse, which passed, is not read and validated again.

A suite's verdict is a function of the rows it reads, its own definition, the values of its
parameters and the Great Expectations version. The rows it reads are all of its relation's
when the relation holds no more than the suite's max_rows (with more, which rows are read
depends on `order_by`, often dlt's load ids), and for the expectations of ORDER_FREE their
order does not matter. The input digest signs all of that: the relation's columns and their
types, and a digest of its rows (pipelines.transform.changes, the same one the dbt build
plans with: dlt's load and row ids left out, so a loader that re-reads an unchanged record
changes nothing). A suite that reads one of dlt's ids or has an expectation outside
ORDER_FREE has no input digest, nor has a relation with more than max_rows rows: it is
always validated.

The digest is kept with each result in quality.gx_results. When the suite's latest result
there passed with the digest its inputs have now, the check reports that result again,
saying so (`note`, and `validated_in`: the run that read the rows); any change to a row, a
column, the suite, a parameter or the GX version validates it again.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from importlib.metadata import version
from typing import TYPE_CHECKING, Any

from pipelines.quality.gx_suites import (
    Suite,
    SuiteResult,
    absent_relation,
    read_frame,
    relation_exists,
    unread_result,
    validate,
)
from pipelines.quality.history import last_result
from pipelines.transform.changes import VOLATILE_COLUMNS, table_digest
from pipelines.transform.parameters import metric_parameters

if TYPE_CHECKING:
    import duckdb

# Expectations whose verdict holds row by row, or over the set of rows: neither the rows'
# order nor anything but the values read can change it. (Not e.g.
# expect_column_values_to_be_increasing, which depends on the order rows are read in.)
ORDER_FREE = frozenset(
    {
        "expect_column_pair_values_a_to_be_greater_than_b",
        "expect_column_pair_values_to_be_in_set",
        "expect_column_values_to_be_between",
        "expect_column_values_to_be_in_set",
        "expect_column_values_to_be_null",
        "expect_column_values_to_be_unique",
        "expect_column_values_to_match_regex",
        "expect_column_values_to_not_be_null",
        "expect_compound_columns_to_be_unique",
    }
)


def check_suite(
    con: duckdb.DuckDBPyConnection, suite: Suite, parameters: Mapping[str, Any] | None = None
) -> SuiteResult:
    """The suite's result: its latest one again when its inputs are unchanged since that
    passed, else a validation of its relation (run_suite, with the input digest kept)."""
    if not relation_exists(con, suite.relation):
        return absent_relation(suite)
    if parameters is None:
        parameters = metric_parameters() if suite.parameters else {}
    digest = input_digest(con, suite, parameters)
    if digest is not None:
        last = last_result(con, suite.name)
        if last is not None:
            run_id, checked_at, success, last_digest, validated_in = last
            if success and last_digest == digest:
                return unchanged(suite, digest, validated_in or run_id, checked_at)
    df, truncated = read_frame(con, suite)
    result = validate(suite, df, truncated, parameters)
    result.input_digest = digest
    return result


def input_digest(
    con: duckdb.DuckDBPyConnection, suite: Suite, parameters: Mapping[str, Any]
) -> str | None:
    """A digest of everything the suite's verdict is a function of, or None when that cannot
    be pinned down (the suite reads dlt's ids or has an expectation outside ORDER_FREE, or
    the relation has more than max_rows rows)."""
    read = [*suite.columns, *suite.computed.values()]
    if any(name in text for text in read for name in VOLATILE_COLUMNS):
        return None
    if any(e["type"] not in ORDER_FREE for e in suite.expectations):
        return None
    schema, _, table = suite.relation.rpartition(".")
    columns = con.execute(
        "select column_name, data_type from information_schema.columns "
        "where table_catalog = current_database() and table_schema = ? and table_name = ? "
        "order by ordinal_position",
        [schema or "main", table],
    ).fetchall()
    if not columns:
        return None
    rows = table_digest(con, schema or "main", table, [name for name, _ in columns])
    if int(rows.split(":", 1)[0]) > suite.max_rows:
        return None
    definition = {
        "relation": suite.relation,
        "row_id": suite.row_id,
        "max_rows": suite.max_rows,
        "order_by": suite.order_by,
        "computed": dict(suite.computed),
        "expectations": suite.expectations,
        "parameters": {name: parameters[name] for name in sorted(suite.parameters)},
    }
    payload = json.dumps(
        [version("great_expectations"), definition, columns, rows], sort_keys=True, default=str
    )
    return hashlib.sha256(payload.encode()).hexdigest()


def unchanged(suite: Suite, digest: str, validated_in: str, validated_at: Any) -> SuiteResult:
    """The result of a suite whose inputs are those of its passing validation in run
    `validated_in`: passed, with nothing read or evaluated now, and a note that says why."""
    note = (
        f"{suite.relation} unchanged since its validation in run {validated_in} "
        f"({validated_at}), which passed: the same rows, columns, suite and parameters, "
        "so it was not read again"
    )
    return unread_result(suite, True, [], note, input_digest=digest, validated_in=validated_in)
