"""The one way loaders build their REST client: dlt's RESTClient over our retrying session."""

from __future__ import annotations

from typing import Any

from dlt.sources.helpers.rest_client import RESTClient
from dlt.sources.helpers.rest_client.paginators import BasePaginator
from requests.auth import AuthBase

from pipelines.sources.http_session import RetryingSession, RetryPolicy


def rest_client(
    base_url: str,
    auth: AuthBase,
    *,
    headers: dict[str, str] | None = None,
    paginator: BasePaginator | None = None,
    data_selector: str | None = None,
    policy: RetryPolicy | None = None,
    connections: int = 1,
) -> RESTClient:
    """A client for one vendor. Credentials go in `auth` (an object, never a header or URL
    parameter): dlt's debug log prints headers and URLs, never auth objects. `connections`:
    how many threads share the client (pipelines.sources.fanout)."""
    return RESTClient(
        base_url=base_url.rstrip("/"),
        headers=headers,
        auth=auth,
        paginator=paginator,
        data_selector=data_selector,
        session=RetryingSession(policy, connections),
    )


def get_json(client: RESTClient, path: str, params: dict[str, Any] | None = None) -> Any:
    """One unpaginated GET; raises a sanitized HTTPError on an error status."""
    response = client.get(path, params=params)
    response.raise_for_status()
    return response.json()
