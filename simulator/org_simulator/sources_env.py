"""The loader configuration that points every source at a running simulator."""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import TYPE_CHECKING

from org_simulator.credentials import SIM_CREDENTIALS
from org_simulator.options import VENDORS, OrgOptions

if TYPE_CHECKING:
    from org_simulator.process import SimulatorProcess
    from org_simulator.server import SimulatorServer


def simulator_sources_env(
    sim: SimulatorServer | SimulatorProcess,
    start_date: str | None = None,
    vendors: Iterable[str] = VENDORS,
) -> dict[str, str]:
    """SOURCES__* variables, in dlt's convention, for the simulated organisation.

    START_DATE defaults to the first day of the simulated history, so every source loads all
    of it (a real deployment chooses how far back its first load reaches). Only `vendors`
    (default all) are configured: the others get no setting at all, as for an organisation
    that does not use them (org_simulator.options).
    """
    vendors = OrgOptions(vendors=tuple(vendors)).vendors
    start_date = start_date or sim.history_start()
    repos = sim.repositories()
    env = {
        "SOURCES__GITHUB__BASE_URL": sim.base_url("github"),
        "SOURCES__GITHUB__ACCESS_TOKEN": SIM_CREDENTIALS["github"],
        "SOURCES__GITHUB__REPOSITORIES": "[" + ", ".join(f'"{r}"' for r in repos) + "]",
        "SOURCES__JIRA__BASE_URL": sim.base_url("jira"),
        "SOURCES__JIRA__EMAIL": SIM_CREDENTIALS["jira_email"],
        "SOURCES__JIRA__API_TOKEN": SIM_CREDENTIALS["jira"],
        "SOURCES__JIRA__PROJECTS": json.dumps(sim.jira_projects()),
        "SOURCES__PAGERDUTY__BASE_URL": sim.base_url("pagerduty"),
        "SOURCES__PAGERDUTY__API_KEY": SIM_CREDENTIALS["pagerduty"],
        "SOURCES__ANTHROPIC__BASE_URL": sim.base_url("anthropic"),
        "SOURCES__ANTHROPIC__ADMIN_API_KEY": SIM_CREDENTIALS["anthropic"],
        "SOURCES__OPENAI__BASE_URL": sim.base_url("openai"),
        "SOURCES__OPENAI__ADMIN_API_KEY": SIM_CREDENTIALS["openai"],
    }
    for source in ("GITHUB", "JIRA", "PAGERDUTY", "ANTHROPIC", "OPENAI"):
        env[f"SOURCES__{source}__START_DATE"] = start_date
    prefixes = tuple(f"SOURCES__{vendor.upper()}__" for vendor in vendors)
    return {key: value for key, value in env.items() if key.startswith(prefixes)}
