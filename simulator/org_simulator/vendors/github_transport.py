"""GitHub REST transport for the simulator: auth, errors, rate limit, ETags and Link pages.

Everything here is about how GitHub answers, not what it answers: the bodies come from
`github_objects` and the handlers in `github`. Rate-limit windows and reset epochs use real
wall time (transport); the bodies depend only on the store, the clock and the request.
"""

from __future__ import annotations

import hashlib
import math
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache
from urllib.parse import urlencode

from org_simulator.credentials import SIM_CREDENTIALS
from org_simulator.http import ApiError, Request, Response, dumps

DOCS = "https://docs.github.com/rest"
RATE_LIMIT_DOCS = (
    "https://docs.github.com/rest/overview/rate-limits-for-the-rest-api#about-primary-rate-limits"
)
API_VERSION = "2022-11-28"

# The primary rate limit of a GitHub App installation token on Enterprise Cloud (a personal
# token gets 5,000); tests may lower it (module attribute).
RATE_LIMIT = 15000
WINDOW_SECONDS = 3600
UNAUTHENTICATED_LIMIT = 60


# --- auth and errors ------------------------------------------------------------------------


def token_of(req: Request) -> str | None:
    """The token of an `Authorization: Bearer <t>` or `Authorization: token <t>` header."""
    return _token(req.headers.get("authorization", ""))


@lru_cache(maxsize=64)  # a few clients' headers, read several times per request
def _token(header: str) -> str | None:
    raw = header.strip()
    scheme, _, token = raw.partition(" ")
    if scheme.lower() in ("bearer", "token") and token.strip():
        return token.strip()
    return None


def authenticate(req: Request) -> bool:
    return token_of(req) == SIM_CREDENTIALS["github"]


def error_body(status: int, message: str) -> dict[str, str]:
    """GitHub's error shape; the wording GitHub uses for the statuses it words itself."""
    documentation_url = DOCS
    if status == 401:
        message = "Bad credentials"
    elif status == 404:
        message = "Not Found"
    elif status in (403, 429) and "rate limit" in message.lower():
        message = (
            "API rate limit exceeded for user ID 1. If you reach out to GitHub Support for "
            "help, please include the request ID."
        )
        documentation_url = RATE_LIMIT_DOCS
    return {"message": message, "documentation_url": documentation_url, "status": str(status)}


# --- rate limit -----------------------------------------------------------------------------


@dataclass
class _Window:
    reset: int  # epoch seconds at which the window ends
    used: int = 0


_LOCK = threading.Lock()
# (server base URL, token) -> its current window. The vendor module is shared by every
# SimulatorServer in the process, so windows are keyed by the server's base URL.
_WINDOWS: dict[tuple[str, str], _Window] = {}


def _key(req: Request) -> tuple[str, str]:
    return req.base_url, token_of(req) or ""


def _window(key: tuple[str, str], now: float) -> _Window:
    """The live window of a key (caller holds _LOCK); a new one once the old has reset."""
    window = _WINDOWS.get(key)
    if window is None or now >= window.reset:
        window = _WINDOWS[key] = _Window(reset=int(now) + WINDOW_SECONDS)
    return window


def _reserve(req: Request) -> None:
    """Count one request against the token, or refuse it once the limit is spent."""
    with _LOCK:
        window = _window(_key(req), time.time())
        if window.used >= RATE_LIMIT:
            raise ApiError(403, "API rate limit exceeded")
        window.used += 1


def _refund(req: Request) -> None:
    """Give back a reserved request (answered 304: conditional hits are free)."""
    with _LOCK:
        window = _WINDOWS.get(_key(req))
        if window is not None and window.used > 0:
            window.used -= 1


def reset_rate_limits() -> None:
    """Forget every window (tests)."""
    with _LOCK:
        _WINDOWS.clear()


def _rate_headers(req: Request, response: Response) -> dict[str, str]:
    wall = time.time()
    if response.headers.get("x-simulated-fault") == "rate_limit":
        try:
            retry_after = int(response.headers.get("retry-after", "60"))
        except ValueError:
            retry_after = 60
        limit, used, reset = RATE_LIMIT, RATE_LIMIT, int(wall) + max(retry_after, 1)
    elif response.status == 401 or token_of(req) is None:
        limit, used, reset = UNAUTHENTICATED_LIMIT, 0, int(wall) + WINDOW_SECONDS
    else:
        with _LOCK:
            window = _window(_key(req), wall)
            limit, used, reset = RATE_LIMIT, window.used, window.reset
    return {
        "x-ratelimit-limit": str(limit),
        "x-ratelimit-remaining": str(max(limit - used, 0)),
        "x-ratelimit-used": str(min(used, limit)),
        "x-ratelimit-reset": str(reset),
        "x-ratelimit-resource": "core",
    }


# --- ETags ----------------------------------------------------------------------------------


def etag_of(data: bytes) -> str:
    return 'W/"' + hashlib.sha256(data).hexdigest() + '"'


def _etag(response: Response) -> str:
    """The ETag of the response's body as it stands, computed once per body."""
    body = response.encoded()
    known = response.etag_of_body
    if known is None or known[0] is not body:
        known = response.etag_of_body = (body, etag_of(body))
    return known[1]


def _opaque(tag: str) -> str:
    tag = tag.strip()
    if tag.startswith("W/"):
        tag = tag[2:]
    return tag.strip('"')


def _matches(req: Request, etag: str) -> bool:
    raw = req.headers.get("if-none-match")
    if not raw:
        return False
    wanted = _opaque(etag)
    return any(t.strip() == "*" or _opaque(t) == wanted for t in raw.split(","))


# --- the wrapper every route runs through, and the decoration of every answer -------------


def guard(req: Request, render: Callable[[], Response]) -> Response:
    """Rate-limit every request, and answer 304 to a matching ETag. `render` gives the
    route's answer (perhaps a cached page): this runs on every request, cached or not."""
    _reserve(req)
    response = render()  # an ApiError stays counted, as GitHub counts a 404
    if response.status == 200 and not isinstance(response.body, bytes):
        response.body = dumps(response.body)
    etag = _etag(response) if response.status == 200 else None
    if etag and _matches(req, etag):
        _refund(req)
        kept = {k: v for k, v in response.headers.items() if k.lower() == "link"}
        return Response(304, None, {**kept, "etag": etag})
    return response


def decorate(req: Request, response: Response) -> None:
    """Headers of every GitHub answer: API version, rate limit, and the body's ETag."""
    headers = response.headers
    headers.setdefault("x-github-api-version-selected", API_VERSION)
    headers.setdefault("x-github-media-type", "github.v3; format=json")
    headers.update(_rate_headers(req, response))
    if response.status == 200:
        headers["etag"] = _etag(response)
        headers.setdefault("cache-control", "private, max-age=60, s-maxage=60")
        headers.setdefault("vary", "Accept, Authorization, Cookie, X-GitHub-OTP")


# --- pagination -----------------------------------------------------------------------------


@dataclass
class Page:
    page: int
    per_page: int
    offset: int
    reachable: int  # how many items page-walking can reach (a cap may hide the rest)
    total: int = 0  # how many items there are


def page_args(req: Request, default: int = 30) -> tuple[int, int]:
    """(page, per_page) as GitHub reads them: per_page clamped to 100, pages from 1."""
    per_page = _int(req, "per_page", default)
    per_page = default if per_page < 1 else min(per_page, 100)
    return max(_int(req, "page", 1), 1), per_page


def _int(req: Request, name: str, default: int) -> int:
    raw = req.arg(name)
    if raw is None or raw == "":
        return default
    try:
        return int(raw)
    except ValueError as exc:
        raise ApiError(400, f"{name} must be an integer") from exc


def link_header(req: Request, page: Page) -> str | None:
    """GitHub's Link header: prev, next, last, first as they apply; absolute URLs."""
    last = max(1, math.ceil(page.reachable / page.per_page))
    rels: list[tuple[int, str]] = []
    if page.page > 1:
        rels.append((page.page - 1, "prev"))
    if page.page < last:
        rels.append((page.page + 1, "next"))
        rels.append((last, "last"))
    if page.page > 1:
        rels.append((1, "first"))
    if not rels:
        return None
    return ", ".join(f'<{_page_url(req, n)}>; rel="{rel}"' for n, rel in rels)


def _page_url(req: Request, n: int) -> str:
    pairs = [(k, v) for k, values in req.query.items() if k != "page" for v in values]
    pairs.append(("page", str(n)))
    return req.base_url + req.path + "?" + urlencode(pairs)


def paged(req: Request, page: Page, body: object) -> Response:
    """A 200 with the page's Link header."""
    response = Response(200, body)
    link = link_header(req, page)
    if link:
        response.headers["link"] = link
    return response
