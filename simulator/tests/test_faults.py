"""Each fault switch answers as the vendor would, and stops when spent."""

from __future__ import annotations

import http.client
import time
from datetime import datetime, timedelta

import pytest
import requests

from org_simulator.credentials import auth_headers
from org_simulator.faults import Fault

PATHS = {
    "github": "/repos/acme/payments-api/pulls?state=all",
    "anthropic": "/v1/organizations/usage_report/messages?starting_at=2026-09-01T00:00:00Z",
    "openai": "/v1/organization/usage/completions?start_time=1756684800",
    "jira": "/rest/api/3/search/jql?jql=project%20%3D%20PAY&fields=summary",
    "pagerduty": "/incidents?date_range=all",
}


def get(sim, vendor: str, path: str | None = None) -> requests.Response:
    return requests.get(
        sim.base_url(vendor) + (path or PATHS[vendor]), headers=auth_headers(vendor), timeout=30
    )


@pytest.mark.parametrize("vendor", sorted(PATHS))
def test_rate_limit_answers_429_with_retry_after_once(simulator, vendor: str) -> None:
    simulator.inject(Fault("rate_limit", vendor=vendor, retry_after=7))
    first = get(simulator, vendor)
    assert first.status_code == 429
    assert first.headers["retry-after"] == "7"
    assert get(simulator, vendor).status_code == 200


def test_github_secondary_rate_limit_is_a_403_with_exhausted_headers(simulator) -> None:
    simulator.inject(Fault("rate_limit", vendor="github", status=403))
    r = get(simulator, "github")
    assert r.status_code == 403
    assert r.headers["x-ratelimit-remaining"] == "0"
    assert int(r.headers["x-ratelimit-reset"]) >= int(time.time())


@pytest.mark.parametrize("vendor", sorted(PATHS))
def test_server_error_in_vendor_shape_then_recovers(simulator, vendor: str) -> None:
    simulator.inject(Fault("server_error", vendor=vendor, status=502, times=2))
    assert [get(simulator, vendor).status_code for _ in range(3)] == [502, 502, 200]


def test_skip_lets_the_first_pages_through(simulator) -> None:
    simulator.inject(Fault("server_error", vendor="pagerduty", skip=1))
    assert [get(simulator, "pagerduty").status_code for _ in range(3)] == [200, 503, 200]


def test_slow_answers_late_but_right(simulator) -> None:
    simulator.inject(Fault("slow", vendor="jira", delay=0.5))
    started = time.monotonic()
    r = get(simulator, "jira")
    assert r.status_code == 200 and r.json()["issues"]
    assert time.monotonic() - started >= 0.5
    with pytest.raises(requests.exceptions.ReadTimeout):
        simulator.inject(Fault("slow", vendor="jira", delay=2))
        requests.get(
            simulator.base_url("jira") + PATHS["jira"], headers=auth_headers("jira"), timeout=0.5
        )


def test_malformed_page_parses_but_its_first_record_is_broken(simulator) -> None:
    simulator.inject(Fault("malformed", vendor="github"))
    first = get(simulator, "github").json()[0]
    assert first["_malformed"] is True and first["id"] is None
    assert first["created_at"] == "not-a-timestamp"
    assert get(simulator, "github").json()[0]["id"] is not None


def test_drift_changes_the_field_in_every_record_of_the_matching_pages(simulator) -> None:
    clean = get(simulator, "github").json()
    assert len(clean) > 1 and all("merged_at" in pr and pr["draft"] is False for pr in clean)
    for fault in (  # one fault a request: these hit the next three pages in turn
        Fault("drop_field", vendor="github", path=r"/pulls$", field="merged_at"),
        Fault("retype", vendor="github", path=r"/pulls$", field="draft"),
        Fault("add_field", vendor="github", path=r"/pulls$", field="ai_score", value="high"),
        Fault("retype", vendor="jira", field="fields.summary", value=17),
    ):
        simulator.inject(fault)
    dropped, retyped, added = (get(simulator, "github").json() for _ in range(3))
    assert all("merged_at" not in pr for pr in dropped)
    assert all(pr["draft"] == "false" for pr in retyped)
    assert all(pr["ai_score"] == "high" for pr in added)
    issues = get(simulator, "jira").json()["issues"]
    assert issues and all(issue["fields"]["summary"] == 17 for issue in issues)
    # each fault hit one page; the next answers are as served
    assert get(simulator, "github").json() == clean
    single = get(simulator, "github", f"/repos/acme/payments-api/pulls/{clean[0]['number']}")
    simulator.inject(Fault("retype", vendor="github", path=r"/pulls/\d+$", field="title"))
    retyped = get(simulator, "github", single.request.path_url.removeprefix("/github")).json()
    assert retyped["title"] == [single.json()["title"]]
    with pytest.raises(ValueError, match="needs the field"):
        Fault("drop_field", vendor="github")


def test_shift_time_moves_one_field_of_every_record_and_nothing_else(simulator) -> None:
    clean = get(simulator, "github").json()
    simulator.inject(Fault("shift_time", vendor="github", time_field="created_at", shift_days=-21))
    shifted = get(simulator, "github").json()
    assert [r["id"] for r in shifted] == [r["id"] for r in clean]
    for before, after in zip(clean, shifted, strict=True):
        assert after["created_at"] != before["created_at"] and after["created_at"].endswith("Z")
        moved = datetime.fromisoformat(before["created_at"]) - timedelta(days=21)
        assert datetime.fromisoformat(after["created_at"]) == moved
        assert {k: v for k, v in after.items() if k != "created_at"} == {
            k: v for k, v in before.items() if k != "created_at"
        }
    assert get(simulator, "github").json() == clean


def test_shift_time_needs_its_field() -> None:
    with pytest.raises(ValueError, match="time_field"):
        Fault("shift_time", vendor="github", shift_days=-21)


def test_invalid_json_is_a_200_that_does_not_parse(simulator) -> None:
    simulator.inject(Fault("invalid_json", vendor="pagerduty"))
    r = get(simulator, "pagerduty")
    assert r.status_code == 200
    with pytest.raises(ValueError):
        r.json()


def test_truncated_body_breaks_the_read(simulator) -> None:
    simulator.inject(Fault("truncated", vendor="github"))
    host, port = simulator.url.removeprefix("http://").split(":")
    conn = http.client.HTTPConnection(host, int(port), timeout=10)
    conn.request("GET", "/github" + PATHS["github"], headers=auth_headers("github"))
    response = conn.getresponse()
    with pytest.raises(http.client.IncompleteRead):
        response.read()
    conn.close()
    assert get(simulator, "github").status_code == 200


def test_control_plane_over_http(simulator) -> None:
    r = requests.post(
        simulator.url + "/_sim/faults",
        json={"kind": "server_error", "vendor": "openai"},
        timeout=10,
    )
    assert r.status_code == 201
    assert get(simulator, "openai").status_code == 503
    stats = requests.get(simulator.url + "/_sim/stats", timeout=10).json()
    assert stats["by_route"]
    bad = requests.post(simulator.url + "/_sim/faults", json={"kind": "nope"}, timeout=10)
    assert bad.status_code == 400
