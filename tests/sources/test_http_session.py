"""The retrying session against the simulator's fault switches (GitHub's transport)."""

from __future__ import annotations

import pytest
import requests
from dlt.sources.helpers.rest_client.auth import BearerTokenAuth
from dlt.sources.helpers.rest_client.paginators import HeaderLinkPaginator
from requests.utils import get_environ_proxies

from org_simulator.credentials import SIM_CREDENTIALS
from org_simulator.faults import Fault
from org_simulator.server import SimulatorServer
from org_simulator.vendors import github_transport
from pipelines.sources import http_session
from pipelines.sources.http_session import RateLimitExceeded, RetryPolicy
from pipelines.sources.rest import get_json, rest_client

FAST = RetryPolicy(backoff_base=0.01, backoff_cap=0.05, max_attempts=4, max_wait=5.0)


def _client(sim: SimulatorServer, policy: RetryPolicy = FAST):
    return rest_client(
        sim.base_url("github"), BearerTokenAuth(SIM_CREDENTIALS["github"]), policy=policy
    )


def _repo(sim: SimulatorServer) -> str:
    return f"/repos/{sim.repositories()[0]}"


def _requests(sim: SimulatorServer) -> int:
    return sim.stats()["total"]


@pytest.mark.parametrize(
    "fault",
    [
        Fault("rate_limit", vendor="github", retry_after=0),  # 429 + Retry-After
        Fault("rate_limit", vendor="github", status=403, retry_after=1),  # remaining 0 + reset
        Fault("server_error", vendor="github", status=502, times=2),
        Fault("invalid_json", vendor="github"),
        Fault("truncated", vendor="github"),
    ],
    ids=["429", "403-exhausted", "502-twice", "invalid-json", "truncated"],
)
def test_transient_faults_are_retried(simulator: SimulatorServer, fault: Fault):
    simulator.inject(fault)
    client = _client(simulator)
    body = get_json(client, _repo(simulator))
    assert body["full_name"] == simulator.repositories()[0]
    assert client.session.retries == fault.times
    assert _requests(simulator) == fault.times + 1


def test_attempts_are_bounded(simulator: SimulatorServer):
    simulator.inject(Fault("server_error", vendor="github", status=503, times=-1))
    client = _client(simulator)
    with pytest.raises(requests.HTTPError) as excinfo:
        get_json(client, _repo(simulator))
    assert excinfo.value.response.status_code == 503
    assert _requests(simulator) == FAST.max_attempts


def test_a_wait_beyond_the_policy_fails_fast_with_a_clear_message(simulator: SimulatorServer):
    simulator.inject(Fault("rate_limit", vendor="github", status=403, retry_after=3600))
    with pytest.raises(RateLimitExceeded, match="try again later"):
        get_json(_client(simulator), _repo(simulator))
    assert _requests(simulator) == 1


def test_an_exhausted_limit_stops_requests_until_its_reset(
    simulator: SimulatorServer, monkeypatch: pytest.MonkeyPatch
):
    """After a 200 reporting remaining 0, the next request waits for the reset instead of
    spending a request on a certain 403; a reset beyond max_wait fails without a request."""
    monkeypatch.setattr(github_transport, "RATE_LIMIT", 1)
    github_transport.reset_rate_limits()
    try:
        client = _client(simulator)
        get_json(client, _repo(simulator))  # uses the only request of the window
        with pytest.raises(RateLimitExceeded, match="exhausted"):
            get_json(client, _repo(simulator))
        assert _requests(simulator) == 1
    finally:
        github_transport.reset_rate_limits()


def test_paginated_requests_are_retried_too(simulator: SimulatorServer):
    """dlt's paginate adds a raise-for-status hook; a 429 mid-walk must still be retried."""
    repo = simulator.repositories()[0]
    simulator.inject(Fault("rate_limit", vendor="github", path=r"/pulls$", skip=1, retry_after=0))
    client = _client(simulator)
    params = {"state": "all", "per_page": 2}
    pages = list(
        client.paginate(f"/repos/{repo}/pulls", params=params, paginator=HeaderLinkPaginator())
    )
    numbers = [pr["number"] for page in pages for pr in page]
    assert len(numbers) == len(set(numbers)) > 2
    assert client.session.retries == 1


def test_environment_settings_are_requests_own_with_proxies_read_once_per_host(
    monkeypatch: pytest.MonkeyPatch,
):
    monkeypatch.setenv("HTTPS_PROXY", "http://proxy.example:3128")
    monkeypatch.setenv("NO_PROXY", "127.0.0.1,localhost")
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", "/etc/ssl/bundle.pem")
    reads = []
    monkeypatch.setattr(
        http_session,
        "get_environ_proxies",
        lambda url, no_proxy=None: reads.append(url) or get_environ_proxies(url, no_proxy),
    )
    session, plain = http_session.RetryingSession(), requests.Session()
    urls = ["https://api.github.com/repos/a/b", "http://127.0.0.1:8000/github/repos/a/b"]
    for url in urls * 3:
        for proxies, verify in (({}, None), ({"no_proxy": "api.github.com"}, True), ({}, False)):
            ours = session.merge_environment_settings(url, dict(proxies), None, verify, None)
            assert ours == plain.merge_environment_settings(url, dict(proxies), None, verify, None)
    github = session.merge_environment_settings(urls[0], {}, None, None, None)
    assert github["proxies"]["https"] == "http://proxy.example:3128"
    assert github["verify"] == "/etc/ssl/bundle.pem"
    # NO_PROXY names the simulator's host: no proxy for it
    assert session.merge_environment_settings(urls[1], {}, None, None, None)["proxies"] == {}
    # once per host and no_proxy, however many requests
    assert len(reads) == 4
