"""Every setting, checked before a request is made or a file is written.

A malformed setting used to surface deep inside a load (dlt's "cannot be coerced into type
Sequence" for a `REPOSITORIES` list missing a quote), or not at all (a `START_DATE` in the
future loaded nothing and reported success). Here each setting the project reads has a rule:
what is expected, in words an operator can act on, and a check. A broken setting gives one
line naming it the way it is set:

    SOURCES__GITHUB__REPOSITORIES: expected a JSON list of "owner/name" strings, e.g.
    ["acme/api"]; got '[acme/api' (not JSON: Expecting value at character 1)

The project's own settings are environment variables (`AOW_*`), read here only, once per
process, by `read_settings`: every set one is checked by its rule and the lot returned as a
frozen `Settings`, whose fields state each default. The command line reads them as a command
starts, the Dagster code location as it loads (pipelines.orchestration.definitions), and every
other module is given the values it needs. Source settings are read the way dlt resolves them
(environment variables `SOURCES__<SOURCE>__<SETTING>` or .dlt/*.toml); a load
(pipelines.ingest.loads, so every Dagster source step too) checks its source's before its first
request. docs/operations.md lists the same rules (a test keeps the two in step). A secret's
value is never shown, only what is wrong with it.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pipelines.project_files import REPO_ROOT
from pipelines.warehouse.engines import DEFAULT_ENGINE, SERVERS, Postgres, Spark, Warehouse


class SettingError(ValueError):
    """Settings that are not what they should be; `problems` holds one line per setting."""

    def __init__(self, problems: Iterable[str]) -> None:
        self.problems = tuple(problems)
        super().__init__("; ".join(self.problems))


@dataclass(frozen=True)
class Rule:
    expected: str  # what the setting must be, completing "expected ..."
    check: Callable[[Any], None]  # raises ValueError with what is wrong with a value
    secret: bool = False  # never shown in a message


# --- checks: each raises ValueError saying what is wrong -------------------------------------


def _text(value: Any) -> str:
    if not isinstance(value, str):
        raise ValueError(f"a {type(value).__name__}, not text")
    if not value.strip():
        raise ValueError("empty")
    return value


def _secret(value: Any) -> None:
    text = _text(value)
    # A token pasted with its newline breaks the request header far from here.
    if text != text.strip() or any(c.isspace() for c in text):
        raise ValueError("it contains spaces or line breaks")


def _url(value: Any) -> None:
    parts = urlsplit(_text(value))
    if parts.scheme not in ("http", "https") or not parts.netloc or " " in value:
        raise ValueError("not an http(s) URL")


def _instant(value: Any) -> datetime:
    """An aware datetime from an ISO date or date-time (toml gives date objects)."""
    if isinstance(value, datetime):
        parsed = value
    elif isinstance(value, date):
        parsed = datetime(value.year, value.month, value.day)
    else:
        try:
            parsed = datetime.fromisoformat(_text(value))
        except ValueError:
            raise ValueError("not an ISO date or date-time") from None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def _iso_date(value: Any) -> None:
    _instant(value)


def _past_date(value: Any) -> None:
    # A start in the future would read nothing and report success; refuse it.
    if _instant(value) > datetime.now(UTC):
        raise ValueError("it is in the future, so nothing would be loaded")


def _past_day(value: Any) -> None:
    """A partition key (YYYY-MM-DD, as Dagster's daily partitions take it), not in the future."""
    try:
        datetime.strptime(_text(value), "%Y-%m-%d")
    except ValueError:
        raise ValueError("not a YYYY-MM-DD date") from None
    _past_date(value)


def _number(
    minimum: float, maximum: float | None = None, integer: bool = False, below: bool = False
):
    """`below`: the maximum itself is out of range."""

    def check(value: Any) -> None:
        if isinstance(value, bool):
            raise ValueError("a boolean, not a number")
        try:
            number = int(value) if integer else float(value)
        except (TypeError, ValueError):
            raise ValueError("not a whole number" if integer else "not a number") from None
        above = maximum is not None and (number >= maximum if below else number > maximum)
        if number < minimum or above:
            raise ValueError("out of range")

    return check


def _pattern(regex: str, what: str) -> Callable[[Any], None]:
    compiled = re.compile(regex)

    def check(value: Any) -> None:
        if not compiled.fullmatch(_text(value)):
            raise ValueError(f"not {what}")

    return check


def _json_list(item: Callable[[Any], None]) -> Callable[[Any], None]:
    """A list (toml) or its JSON text (environment variable), not empty, each item checked."""

    def check(value: Any) -> None:
        if isinstance(value, str):
            try:
                value = json.loads(value)
            except json.JSONDecodeError as exc:
                raise ValueError(f"not JSON: {exc.msg} at character {exc.pos}") from None
        if not isinstance(value, list | tuple):
            raise ValueError(f"a JSON {type(value).__name__}, not a list")
        if not value:
            raise ValueError("an empty list")
        for element in value:
            try:
                item(element)
            except ValueError as exc:
                raise ValueError(f"item {element!r} is {exc}") from None

    return check


def _timezone(value: Any) -> None:
    try:
        ZoneInfo(_text(value))
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError("not an IANA time zone name") from None


def _cron(value: Any) -> None:
    from dagster._utils.schedules import is_valid_cron_string

    if not is_valid_cron_string(_text(value)):
        raise ValueError("not a cron expression")


def _directory(value: Any) -> None:
    if not Path(_text(str(value))).expanduser().is_dir():
        raise ValueError("no such directory")


def _file_in_a_directory(value: Any) -> None:
    path = Path(_text(str(value))).expanduser()
    if path.is_dir():
        raise ValueError("a directory, not a file")
    if not path.parent.is_dir():
        raise ValueError(f"no such directory {path.parent}")


def _warehouse(create: bool) -> Callable[[Any], None]:
    """The warehouse named by the variable: a typo must not start a new, empty warehouse
    that the runs then fill while the real one goes stale. `create`: AOW_CREATE_WAREHOUSE."""

    def check(value: Any) -> None:
        from pipelines.warehouse.path import existing_warehouse

        hint = f"set {CREATE_WAREHOUSE_ENV}=1 to start a new warehouse there"
        existing_warehouse(_text(value), create=create, hint=hint)

    return check


# --- the rules ------------------------------------------------------------------------------

REPOSITORY = _pattern(r"[A-Za-z0-9_.-]+/[A-Za-z0-9_.-]+", 'an "owner/name"')
PROJECT_KEY = _pattern(r"[A-Z][A-Z0-9_]*", "a Jira project key (capitals, digits, _)")

# Source settings by the name of the source function's argument, for every source.
SOURCE_RULES: dict[str, Rule] = {
    "base_url": Rule("an http(s) URL, e.g. https://api.github.com", _url),
    "access_token": Rule("a token without spaces", _secret, secret=True),
    "api_token": Rule("a token without spaces", _secret, secret=True),
    "api_key": Rule("a key without spaces", _secret, secret=True),
    "admin_api_key": Rule("an admin key without spaces", _secret, secret=True),
    "email": Rule("an email address", _pattern(r"[^@\s]+@[^@\s]+", "an email address")),
    "repositories": Rule(
        'a JSON list of "owner/name" strings, e.g. ["acme/api"]', _json_list(REPOSITORY)
    ),
    "projects": Rule(
        'a JSON list of Jira project keys, e.g. ["PAY", "CHK"]', _json_list(PROJECT_KEY)
    ),
    "production_environments": Rule(
        'a JSON list of environment patterns, e.g. ["production", "prod-*"]', _json_list(_text)
    ),
    "start_date": Rule("an ISO date (YYYY-MM-DD) or date-time, not in the future", _past_date),
    "end_date": Rule("an ISO date (YYYY-MM-DD)", _iso_date),
    "caused_by_field": Rule(
        "a Jira custom field id, e.g. customfield_10100",
        _pattern(r"customfield_[0-9]+", "a custom field id"),
    ),
    "per_page": Rule("a whole number from 1 to 100", _number(1, 100, integer=True)),
    "max_results": Rule("a whole number from 1 to 5000", _number(1, 5000, integer=True)),
    "concurrency": Rule("a whole number from 1 to 64", _number(1, 64, integer=True)),
    "repositories_per_run": Rule("a whole number of at least 1", _number(1, integer=True)),
    "repositories_per_incremental_run": Rule(
        "a whole number of at least 1", _number(1, integer=True)
    ),
    "lookback_minutes": Rule("a whole number of minutes, 0 or more", _number(0, integer=True)),
    "max_wait_seconds": Rule("a number of seconds, 0 or more", _number(0)),
}

DUCKDB_PATH_ENV = "AOW_DUCKDB_PATH"
CREATE_WAREHOUSE_ENV = "AOW_CREATE_WAREHOUSE"
WAREHOUSE_ENV = "AOW_WAREHOUSE"
SPARK_LAKE_ENV = "AOW_SPARK_LAKE"
_PORT = Rule("a port number from 1 to 65535", _number(1, 65535, integer=True))

# The project's own settings (environment variables), in the order their problems are listed.
PROJECT_RULES: dict[str, Rule] = {
    WAREHOUSE_ENV: Rule(
        "the warehouse engine: duckdb, postgres or spark",
        _pattern("duckdb|postgres|spark", "duckdb, postgres or spark"),
    ),
    DUCKDB_PATH_ENV: Rule(
        f"an existing warehouse file (a new one only with {CREATE_WAREHOUSE_ENV}=1)",
        _warehouse(create=False),
    ),
    CREATE_WAREHOUSE_ENV: Rule(
        "1 to let the Dagster runs start a new warehouse file, else unset or 0",
        _pattern("[01]", "1 or 0"),
    ),
    "AOW_POSTGRES_HOST": Rule("the PostgreSQL server's host name or address", _text),
    "AOW_POSTGRES_PORT": _PORT,
    "AOW_POSTGRES_USER": Rule("a PostgreSQL user name", _text),
    "AOW_POSTGRES_PASSWORD": Rule("the PostgreSQL user's password", _text, secret=True),
    "AOW_POSTGRES_DATABASE": Rule("a PostgreSQL database name", _text),
    "AOW_SPARK_HOST": Rule("the Spark Thrift Server's host name or address", _text),
    "AOW_SPARK_PORT": _PORT,
    SPARK_LAKE_ENV: Rule("the directory the raw Parquet files of Spark go to", _directory),
    "AOW_SEEDS_DIR": Rule("the directory of the organisation's seed files", _directory),
    "AOW_TIMEZONE": Rule("an IANA time zone name, e.g. Europe/Berlin", _timezone),
    "AOW_PARTITIONS_START": Rule("an ISO date (YYYY-MM-DD), not in the future", _past_day),
    "AOW_AS_OF": Rule("an ISO date-time, e.g. 2026-11-01T00:00:00", _iso_date),
    "AOW_SCHEDULE_CRON": Rule("a cron expression, e.g. '0 6 * * *'", _cron),
    "AOW_SOURCE_RETRY_DELAY": Rule("a number of seconds, 0 or more", _number(0)),
    "AOW_QUARANTINE_MAX_SHARE": Rule(
        "a share from 0 up to but not including 1, e.g. 0.01", _number(0, 1, below=True)
    ),
    "AOW_SERVING_PATH": Rule(
        "the file the marts are published to, in an existing directory", _file_in_a_directory
    ),
}


def source_setting_name(source: str, setting: str) -> str:
    return f"SOURCES__{source.upper()}__{setting.upper()}"


def problem(name: str, rule: Rule, value: Any) -> str | None:
    """The one line saying why `value` breaks `rule` (None when it does not)."""
    try:
        rule.check(value)
    except ValueError as exc:
        shown = "a secret" if rule.secret else _shown(value)
        return f"{name}: expected {rule.expected}; got {shown} ({exc})"
    return None


def _shown(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 200 else text[:197] + "..."


def source_setting_value(source: str, setting: str) -> Any:
    """The raw value dlt would resolve for the source function's argument (None if unset):
    the source's own section first, as dlt looks it up."""
    import dlt

    # A secret through dlt's secrets accessor: dlt leaves secrets out of its pickled trace,
    # but would keep a value read through the config accessor.
    rule = SOURCE_RULES.get(setting)
    accessor = dlt.secrets if rule is not None and rule.secret else dlt.config
    for key in (f"sources.{source}.{source}.{setting}", f"sources.{source}.{setting}"):
        value = accessor.get(key)
        if value is not None:
            return value
    return None


def source_problems(source: str, settings: Iterable[str]) -> list[str]:
    """One line per set source setting that breaks its rule. Raises KeyError for a setting
    without a rule: every argument a source takes from configuration must have one."""
    found = []
    for setting in settings:
        rule = SOURCE_RULES[setting]
        value = source_setting_value(source, setting)
        if value is not None:
            found.append(problem(source_setting_name(source, setting), rule, value))
    return [p for p in found if p]


@dataclass(frozen=True)
class Settings:
    """The project's own settings; each default here is the one used when its variable is
    unset. Built by `read_settings`, or directly where the values are given (a test, the demo)."""

    duckdb_path: Path = REPO_ROOT / "warehouse.duckdb"  # AOW_DUCKDB_PATH
    create_warehouse: bool = False  # AOW_CREATE_WAREHOUSE: Dagster may start a new warehouse
    seeds_dir: Path | None = None  # AOW_SEEDS_DIR; None: the project's own, dbt_project/seeds
    timezone: str = "UTC"  # AOW_TIMEZONE: the organisation's, where the schedule fires
    # AOW_PARTITIONS_START: the first day a backfill can load (the billing APIs keep a year).
    partitions_start: str = "2025-01-01"
    as_of: str | None = None  # AOW_AS_OF: the metrics' "now"; None: the build's time
    schedule_cron: str = "0 6 * * *"  # AOW_SCHEDULE_CRON, in the organisation's time zone
    source_retry_delay: float = 60.0  # AOW_SOURCE_RETRY_DELAY: seconds before a step's retry
    quarantine_max_share: float = 0.01  # AOW_QUARANTINE_MAX_SHARE
    # AOW_SERVING_PATH: where readers get the marts (pipelines.serving.publication); None:
    # beside the warehouse, see publication_path.
    serving_path: Path | None = None
    # AOW_WAREHOUSE and the server's AOW_POSTGRES_* or AOW_SPARK_* settings: the engine.
    engine: str = DEFAULT_ENGINE
    server: Postgres | Spark | None = None

    @property
    def warehouse(self) -> Warehouse:
        """What every load, build and check writes or reads (pipelines.warehouse.engines):
        the DuckDB file, or the Postgres or Spark server."""
        return self.server if self.server is not None else self.duckdb_path

    @property
    def publication_path(self) -> Path:
        """The publication file: AOW_SERVING_PATH, else `<warehouse stem>.serving.duckdb`
        beside the warehouse (.data/demo.duckdb publishes .data/demo.serving.duckdb)."""
        return self.serving_path or default_publication_path(self.duckdb_path)


def default_publication_path(warehouse: Path | str) -> Path:
    path = Path(warehouse).expanduser().resolve()
    return path.with_name(f"{path.stem}.serving.duckdb")


def _absolute_path(value: Any) -> Path:
    return Path(value).expanduser().resolve()


# Each variable's field of Settings, and how its value (once checked) becomes the field's.
SETTING_FIELDS: dict[str, tuple[str, Callable[[Any], Any]]] = {
    WAREHOUSE_ENV: ("engine", str),
    DUCKDB_PATH_ENV: ("duckdb_path", _absolute_path),
    CREATE_WAREHOUSE_ENV: ("create_warehouse", lambda value: value == "1"),
    "AOW_SEEDS_DIR": ("seeds_dir", _absolute_path),
    "AOW_TIMEZONE": ("timezone", str),
    "AOW_PARTITIONS_START": ("partitions_start", str),
    "AOW_AS_OF": ("as_of", str),
    "AOW_SCHEDULE_CRON": ("schedule_cron", str),
    "AOW_SOURCE_RETRY_DELAY": ("source_retry_delay", float),
    "AOW_QUARANTINE_MAX_SHARE": ("quarantine_max_share", float),
    "AOW_SERVING_PATH": ("serving_path", _absolute_path),
}
# The server settings of each engine (engines.Postgres.SETTINGS, .Spark's), each variable's
# field of its class and how its value (once checked) becomes the field's.
_SERVER_READERS: dict[str, Callable[[Any], Any]] = {"port": int, "lake": _absolute_path}
SERVER_FIELDS: dict[str, dict[str, tuple[str, Callable[[Any], Any]]]] = {
    engine: {
        name: (field, _SERVER_READERS.get(field, str)) for field, name in server.SETTINGS.items()
    }
    for engine, server in SERVERS.items()
}


def read_settings(
    environ: Mapping[str, str] | None = None, given: Mapping[str, tuple[str, Any]] | None = None
) -> Settings:
    """The project settings from `environ` (the process environment by default); an unset or
    empty variable keeps its default. `given`: values given another way, by the variable they
    replace, as (the way they were given, the value), e.g. {"AOW_AS_OF": ("--as-of", ...)}.
    Raises SettingError naming every broken one, as it was given."""
    environ = os.environ if environ is None else environ
    given = given or {}
    values = {
        name: given.get(name) or (name, environ[name])
        for name in PROJECT_RULES
        if name in given or environ.get(name)
    }
    rules = dict(PROJECT_RULES)
    if environ.get(CREATE_WAREHOUSE_ENV) == "1":
        rules[DUCKDB_PATH_ENV] = replace(rules[DUCKDB_PATH_ENV], check=_warehouse(create=True))
    found = [problem(shown, rules[name], value) for name, (shown, value) in values.items()]
    engine = values.get(WAREHOUSE_ENV, (None, DEFAULT_ENGINE))[1]
    if engine == "spark" and SPARK_LAKE_ENV not in values and not any(found):
        found.append(f"{SPARK_LAKE_ENV}: required when {WAREHOUSE_ENV}=spark (unset)")
    if any(found):
        raise SettingError(p for p in found if p)
    fields = {}
    server = {}
    for name, (_, value) in values.items():
        if name in SERVER_FIELDS.get(engine, {}):
            field, read = SERVER_FIELDS[engine][name]
            server[field] = read(value)
        elif name in SETTING_FIELDS:
            field, read = SETTING_FIELDS[name]
            fields[field] = read(value)
    if engine != DEFAULT_ENGINE:
        fields["server"] = SERVERS[engine](**server)
    return Settings(**fields)
