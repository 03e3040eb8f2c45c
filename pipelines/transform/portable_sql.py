"""The lint that keeps the models portable: no function or clause one of the warehouse
engines (DuckDB, PostgreSQL, Spark: pipelines.warehouse.engines) lacks, or reads otherwise.

Models and singular tests are written once for every engine; what differs lives in a
dispatched macro (dbt_project/macros, one implementation per adapter). `make lint` runs this
over dbt_project/models and dbt_project/tests: each use of a refused name is one line with
the file, the line, and what to write instead. Only the SQL itself is read: not comments
({# #}, --), string literals, nor Jinja ({{ }}, {% %}), where the macros that dispatch are
called.

    python -m pipelines.transform.portable_sql [paths...]
"""

from __future__ import annotations

import re
import sys
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

from pipelines.project_files import DBT_PROJECT_DIR

DOUBLE = "{{ type_double() }} (macros/types.sql), each adapter's 8-byte float"
# A refused pattern, and what to write instead.
REFUSED: dict[str, str] = {
    # Postgres' regexp_matches returns the matches as rows (dropping a row without one).
    r"\bregexp_matches\s*\(": "regexp_like() or regexp_matches_unnested() (macros/regex.sql)",
    r"\bregexp_extract_all\s*\(": "regexp_matches_unnested() (macros/regex.sql)",
    r"\bregexp_full_match\s*\(": "regexp_like() with an anchored pattern (macros/regex.sql)",
    r"\bregexp_split_to_table\s*\(": "split_unnested() (macros/split_unnested.sql)",
    r"\b(string_split|str_split|string_split_regex)\s*\(": "split_unnested()",
    r"\bunnest\s*\(": "a dispatched macro (Spark explodes instead)",
    r"\bexplode\s*\(": "a dispatched macro (DuckDB and Postgres unnest instead)",
    r"\bgenerate_series\s*\(": "a dispatched macro (Spark has sequence())",
    r"\blist_[a-z_]+\s*\(": "a dispatched macro (DuckDB's list functions)",
    r"\blist\s*\(": "dbt.listagg() or a dispatched macro",
    r"\b(string_agg|group_concat)\s*\(": "dbt.listagg() (ordered, on every adapter)",
    r"\bjson_[a-z_]+\s*\(": "json_string_field() or json_strings_unnested() (macros/json.sql)",
    r"\b(get_json_object|from_json|jsonb_[a-z_]+)\s*\(": "macros/json.sql",
    r"\bepoch(_ms|_us|_ns)?\s*\(": "minutes_between() (macros/timestamps.sql) or a macro",
    r"\b(strftime|strptime)\s*\(": "a dispatched macro",
    r"\btimezone\s*\(": "utc_timestamp() (macros/timestamps.sql)",
    r"\bto_timestamp\s*\(": "dlt_load_time() (macros/timestamps.sql) or a macro",
    r"\b(date_diff|datediff|date_add|date_sub|dateadd)\s*\(": "dbt.datediff() / dbt.dateadd()",
    r"\b(make_date|make_timestamp|age|last_day)\s*\(": "a dispatched macro",
    r"\b(median|quantile|quantile_cont|quantile_disc)\s*\(": "a dispatched median macro",
    r"\b(arg_max|arg_min|max_by|min_by|any_value|count_if|first|last)\s*\(": (
        "window functions (row_number) or case expressions"
    ),
    r"\b(sha256|sha2|hash)\s*\(": "dbt.hash() (md5 on every adapter)",
    r"\b(try_cast|safe_cast)\s*\(": "cast() (and a test that the cast holds)",
    r"\b(contains|starts_with|ends_with|strpos|instr|len)\s*\(": "position() or like",
    r"\bqualify\b": "a window in a subquery, filtered outside",
    r"\bgroup\s+by\s+all\b": "the grouped columns by name",
    r"\border\s+by\s+all\b": "the ordered columns by name",
    r"\*\s*(exclude|replace)\b": "the columns by name",
    # Spark's two-argument rtrim and ltrim take the characters first.
    r"\b(rtrim|ltrim)\s*\([^()]*,": "rtrim_characters() (macros/strings.sql)",
    # Spark has no type `double precision`, Postgres no `double`, and dbt.type_float() is 4
    # bytes on DuckDB and Spark.
    r"\bdouble\s+precision\b": DOUBLE,
    r"\bas\s+double\b(?!\s+precision)": DOUBLE,
    r"//": "spend_floor_divide() (macros/spend_arithmetic.sql)",
}
# A function's name is refused where it is called bare, not as a macro's (dbt.dateadd).
_PATTERNS = [
    (re.compile(p.replace("\\b", "(?<![\\w.])", 1), re.IGNORECASE), p, advice)
    for p, advice in REFUSED.items()
]
# Jinja comments, SQL line comments, and the text of string literals (a pattern in a
# regular expression's text is not a call).
_JINJA_COMMENT = re.compile(r"\{#.*?#\}", re.DOTALL)
_JINJA = re.compile(r"\{\{.*?\}\}|\{%.*?%\}", re.DOTALL)
_LINE_COMMENT = re.compile(r"--[^\n]*")
_STRING = re.compile(r"'(?:[^']|'')*'")
DEFAULT_PATHS = (DBT_PROJECT_DIR / "models", DBT_PROJECT_DIR / "tests")


@dataclass(frozen=True)
class Finding:
    path: Path
    line: int
    found: str
    advice: str

    def __str__(self) -> str:
        return f"{self.path}:{self.line}: {self.found!r} is not portable: use {self.advice}"


def _blank(match: re.Match[str]) -> str:
    """The match's text with every character but line breaks blanked (lines keep counting)."""
    return re.sub(r"[^\n]", " ", match.group(0))


def findings(text: str, path: Path) -> Iterator[Finding]:
    """Every refused use in one SQL file's text."""
    code = _JINJA_COMMENT.sub(_blank, text)
    code = _JINJA.sub(_blank, code)
    code = _LINE_COMMENT.sub(_blank, code)
    code = _STRING.sub(lambda m: "'" + _blank(m)[1:-1] + "'", code)
    for pattern, _, advice in _PATTERNS:
        for match in pattern.finditer(code):
            line = code.count("\n", 0, match.start()) + 1
            yield Finding(path, line, match.group(0).strip(), advice)


def sql_files(paths: Iterable[Path]) -> list[Path]:
    files = []
    for path in paths:
        files += sorted(path.rglob("*.sql")) if path.is_dir() else [path]
    return files


def lint(paths: Iterable[Path] = DEFAULT_PATHS) -> list[Finding]:
    found = [f for p in sql_files(paths) for f in findings(p.read_text(), p)]
    return sorted(found, key=lambda f: (str(f.path), f.line))


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    found = lint([Path(a) for a in args] or DEFAULT_PATHS)
    for finding in found:
        print(finding)
    if found:
        print(f"{len(found)} non-portable uses: the models run on DuckDB, Postgres and Spark")
    return 1 if found else 0


if __name__ == "__main__":
    sys.exit(main())
