"""The simulator's tests share the `tiny` organisation and a server over it."""

from org_simulator.testing import simulator, tiny_store  # noqa: F401 (fixtures)
