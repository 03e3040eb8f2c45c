"""The natural id of a vendor record as text, read from its payload: how a quarantined
record is found again (fetched by id on the next load) and recognised when a later load
accepts it.

A record can be broken in its id fields themselves (a garbled page), so where the vendor
sends the record's own API link (GitHub's `url`, Jira's `self`), the key is read from the
link when the id fields do not give it. A key function returns None when neither does.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

KeyOf = Callable[[dict[str, Any]], str | None]

_PULL_LINK = re.compile(r"/repos/([^/]+/[^/]+)/pulls/(\d+)$")
_RUN_LINK = re.compile(r"/repos/([^/]+/[^/]+)/actions/runs/(\d+)$")
_DEPLOYMENT_LINK = re.compile(r"/repos/([^/]+/[^/]+)/deployments/(\d+)$")
_ISSUE_LINK = re.compile(r"/issue/(\d+)$")
_INCIDENT_LINK = re.compile(r"/incidents/([^/]+)$")


def record_key(key_of: KeyOf | None, payload: Any) -> str | None:
    """`key_of(payload)` (default: the record's `id`); None when it cannot be read."""
    if not isinstance(payload, dict):
        return None
    try:
        return (key_of or by_id)(payload)
    except (KeyError, TypeError, ValueError, AttributeError):
        return None


def by_id(record: dict[str, Any]) -> str | None:
    value = record.get("id")
    if isinstance(value, bool) or not isinstance(value, int | str) or value == "":
        return None
    return str(value)


def pull_request_key(pr: dict[str, Any]) -> str | None:
    """The PR as `owner/repo#12` (the repository lower-cased: GitHub's names ignore case)."""
    repo = ((pr.get("base") or {}).get("repo") or {}).get("full_name")
    number = pr.get("number")
    if isinstance(repo, str) and isinstance(number, int) and not isinstance(number, bool):
        return f"{repo.lower()}#{number}"
    found = _PULL_LINK.search(str(pr.get("url") or ""))
    return f"{found[1].lower()}#{found[2]}" if found else None


def pull_request_path(key: str) -> str | None:
    repo, _, number = key.rpartition("#")
    return f"/repos/{repo}/pulls/{number}" if repo and number.isdigit() else None


def workflow_run_key(run: dict[str, Any]) -> str | None:
    """The run id (ids are unique across repositories)."""
    found = _RUN_LINK.search(str(run.get("url") or ""))
    return by_id(run) or (found[2] if found else None)


def workflow_run_path(payload: dict[str, Any]) -> str | None:
    """The run's own API path, from its link: the key alone does not name the repository."""
    found = _RUN_LINK.search(str(payload.get("url") or ""))
    return f"/repos/{found[1]}/actions/runs/{found[2]}" if found else None


def deployment_key(deployment: dict[str, Any]) -> str | None:
    """The deployment id (ids are unique across repositories)."""
    found = _DEPLOYMENT_LINK.search(str(deployment.get("url") or ""))
    return by_id(deployment) or (found[2] if found else None)


def deployment_path(payload: dict[str, Any]) -> str | None:
    """The deployment's own API path, from its link (the key does not name the repository)."""
    found = _DEPLOYMENT_LINK.search(str(payload.get("url") or ""))
    return f"/repos/{found[1]}/deployments/{found[2]}" if found else None


def jira_issue_key(issue: dict[str, Any]) -> str | None:
    """The issue id (an issue key changes when the issue moves to another project)."""
    found = _ISSUE_LINK.search(str(issue.get("self") or ""))
    return by_id(issue) or (found[1] if found else None)


def pagerduty_incident_key(incident: dict[str, Any]) -> str | None:
    """The incident id, else the one its own `self` link names."""
    found = _INCIDENT_LINK.search(str(incident.get("self") or ""))
    return by_id(incident) or (found[1] if found else None)


GITHUB_KEYS: dict[str, KeyOf] = {
    "pull_requests": pull_request_key,
    "workflow_runs": workflow_run_key,
    "deployments": deployment_key,
}
JIRA_KEYS: dict[str, KeyOf] = {"issues": jira_issue_key}
PAGERDUTY_KEYS: dict[str, KeyOf] = {"incidents": pagerduty_incident_key}
