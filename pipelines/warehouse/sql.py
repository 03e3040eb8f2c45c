"""SQL text the project writes itself (names it did not choose must be quoted)."""


def quoted(identifier: str) -> str:
    """`identifier` as a DuckDB quoted identifier: any name, quotes included."""
    return '"' + identifier.replace('"', '""') + '"'
