"""The HTTP session every loader uses: bounded retries that respect the vendors' rate limits.

dlt's own retrying session waits on `Retry-After` but not on GitHub's exhausted-limit 403
(`x-ratelimit-remaining: 0` + `x-ratelimit-reset`), adds no jitter, and hands a 200 with a
broken body straight to the JSON parser. This session covers all three:

- 429, 5xx, timeouts, dropped connections, truncated or unparseable JSON bodies: retried up to
  `max_attempts` times with exponential backoff and full jitter;
- `Retry-After` (seconds or an HTTP date) is honoured when present;
- a rate-limit answer (429, or 403 with `x-ratelimit-remaining: 0` or `Retry-After`) waits
  for `Retry-After` or until `x-ratelimit-reset`; a successful answer that reports
  `remaining: 0` makes the next request wait for the reset instead of spending a request on
  a certain refusal;
- a wait longer than `max_wait` is not slept: the request fails with a clear message, so a
  daily job does not hang for an hour on an exhausted token.

One session may serve several threads at once (pipelines.sources.fanout): requests prepares
a fresh request per send (hooks, auth and headers included) and urllib3's pool hands each
thread its own connection (the pool is sized for `connections` threads); what a session does
share is guarded: its cookie jar is read under the jar's own lock, and the counters kept here
change under one.

The environment's proxy settings are read once per host and session: requests reads every
environment variable twice per request for them, which cost more than the rest of a
request's preparation together (about 0.4 ms a request, measured).

Credentials travel only in auth objects (added after dlt logs the request), never in URLs, so
nothing here can print a secret.
"""

from __future__ import annotations

import json
import logging
import os
import random
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from email.utils import parsedate_to_datetime
from typing import Any
from urllib.parse import urlsplit

import orjson
import requests
from requests.adapters import DEFAULT_POOLSIZE, HTTPAdapter
from requests.cookies import RequestsCookieJar
from requests.exceptions import ChunkedEncodingError, ConnectionError, Timeout
from requests.hooks import dispatch_hook
from requests.sessions import merge_setting
from requests.utils import get_environ_proxies

log = logging.getLogger(__name__)

RETRY_EXCEPTIONS = (ConnectionError, Timeout, ChunkedEncodingError)


@dataclass(frozen=True)
class RetryPolicy:
    max_attempts: int = 6
    backoff_base: float = 1.0  # seconds; attempt n waits up to base * 2**n (full jitter)
    backoff_cap: float = 60.0
    max_wait: float = 900.0  # the longest single wait (Retry-After or a rate-limit reset)
    timeout: tuple[float, float] = (10.0, 120.0)  # connect, read


# The policy of sessions made without one; tests swap in a faster one.
DEFAULT_POLICY = RetryPolicy()


@dataclass
class RequestMeter:
    """What the sessions sent while a `metered()` block was open: every attempt counts as a
    request (retries included), so the number matches the vendor's own request count."""

    requests: int = 0
    retries: int = 0


_meters: list[RequestMeter] = []
_meters_lock = threading.Lock()


@contextmanager
def metered() -> Iterator[RequestMeter]:
    """Count the requests of every session in this process for the block (a load's run
    metadata). Process-wide rather than per session: a source makes its own sessions."""
    meter = RequestMeter()
    with _meters_lock:
        _meters.append(meter)
    try:
        yield meter
    finally:
        with _meters_lock:
            _meters.remove(meter)


def _count(attempt: int) -> None:
    with _meters_lock:
        for meter in _meters:
            meter.requests += 1
            meter.retries += attempt > 1


class RateLimitExceeded(requests.HTTPError):
    """The vendor asks for a wait longer than the policy allows."""


class RetriesExhausted(requests.HTTPError):
    """The last of `max_attempts` attempts still failed."""


class RetryingSession(requests.Session):
    def __init__(self, policy: RetryPolicy | None = None, connections: int = 1) -> None:
        """`connections`: how many threads may send at once; each keeps its connection."""
        super().__init__()
        self.policy = policy or DEFAULT_POLICY
        if connections > DEFAULT_POOLSIZE:
            for prefix in ("https://", "http://"):
                self.mount(prefix, HTTPAdapter(pool_maxsize=connections))
        self.cookies = _LockedCookieJar()
        self._lock = threading.Lock()
        self._blocked_until = 0.0  # epoch seconds: an exhausted limit resets then
        self.retries = 0  # how many retries this session made, for run summaries
        # (scheme, host, no_proxy) -> the environment's proxies for it
        self._environ_proxies: dict[tuple[str, str, str | None], dict[str, str]] = {}

    def merge_environment_settings(
        self,
        url: str,
        proxies: dict[str, str] | None,
        stream: bool | None,
        verify: Any,
        cert: Any,
    ) -> dict[str, Any]:
        """requests' own, with the environment's proxies for a host read once."""
        if self.trust_env:
            no_proxy = proxies.get("no_proxy") if proxies is not None else None
            parts = urlsplit(url)
            key = (parts.scheme, parts.netloc, no_proxy)
            if (env_proxies := self._environ_proxies.get(key)) is None:
                env_proxies = get_environ_proxies(url, no_proxy=no_proxy)
                self._environ_proxies[key] = env_proxies
            if proxies is not None:
                for k, v in env_proxies.items():
                    proxies.setdefault(k, v)
            if verify is True or verify is None:
                verify = (
                    os.environ.get("REQUESTS_CA_BUNDLE")
                    or os.environ.get("CURL_CA_BUNDLE")
                    or verify
                )
        return {
            "proxies": merge_setting(proxies, self.proxies),
            "stream": merge_setting(stream, self.stream),
            "verify": merge_setting(verify, self.verify),
            "cert": merge_setting(cert, self.cert),
        }

    def send(self, request: requests.PreparedRequest, **kwargs: Any) -> requests.Response:
        # dlt's `paginate` attaches a raise-for-status response hook, which requests runs
        # inside `Session.send`, before a 429 or 5xx could be retried here: judge every
        # attempt without the hooks, then run them on the answer kept.
        hooks = request.hooks.get("response") or []
        request.hooks["response"] = []
        try:
            response = self._send_with_retries(request, **kwargs)
        finally:
            request.hooks["response"] = hooks
        return dispatch_hook("response", request.hooks, response, **kwargs)

    def _send_with_retries(
        self, request: requests.PreparedRequest, **kwargs: Any
    ) -> requests.Response:
        kwargs.setdefault("timeout", self.policy.timeout)
        if not kwargs.get("timeout"):
            kwargs["timeout"] = self.policy.timeout
        attempt = 0
        while True:
            attempt += 1
            self._wait_for_reset(request)
            _count(attempt)
            failure: str
            try:
                response = super().send(request, **kwargs)
            except RETRY_EXCEPTIONS as exc:
                failure, delay, response = type(exc).__name__, None, None
                if attempt >= self.policy.max_attempts:
                    raise
            else:
                self._note_limit(response)
                failure, delay = self._judge(response)
                if not failure:
                    return response
                if attempt >= self.policy.max_attempts:
                    if response.status_code < 400:
                        raise RetriesExhausted(
                            f"{failure} from {_path(request)} after {attempt} attempts",
                            response=response,
                        )
                    return response  # the caller's raise_for_status words the error
            wait = delay if delay is not None else self._backoff(attempt)
            if wait > self.policy.max_wait:
                raise RateLimitExceeded(
                    f"{_path(request)}: the API asks to wait {wait:.0f}s "
                    f"(more than the {self.policy.max_wait:.0f}s allowed); try again later",
                    response=response,
                )
            with self._lock:
                self.retries += 1
            log.warning(
                "%s from %s (attempt %d of %d); retrying in %.1fs",
                failure,
                _path(request),
                attempt,
                self.policy.max_attempts,
                wait,
            )
            time.sleep(wait)

    # --- deciding -------------------------------------------------------------------------

    def _judge(self, response: requests.Response) -> tuple[str, float | None]:
        """('', None) for a usable answer, else why it failed and how long the API asks."""
        status = response.status_code
        if is_rate_limited(response):
            return f"rate limited ({status})", _rate_limit_delay(response)
        if status >= 500:
            return f"server error {status}", _retry_after(response)
        if 200 <= status < 300 and _is_json(response) and not _parse_json(response):
            return "unparseable JSON body", None
        return "", None

    def _backoff(self, attempt: int) -> float:
        ceiling = min(self.policy.backoff_cap, self.policy.backoff_base * 2 ** (attempt - 1))
        return random.uniform(0, ceiling)

    # --- proactive rate limiting ------------------------------------------------------------

    def _note_limit(self, response: requests.Response) -> None:
        if response.status_code < 400 and _limit_exhausted(response):
            reset = _header_float(response, "x-ratelimit-reset")
            if reset:
                with self._lock:  # a reset reported by another thread may be later
                    self._blocked_until = max(self._blocked_until, reset)

    def _wait_for_reset(self, request: requests.PreparedRequest) -> None:
        wait = self._blocked_until - time.time()
        if wait <= 0:
            return
        if wait > self.policy.max_wait:
            raise RateLimitExceeded(
                f"{_path(request)}: the rate limit is exhausted for {wait:.0f}s "
                f"(more than the {self.policy.max_wait:.0f}s allowed); try again later"
            )
        log.warning("rate limit exhausted; waiting %.0fs for its reset", wait)
        time.sleep(wait)


class _LockedCookieJar(RequestsCookieJar):
    """A jar that iterates over a snapshot taken under its lock. The standard library's jar
    locks its writes (a response's cookies) but not iteration, which requests does when it
    prepares every request: one thread's new cookie could break another's request."""

    def __iter__(self):  # type: ignore[override]
        with self._cookies_lock:
            return iter(list(super().__iter__()))


# --- response helpers ---------------------------------------------------------------------


def _path(request: requests.PreparedRequest) -> str:
    """The request's URL without its query string (which may carry filters, never secrets)."""
    return (request.url or "").split("?", 1)[0]


def _is_json(response: requests.Response) -> bool:
    return "json" in response.headers.get("content-type", "")


def _parse_json(response: requests.Response) -> bool:
    """Parse once and keep the result on the response, so callers do not parse again."""
    try:
        parsed = orjson.loads(response.content)
    except orjson.JSONDecodeError:
        try:  # what orjson refuses and JSON allows: integers beyond 64 bits
            parsed = json.loads(response.content)
        except ValueError:
            return False
    response.json = lambda **_: parsed  # type: ignore[method-assign]
    return True


def is_rate_limited(response: requests.Response) -> bool:
    """429, or a 403 that says it is a rate limit: an exhausted limit (`x-ratelimit-remaining:
    0`) or a `Retry-After` (GitHub's secondary limits). Any other 403 is a permission the
    credentials lack, which waiting does not cure."""
    status = response.status_code
    return status == 429 or (
        status == 403 and (_limit_exhausted(response) or "retry-after" in response.headers)
    )


def _limit_exhausted(response: requests.Response) -> bool:
    return response.headers.get("x-ratelimit-remaining") == "0"


def _header_float(response: requests.Response, name: str) -> float | None:
    try:
        return float(response.headers[name])
    except (KeyError, ValueError):
        return None


def _retry_after(response: requests.Response) -> float | None:
    value = response.headers.get("retry-after")
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        return max(0.0, parsedate_to_datetime(value).timestamp() - time.time())
    except (TypeError, ValueError):
        return None


def _rate_limit_delay(response: requests.Response) -> float | None:
    after = _retry_after(response)
    if after is not None:
        return after
    reset = _header_float(response, "x-ratelimit-reset")
    if reset is not None and _limit_exhausted(response):
        return max(0.0, reset - time.time()) + 1.0
    return None
