"""The engines' fixtures: a throwaway PostgreSQL server (tests/engines/postgres_server.py)."""

from tests.engines.postgres_server import postgres, postgres_env  # noqa: F401 (fixtures)
