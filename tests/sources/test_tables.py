"""A table declared once (pipelines.sources.tables): its dlt hints and its projection come from
the same columns."""

from __future__ import annotations

from decimal import Decimal

import pytest

from pipelines.sources.contract import Conformer, Quarantine
from pipelines.sources.field_rules import REQUIRED_FOR, SET_WHEN, VENDOR_FIELD
from pipelines.sources.tables import RECORD, Column, Table


def _label_names(labels):
    return [label["name"] for label in labels or []]


def _updated_or_created(record):
    return record.get("updated_at") or record["created_at"]


PULLS = Table(
    "pulls",
    [
        Column("id", "bigint", nullable=False),
        Column("repo_full_name", nullable=False, context=True),
        Column("state", required_for=("mart_a",), set_when={"merged": False}),
        Column("merged", "bool"),
        Column("user_login", path="user.login", required_for=("mart_b",)),
        Column("labels", "json", derive=_label_names),
        Column("updated_at", "timestamp", nullable=False, path=RECORD, derive=_updated_or_created),
        Column("cost", "decimal", nullable=True, precision=38, scale=12),
        Column("odd", path=("fields", "customfield.10")),
    ],
    ignored=("url",),
)


def test_the_hints_come_from_the_columns_in_their_order():
    assert PULLS.hints == {
        "id": {"data_type": "bigint", "nullable": False},
        "repo_full_name": {"data_type": "text", "nullable": False},
        "state": {"data_type": "text", REQUIRED_FOR: ["mart_a"], SET_WHEN: {"merged": False}},
        "merged": {"data_type": "bool"},
        # the vendor's path is named when it is not the column's
        "user_login": {"data_type": "text", REQUIRED_FOR: ["mart_b"], VENDOR_FIELD: "user.login"},
        "labels": {"data_type": "json"},
        "updated_at": {"data_type": "timestamp", "nullable": False},
        "cost": {"data_type": "decimal", "precision": 38, "scale": 12, "nullable": True},
        "odd": {"data_type": "text"},
    }
    assert list(PULLS.hints) == [column.name for column in PULLS.columns]
    named = PULLS.nested_hints()["columns"]
    assert named["id"] == {"data_type": "bigint", "nullable": False, "name": "id"}
    assert "name" not in PULLS.hints["id"]  # the table's own hints stay as they are


def test_the_projection_reads_paths_derives_values_and_takes_the_context():
    project = PULLS.projection(repo_full_name="acme/api")
    record = {
        "id": 7,
        "state": "open",
        "user": {"login": "zoë"},
        "labels": [{"name": "bug"}, {"name": "ai"}],
        "created_at": "2026-10-01T00:00:00Z",
        "fields": {"customfield.10": "a dotted key"},
    }
    row = project(record)
    assert row == {
        "id": 7,
        "repo_full_name": "acme/api",
        "state": "open",
        "merged": None,
        "user_login": "zoë",
        "labels": ["bug", "ai"],
        "updated_at": "2026-10-01T00:00:00Z",  # derived from the whole record
        "cost": None,
        "odd": "a dotted key",
    }
    assert list(row) == list(PULLS.hints)
    # A null or left-out object on the way reads as null.
    assert project({**record, "user": None})["user_login"] is None
    assert project({"id": 1, "created_at": "x"})["user_login"] is None


def test_a_strict_key_must_be_there_and_an_object_must_be_one():
    project = PULLS.projection(repo_full_name="acme/api")
    with pytest.raises(KeyError, match="'id'"):
        project({"created_at": "x"})
    with pytest.raises(AttributeError):
        project({"id": 1, "created_at": "x", "user": "not an object"})


def test_the_conformer_quarantines_what_the_projection_refuses():
    quarantine = Quarantine("test")
    conformer = Conformer.of(PULLS, quarantine, context={"repo_full_name": "acme/api"})
    good = {"id": "7", "state": "open", "user": {"login": "a"}, "updated_at": "2026-10-01", "x": 1}
    no_id = {"state": "open", "user": {"login": "b"}, "created_at": "2026-10-01"}
    (row,) = conformer.rows([good, no_id])
    assert row["id"] == 7 and row["_extra"] == '{"x": 1}'
    (rejected,) = quarantine.rows
    assert (rejected["field"], rejected["expected_type"], rejected["seen_type"]) == (
        "id",
        "present",
        "absent",
    )


def test_the_context_is_given_whole_when_the_projection_is_made():
    with pytest.raises(TypeError, match="repo_full_name"):
        PULLS.projection()
    with pytest.raises(TypeError, match="repo_full_name"):
        PULLS.projection(repo_full_name="acme/api", pr_number=1)


def test_finish_adds_what_the_record_names_and_a_column_is_declared_once():
    def tools(row, record):
        for tool, count in (record.get("tools") or {}).items():
            row[f"{tool}_count"] = count

    table = Table(
        "usage",
        [
            Column("amount", "decimal", nullable=False, derive=Decimal),
            Column("edit_count", "bigint", set_by_finish=True),
        ],
        finish=tools,
    )
    assert list(table.hints) == ["amount", "edit_count"]
    project = table.projection()
    assert project({"amount": "1.5"}) == {"amount": Decimal("1.5")}
    assert project({"amount": "1", "tools": {"edit": 2, "new": 3}}) == {
        "amount": Decimal("1"),
        "edit_count": 2,
        "new_count": 3,
    }
    with pytest.raises(ValueError, match="declared twice"):
        Table("twice", [Column("id"), Column("id", "bigint")])
