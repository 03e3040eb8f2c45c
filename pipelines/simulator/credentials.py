"""The credentials the simulator accepts. Not secrets: they open nothing but loopback fakes."""

SIM_CREDENTIALS: dict[str, str] = {
    "github": "sim-github-token",
    "anthropic": "sim-anthropic-admin-key",
    "openai": "sim-openai-admin-key",
    "jira_email": "sim-bot@example.com",
    "jira": "sim-jira-api-token",
    "pagerduty": "sim-pagerduty-api-key",
}
