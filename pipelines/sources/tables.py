"""A table declared once: its typed columns, and where each column's value comes from in the
vendor's record.

Every source declares its tables as `Table`s of `Column`s. From one declaration come the dlt
column hints of the table (`Table.hints`: type, nullability, a decimal's precision and scale,
and the `x-` hints of pipelines.sources.field_rules) and the projection of a vendor record
onto the columns (`Table.projection`), whose rows the `Conformer` checks
(pipelines.sources.contract). A column's value is one of:

- the vendor's value at `path`, a dotted path into the record, by default the column's name:
  `Column("merged_by_login", path="merged_by.login")`. A key left out and a null object on
  the way read as null, as vendors leave optional objects out; the last key of a strict
  column (by default a non-nullable one) must be there, else the record is quarantined naming
  it (`id: expected present, seen absent`);
- `derive` of that value, where it takes logic: the names of a list of labels, the text of a
  rich-text document, an exact decimal. With `path=RECORD`, `derive` gets the whole record,
  for a value made of several fields;
- a value of the loader's context (`context=True`), given when the projection is made: the
  repository and pull request a review was listed under,
  `REVIEWS.projection(repo_full_name=..., pr_number=...)`.

A table's `finish` adds what no column can say: columns the record names itself (a tool of
Claude Code's) and nested rows built with their parent.

The projection is compiled once per table into the function one would write by hand: a dict
literal reading the columns in their order, each object on the way read once, where a column
first needs it. So it runs as fast as a hand-written one, and a broken record fails it the
same way, at the first column that reads the broken field (a KeyError naming a missing key,
an AttributeError where an object is not one), which the Conformer quarantines.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from functools import partial
from typing import Any

from dlt.common.data_types import TDataType
from dlt.common.schema.typing import TColumnSchema, TTableSchemaColumns

from pipelines.sources.field_rules import required_for, set_when

RECORD = ""  # as a column's `path`: the whole record, handed to its `derive`

Row = dict[str, Any]
Projection = Callable[[dict[str, Any]], Row]


@dataclass(frozen=True)
class Column:
    """One column of a table (see the module docstring).

    - `path`: the vendor's dotted path (default: the name; a tuple of keys when a key may
      hold a dot; `RECORD`: the whole record, for `derive`); `derive`: a function of the
      value read there; `context`: the value is the loader's instead.
    - `nullable`: None leaves it unsaid (dlt's default, nullable): a schema dlt stored with
      it said keeps it said. `strict`: the last key of `path` must be in the record
      (default: when the column is not nullable).
    - `required_for`: the marts that need the vendor's field `required_field` (default: the
      path) in the record; `set_when`: the row's values under which the column may not be
      null (both pipelines.sources.field_rules).
    - `set_by_finish`: declared for its hints; the table's `finish` sets it (or leaves it out:
      Claude Code's tools a record does not list).
    """

    name: str
    data_type: TDataType = "text"
    path: str | tuple[str, ...] | None = None  # a tuple: keys that may hold a dot
    nullable: bool | None = None
    strict: bool | None = None
    derive: Callable[[Any], Any] | None = None
    context: bool = False
    required_for: tuple[str, ...] = ()
    required_field: str | None = None
    set_when: Mapping[str, Any] | None = None
    precision: int | None = None
    scale: int | None = None
    set_by_finish: bool = False

    @property
    def keys(self) -> tuple[str, ...]:
        """The keys of `path`, outermost first; none for the whole record."""
        if self.path is None:
            return (self.name,)
        if isinstance(self.path, tuple):
            return self.path
        return tuple(self.path.split(".")) if self.path else ()

    @property
    def key_required(self) -> bool:
        """Whether the last key of `path` must be in the record."""
        return self.strict if self.strict is not None else self.nullable is False

    def hint(self) -> TColumnSchema:
        """The dlt column hint."""
        hint: Any = {"data_type": self.data_type}
        if self.precision is not None:
            hint["precision"] = self.precision
        if self.scale is not None:
            hint["scale"] = self.scale
        if self.nullable is not None:
            hint["nullable"] = self.nullable
        if self.required_for:
            field = self.required_field or self._vendor_path()
            hint.update(required_for(*self.required_for, field=field))
        if self.set_when:
            hint.update(set_when(**self.set_when))
        return hint

    def _vendor_path(self) -> str | None:
        """The dotted path when it is not the column's name."""
        path = ".".join(self.keys)
        return path if path != self.name else None


class Table:
    """A table's name and columns, in order (see the module docstring). `ignored`: top-level
    keys of the record that stay out of `_extra` (pipelines.sources.contract) though no column
    has their name: hypermedia, the vendor's object type, a key a column reads under another
    name."""

    def __init__(
        self,
        name: str,
        columns: Iterable[Column],
        *,
        ignored: Iterable[str] = (),
        finish: Callable[[Row, dict[str, Any]], None] | None = None,
    ) -> None:
        self.name = name
        self.columns = tuple(columns)
        self.ignored = tuple(ignored)
        self.finish = finish
        names = [column.name for column in self.columns]
        if len(set(names)) != len(names):
            raise ValueError(f"{name}: a column is declared twice in {names}")
        self.hints: TTableSchemaColumns = {c.name: c.hint() for c in self.columns}
        self.context = frozenset(c.name for c in self.columns if c.context)
        self._project = _compile(self)

    def projection(self, **context: Any) -> Projection:
        """The projection of a record onto the columns, with the loader's `context` values."""
        if context.keys() != self.context:
            raise TypeError(f"{self.name} takes the context {sorted(self.context)}")
        return partial(self._project, context) if context else self._project

    def nested_hints(self) -> dict[str, TTableSchemaColumns]:
        """The hints of a nested table (`nested_hints` of its parent's resource), whose
        columns carry their names: dlt names only a resource's own `columns`."""
        return {"columns": {name: {**hint, "name": name} for name, hint in self.hints.items()}}


def _compile(table: Table) -> Callable[..., Row]:
    """`project([context, ]record)`: the row of `record`, column by column (a table without
    context columns takes none)."""
    namespace: dict[str, Any] = {"finish": table.finish}
    objects: dict[tuple[str, ...], str] = {}
    items = []
    for index, column in enumerate(table.columns):
        if column.set_by_finish:
            continue
        value = _value(column, objects)
        if column.derive:
            namespace[f"derive_{index}"] = column.derive
            value = f"derive_{index}({value})"
        items.append(f"        {column.name!r}: {value},\n")
    source = (
        f"def project({'context, ' if table.context else ''}record):\n"
        f"    row = {{\n{''.join(items)}    }}\n"
        + ("    finish(row, record)\n" if table.finish else "")
        + "    return row\n"
    )
    exec(compile(source, f"<projection of {table.name}>", "exec"), namespace)
    return namespace["project"]


def _value(column: Column, objects: dict[tuple[str, ...], str]) -> str:
    """The expression reading `column` from `record` or `context`. Each object on the way
    is read once, where a column first needs it, and named in `objects` for the next ones;
    a null or left-out object reads as an empty one."""
    if column.context:
        return f"context[{column.name!r}]"
    keys = column.keys
    read = "record"
    for depth in range(1, len(keys)):
        if keys[:depth] in objects:
            read = objects[keys[:depth]]
            continue
        name = objects[keys[:depth]] = f"object_{len(objects)}"
        read = f"({name} := ({read}.get({keys[depth - 1]!r}) or {{}}))"
    if not keys:
        return read
    return f"{read}[{keys[-1]!r}]" if column.key_required else f"{read}.get({keys[-1]!r})"
