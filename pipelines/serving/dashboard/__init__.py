"""The dashboard people open: a Streamlit app that reads the publication (a DuckDB file of the
warehouse's marts and its `publication` schema), never the warehouse itself.

`app.py` is the entry Streamlit runs (`python -m pipelines dashboard`, `make dashboard`); one
module per page under `views/`; every SQL statement in `queries.py`; the sidebar's filters in
`filters.py`; shared widgets (tiles, tables with their CSV download, metric links) in
`widgets.py`. Pages are described in docs/dashboard.md.
"""
