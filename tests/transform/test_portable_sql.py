"""The lint that keeps the models portable (pipelines.transform.portable_sql)."""

from __future__ import annotations

from pathlib import Path

from pipelines.transform.portable_sql import findings, lint, main


def test_the_models_and_tests_use_nothing_one_engine_lacks():
    assert [str(f) for f in lint()] == []


def test_a_duckdb_only_function_is_refused_with_its_line(tmp_path: Path, capsys):
    model = tmp_path / "m.sql"
    model.write_text(
        "select\n"
        "    id,\n"
        "    regexp_matches(body, 'fix(es)?') as fixes,\n"
        "    cast(hours as double precision) as h,\n"
        "    list(login order by login) as logins,\n"
        "    rtrim(path, '/') as path\n"
        "from t\n"
        "qualify row_number() over (partition by id order by at) = 1\n"
    )
    found = [(f.line, f.found.lower()) for f in findings(model.read_text(), model)]
    assert sorted(found) == [
        (3, "regexp_matches("),
        (4, "double precision"),
        (5, "list("),
        (6, "rtrim(path,"),
        (8, "qualify"),
    ]
    assert main([str(model)]) == 1
    out = capsys.readouterr().out
    assert f"{model}:3: 'regexp_matches(' is not portable: use regexp_like()" in out


def test_comments_strings_and_macro_calls_are_not_read(tmp_path: Path):
    model = tmp_path / "m.sql"
    model.write_text(
        "{# unnest(x) in a Jinja comment #}\n"
        "select\n"
        "    {{ regexp_like('body', \"'x'\") }} as a,  -- regexp_matches( in a comment\n"
        "    'median(' as text_not_a_call,\n"
        "    {{ dbt.datediff('a', 'b', 'day') }} as d,\n"
        "    {% if true %} md5(id) {% endif %} as k\n"
        "from t\n"
    )
    assert list(findings(model.read_text(), model)) == []
    assert main([str(model)]) == 0
