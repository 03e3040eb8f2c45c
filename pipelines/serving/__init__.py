"""Serving: what readers get from the marts (`summary`: the figures `make demo` prints)."""
