"""The loader configuration that points every source at a running simulator."""

from __future__ import annotations

from pipelines.simulator.credentials import SIM_CREDENTIALS
from pipelines.simulator.server import SimulatorServer


def simulator_sources_env(sim: SimulatorServer, start_date: str | None = None) -> dict[str, str]:
    """SOURCES__* variables, in dlt's convention, for the simulated organisation."""
    repos = sim.repositories()
    env = {
        "SOURCES__GITHUB__BASE_URL": sim.base_url("github"),
        "SOURCES__GITHUB__ACCESS_TOKEN": SIM_CREDENTIALS["github"],
        "SOURCES__GITHUB__REPOSITORIES": "[" + ", ".join(f'"{r}"' for r in repos) + "]",
        "SOURCES__JIRA__BASE_URL": sim.base_url("jira"),
        "SOURCES__JIRA__EMAIL": SIM_CREDENTIALS["jira_email"],
        "SOURCES__JIRA__API_TOKEN": SIM_CREDENTIALS["jira"],
        "SOURCES__PAGERDUTY__BASE_URL": sim.base_url("pagerduty"),
        "SOURCES__PAGERDUTY__API_KEY": SIM_CREDENTIALS["pagerduty"],
        "SOURCES__ANTHROPIC__BASE_URL": sim.base_url("anthropic"),
        "SOURCES__ANTHROPIC__ADMIN_API_KEY": SIM_CREDENTIALS["anthropic"],
        "SOURCES__OPENAI__BASE_URL": sim.base_url("openai"),
        "SOURCES__OPENAI__ADMIN_API_KEY": SIM_CREDENTIALS["openai"],
    }
    if start_date:
        for source in ("GITHUB", "JIRA", "PAGERDUTY", "ANTHROPIC", "OPENAI"):
            env[f"SOURCES__{source}__START_DATE"] = start_date
    return env
