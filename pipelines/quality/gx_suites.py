"""Great Expectations suites kept as files, validated on bounded DataFrames read from the
warehouse (DuckDB, Postgres or Spark: pipelines.warehouse.engines).

GX's SQL datasource does not work over DuckDB, so each check reads only the columns its
suite names (plus the row id) into pandas, at most `max_rows` rows, and validates that
with GX's pandas datasource in an ephemeral context (no GX project on disk). The same read
works on every engine, so a suite is checked the same way wherever the warehouse is.

A suite file is GX's suite JSON (`name`, `expectations: [{type, kwargs}]`, `meta`) with
what to validate under `meta.aow`:
    relation    schema.table or schema.view in the warehouse
    asset_key   the Dagster asset the suite guards, e.g. ["raw_github", "pull_requests"]
    row_id      column (or list of columns) naming a failing row in reports (default: the
                first column used)
    max_rows    bound on the rows read (default 1,000,000)
    order_by    SQL order of the rows read, e.g. "_dlt_load_id desc": with max_rows, which
                rows the bound keeps (default: the relation's own order, i.e. any rows)
    computed    {column: SQL expression} read as extra columns, for invariants across
                columns that GX cannot state itself (e.g. parts that must add up to a total)

An expectation's kwarg may name a docs/metrics.md parameter instead of repeating its value:
{"$PARAMETER": "min_group_size"} takes the dbt project's var of that name (dbt_project.yml),
so a check and the model it guards change together.

A row_condition must be GX's structured condition ({"type": "comparison", "column":
{"name": ...}, "operator": "==", "parameter": ...}), so the columns it names are read too.
Table-level expectations see only the columns read (a column-set expectation would not work).
GX is imported lazily: it takes seconds, and Dagster loads this module with every code
location load.
"""

from __future__ import annotations

import functools
import json
import math
from collections.abc import Iterator, Mapping
from dataclasses import asdict, dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pipelines.project_files import EXPECTATIONS_DIR
from pipelines.transform.parameters import metric_parameters  # the suites' $PARAMETER values
from pipelines.warehouse.engines import identifier_quote
from pipelines.warehouse.engines import relation_exists as engine_relation_exists

if TYPE_CHECKING:
    import duckdb
    import pandas as pd

DEFAULT_MAX_ROWS = 1_000_000
SAMPLE_ROWS = 5

# Expectation kwargs that name a column of the batch.
_COLUMN_KWARGS = ("column", "column_A", "column_B")
_COLUMN_LIST_KWARGS = ("column_list",)


@dataclass(frozen=True)
class Suite:
    name: str
    relation: str
    asset_key: tuple[str, ...]
    row_id: tuple[str, ...]  # the columns that name a row in failure samples
    max_rows: int
    expectations: tuple[Mapping[str, Any], ...]
    path: Path
    order_by: str | None = None
    computed: Mapping[str, str] = field(default_factory=dict)

    @property
    def parameters(self) -> set[str]:
        """The names of the parameters ({"$PARAMETER": name}) its expectations use."""
        return set(_parameter_names([e.get("kwargs", {}) for e in self.expectations]))

    @property
    def columns(self) -> list[str]:
        """The columns the suite needs, row id first, in first-use order."""
        names = list(self.row_id)
        for exp in self.expectations:
            kwargs = exp.get("kwargs", {})
            names += _kwarg_columns(kwargs)
            names += list(_condition_columns(kwargs.get("row_condition")))
        return list(dict.fromkeys(names))


@dataclass
class FailedExpectation:
    expectation: str  # GX type, e.g. expect_column_values_to_be_in_set
    columns: list[str]
    kwargs: dict[str, Any]
    unexpected_count: int | None = None
    unexpected_percent: float | None = None
    observed_value: Any = None
    error: str | None = None  # GX could not evaluate it (e.g. missing column)
    sample_rows: list[dict[str, Any]] = field(default_factory=list)

    @property
    def label(self) -> str:
        return (
            f"{self.expectation}({', '.join(self.columns)})" if self.columns else self.expectation
        )


@dataclass
class SuiteResult:
    suite: str
    relation: str
    asset_key: list[str]
    checked_at: datetime  # UTC, when the validation ran
    success: bool
    rows_validated: int
    truncated: bool  # the relation had more rows than max_rows
    evaluated: int
    failed: list[FailedExpectation]
    # Why nothing was validated, when nothing was (a raw table its source never created,
    # or inputs unchanged since a validation that passed).
    note: str | None = None
    # The digest of the inputs the result is a function of (pipelines.quality.unchanged),
    # None when they cannot be pinned down.
    input_digest: str | None = None
    # The run whose validation the result repeats, when the inputs were unchanged since it.
    validated_in: str | None = None

    @property
    def failed_labels(self) -> list[str]:
        return [f.label for f in self.failed]

    def to_dict(self) -> dict[str, Any]:
        return _jsonable(asdict(self))


def load_suite(path: Path | str) -> Suite:
    path = Path(path)
    raw = json.loads(path.read_text())
    meta = (raw.get("meta") or {}).get("aow") or {}
    for key in ("relation", "asset_key"):
        if key not in meta:
            raise ValueError(f"{path}: meta.aow.{key} is required")
    expectations = tuple(raw.get("expectations") or ())
    for exp in expectations:
        if "type" not in exp:
            raise ValueError(f"{path}: every expectation needs a `type`")
        if isinstance(exp.get("kwargs", {}).get("row_condition"), str):
            raise ValueError(
                f"{path}: {exp['type']}: write row_condition as GX's structured condition "
                '({"type": "comparison", "column": {"name": ...}, ...}), not a string'
            )
    row_id = meta.get("row_id") or _first_column(expectations, path)
    return Suite(
        name=raw.get("name") or path.stem,
        relation=meta["relation"],
        asset_key=tuple(meta["asset_key"]),
        row_id=(row_id,) if isinstance(row_id, str) else tuple(row_id),
        max_rows=int(meta.get("max_rows", DEFAULT_MAX_ROWS)),
        expectations=expectations,
        path=path,
        order_by=meta.get("order_by"),
        computed=dict(meta.get("computed") or {}),
    )


def suite_paths(expectations_dir: Path | str = EXPECTATIONS_DIR) -> list[Path]:
    return sorted(Path(expectations_dir).glob("*.json"))


def load_suites(expectations_dir: Path | str = EXPECTATIONS_DIR) -> list[Suite]:
    return [load_suite(path) for path in suite_paths(expectations_dir)]


def read_frame(con: duckdb.DuckDBPyConnection, suite: Suite) -> tuple[pd.DataFrame, bool]:
    """The suite's columns of its relation, at most max_rows of them (the first in
    `order_by` when set); and whether rows were left out."""
    quoted = identifier_quote(con)
    columns = ", ".join(
        f"({suite.computed[c]}) as {quoted(c)}" if c in suite.computed else quoted(c)
        for c in suite.columns
    )
    relation = ".".join(quoted(part) for part in suite.relation.split("."))
    order = f" order by {suite.order_by}" if suite.order_by else ""
    df = con.execute(f"select {columns} from {relation}{order} limit {suite.max_rows + 1}").df()
    truncated = len(df) > suite.max_rows
    return (df.iloc[: suite.max_rows] if truncated else df), truncated


def validate(
    suite: Suite,
    df: pd.DataFrame,
    truncated: bool = False,
    parameters: Mapping[str, Any] | None = None,
) -> SuiteResult:
    """Validate `df` against `suite` with GX's pandas datasource in an ephemeral context.

    `parameters` give the suite's $PARAMETER values (default: metric_parameters(), read
    only for a suite that uses one)."""
    import great_expectations as gx

    names = suite.parameters
    if parameters is None:
        parameters = metric_parameters() if names else {}
    missing = names - set(parameters)
    if missing:
        raise ValueError(f"{suite.path}: unknown parameters {sorted(missing)}")
    checked_at = datetime.now(UTC)
    # The suite is validated on a batch of the process's one dataframe asset, with no
    # validation definition: nothing is kept in the context, so validations stay
    # independent of each other while the context is made once.
    batch = _whole_dataframe().get_batch(batch_parameters={"dataframe": df})
    expectations = gx.ExpectationSuite(
        name=suite.name,
        expectations=[
            {"type": e["type"], "kwargs": dict(e.get("kwargs", {}))} for e in suite.expectations
        ],
    )
    values = {name: parameters[name] for name in names}
    # Most suites pass: the first pass only asks whether each expectation holds (GX then
    # collects no unexpected values or rows, which costs it more than the verdict), and
    # only a suite that fails is validated again for the report of what failed.
    result = batch.validate(
        expectations, expectation_parameters=values, result_format="BOOLEAN_ONLY"
    )
    if not result.success:
        result = batch.validate(
            expectations,
            expectation_parameters=values,
            result_format={
                "result_format": "SUMMARY",
                "unexpected_index_column_names": list(suite.row_id),
                "partial_unexpected_count": 20,
                "return_unexpected_index_query": False,
            },
        )
    failed = [_failure(r) for r in result.results if not r.success]
    return SuiteResult(
        suite=suite.name,
        relation=suite.relation,
        asset_key=list(suite.asset_key),
        checked_at=checked_at,
        success=bool(result.success),
        rows_validated=len(df),
        truncated=truncated,
        evaluated=len(result.results),
        failed=failed,
    )


@functools.cache
def _whole_dataframe() -> Any:
    """The batch definition every validation gets its batch from: a pandas dataframe asset
    in an ephemeral context (no GX project on disk), made once per process (making a
    context and its datasource costs tens of milliseconds)."""
    import great_expectations as gx
    from great_expectations.data_context.types.base import (
        DataContextConfig,
        InMemoryStoreBackendDefaults,
        ProgressBarsConfig,
    )

    context = gx.get_context(
        mode="ephemeral",
        project_config=DataContextConfig(
            analytics_enabled=False,
            progress_bars=ProgressBarsConfig(globally=False),
            store_backend_defaults=InMemoryStoreBackendDefaults(),
        ),
    )
    return (
        context.data_sources.add_pandas("aow_frames")
        .add_dataframe_asset("frame")
        .add_batch_definition_whole_dataframe("whole")
    )


def run_suite(
    con: duckdb.DuckDBPyConnection, suite: Suite, parameters: Mapping[str, Any] | None = None
) -> SuiteResult:
    if not relation_exists(con, suite.relation):
        return absent_relation(suite)
    df, truncated = read_frame(con, suite)
    return validate(suite, df, truncated, parameters)


def relation_exists(con: duckdb.DuckDBPyConnection, relation: str) -> bool:
    schema, _, name = relation.rpartition(".")
    return engine_relation_exists(con, schema or "main", name)


def absent_relation(suite: Suite) -> SuiteResult:
    """The result for a relation that does not exist. A raw table may legitimately be
    absent: dlt creates it only once its source returns a row (a vendor the organisation
    does not use, a report with no data yet), so there is nothing to check. Any other
    relation is built by dbt, and its absence is a failure."""
    raw = suite.relation.split(".", 1)[0].startswith("raw_")
    failed = []
    if not raw:
        failed.append(
            FailedExpectation(
                expectation="relation_exists",
                columns=[],
                kwargs={"relation": suite.relation},
                error=f"{suite.relation} does not exist: the models were not built",
            )
        )
    note = f"{suite.relation} does not exist: its source has loaded no rows into it"
    return unread_result(suite, raw, failed, note)


def unread_result(
    suite: Suite, success: bool, failed: list[FailedExpectation], note: str, **more: Any
) -> SuiteResult:
    """A result of `suite` for which nothing was read or evaluated now; `note` says why."""
    return SuiteResult(
        suite=suite.name,
        relation=suite.relation,
        asset_key=list(suite.asset_key),
        checked_at=datetime.now(UTC),
        success=success,
        rows_validated=0,
        truncated=False,
        evaluated=0,
        failed=failed,
        note=note,
        **more,
    )


def _failure(r: Any) -> FailedExpectation:
    config = r.expectation_config
    kwargs = {k: v for k, v in dict(config.kwargs).items() if k != "batch_id"}
    res = dict(r.result or {})
    error = None
    info = r.exception_info or {}
    if info.get("raised_exception"):
        error = info.get("exception_message")
    else:  # one entry per failed metric when an exception was raised
        messages = [v.get("exception_message") for v in info.values() if isinstance(v, dict)]
        error = "; ".join(m for m in messages if m) or None
    samples = []
    for row in res.get("partial_unexpected_index_list") or []:
        row = _jsonable(dict(row))
        if row not in samples:
            samples.append(row)
        if len(samples) == SAMPLE_ROWS:
            break
    return FailedExpectation(
        expectation=config.type,
        columns=_kwarg_columns(kwargs),
        kwargs=_jsonable(kwargs),
        unexpected_count=res.get("unexpected_count"),
        unexpected_percent=res.get("unexpected_percent"),
        observed_value=_jsonable(res.get("observed_value")),
        error=error,
        sample_rows=samples,
    )


def _kwarg_columns(kwargs: Mapping[str, Any]) -> list[str]:
    names = [kwargs[k] for k in _COLUMN_KWARGS if k in kwargs]
    for k in _COLUMN_LIST_KWARGS:
        names += list(kwargs.get(k, []))
    return names


def _condition_columns(condition: Any) -> Iterator[str]:
    """The columns a structured row_condition names ({"column": {"name": ...}}, nested
    under "conditions" for and/or)."""
    for mapping in _mappings(condition):
        column = mapping.get("column")
        if isinstance(column, Mapping) and "name" in column:
            yield column["name"]


def _parameter_names(value: Any) -> Iterator[str]:
    for mapping in _mappings(value):
        if "$PARAMETER" in mapping:
            yield mapping["$PARAMETER"]


def _mappings(value: Any) -> Iterator[Mapping[str, Any]]:
    """Every mapping in a JSON value, itself included, depth first."""
    if isinstance(value, Mapping):
        yield value
        for item in value.values():
            yield from _mappings(item)
    elif isinstance(value, list):
        for item in value:
            yield from _mappings(item)


def _first_column(expectations: tuple[Mapping[str, Any], ...], path: Path) -> str:
    for exp in expectations:
        for k in _COLUMN_KWARGS:
            if k in exp.get("kwargs", {}):
                return exp["kwargs"][k]
    raise ValueError(f"{path}: set meta.aow.row_id, no expectation names a column")


def _jsonable(value: Any) -> Any:
    """numpy/pandas scalars and timestamps -> plain JSON types, for Dagster metadata."""
    if isinstance(value, Mapping):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if type(value).__name__ in ("NaTType", "NAType"):
        return None
    if isinstance(value, list | tuple | set):
        return [_jsonable(v) for v in value]
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, float) and math.isnan(value):
        return None
    if value is None or isinstance(value, str | bool | int | float):
        return value
    if hasattr(value, "isoformat"):  # pandas Timestamp, numpy datetime64 via pandas
        return value.isoformat()
    if hasattr(value, "item"):  # numpy scalar
        return _jsonable(value.item())
    return str(value)
