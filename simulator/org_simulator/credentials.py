"""The credentials the simulator accepts. Not secrets: they open nothing but loopback fakes."""

import base64

SIM_CREDENTIALS: dict[str, str] = {
    "github": "sim-github-token",
    "anthropic": "sim-anthropic-admin-key",
    "openai": "sim-openai-admin-key",
    "jira_email": "sim-bot@example.com",
    "jira": "sim-jira-api-token",
    "pagerduty": "sim-pagerduty-api-key",
}


def auth_headers(vendor: str) -> dict[str, str]:
    """The headers a client sends to `vendor` on the simulator, as its real API takes them."""
    if vendor == "github":
        return {"Authorization": f"Bearer {SIM_CREDENTIALS['github']}"}
    if vendor == "anthropic":
        return {"x-api-key": SIM_CREDENTIALS["anthropic"], "anthropic-version": "2023-06-01"}
    if vendor == "openai":
        return {"Authorization": f"Bearer {SIM_CREDENTIALS['openai']}"}
    if vendor == "jira":
        raw = f"{SIM_CREDENTIALS['jira_email']}:{SIM_CREDENTIALS['jira']}".encode()
        return {"Authorization": "Basic " + base64.b64encode(raw).decode()}
    return {
        "Authorization": f"Token token={SIM_CREDENTIALS['pagerduty']}",
        "Accept": "application/vnd.pagerduty+json;version=2",
    }
