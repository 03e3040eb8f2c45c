"""One clear line for an operator when a load fails, with every configured secret masked, and
whether trying again can help.

A failure is *permanent* when the same request would fail the same way until someone changes
something: refused credentials (401), a permission the token lacks (403 that is not a rate
limit), a wrong base URL or name (404 and the other client errors), an incomplete or malformed
configuration, or a schema contract the vendor's data broke. Everything else is *transient*: a
rate limit (429, or 403 with rate-limit headers), a server error (5xx), a dropped connection, a
timeout, a broken body, a busy vendor, and any error this module cannot place (retrying a load
costs only time: loads are idempotent). Dagster retries a transient failure and not a permanent
one (pipelines.orchestration.dlt.assets).
"""

from __future__ import annotations

import os

import requests
from dlt.common.configuration.exceptions import (
    ConfigFieldMissingException,
    ConfigurationException,
)
from dlt.common.schema.exceptions import DataValidationError

from pipelines.sources.http_session import is_rate_limited

SECRET_SETTINGS = ("ACCESS_TOKEN", "API_TOKEN", "API_KEY", "ADMIN_API_KEY")
MASK = "***"


class LoadFailed(RuntimeError):
    """A load that could not finish; the message is safe to print. `permanent`: trying again
    cannot help until the cause is fixed (see the module's docstring)."""

    def __init__(self, message: str, *, permanent: bool = False) -> None:
        super().__init__(message)
        self.permanent = permanent

    @classmethod
    def from_error(cls, exc: BaseException, source: str, suffix: str = "") -> LoadFailed:
        """The failure `exc` caused, described and classified."""
        return cls(describe(exc, source) + suffix, permanent=is_permanent(exc))


def is_permanent(exc: BaseException) -> bool:
    """True when the failure cannot pass by itself: decided by the most specific error in the
    chain that says, as `describe` words it."""
    for err in _chain(exc):
        if isinstance(err, ConfigurationException | DataValidationError):
            return True
        if isinstance(err, requests.HTTPError) and err.response is not None:
            return _permanent_answer(err.response)
    return False


def _permanent_answer(response: requests.Response) -> bool:
    """A client error other than a timeout (408) or a rate limit; never a 5xx, nor a 2xx whose
    body was broken (the session's RetriesExhausted)."""
    status = response.status_code
    if not 400 <= status < 500 or status == 408:
        return False
    return not is_rate_limited(response)


def configured_secrets() -> list[str]:
    """The secret values configured for any source, in the environment or dlt's secrets."""
    values = [
        value
        for key, value in os.environ.items()
        if key.startswith("SOURCES__") and key.rsplit("__", 1)[-1] in SECRET_SETTINGS
    ]
    try:
        import dlt

        from pipelines.sources import SOURCES

        for name in SOURCES:
            for setting in SECRET_SETTINGS:
                value = dlt.secrets.get(f"sources.{name}.{setting.lower()}")
                if isinstance(value, str):
                    values.append(value)
    except Exception:  # noqa: BLE001 - masking must never be the thing that fails
        pass
    return sorted({v for v in values if len(v) >= 4}, key=len, reverse=True)


def redact(text: str) -> str:
    for secret in configured_secrets():
        text = text.replace(secret, MASK)
    return text


def describe(exc: BaseException, source: str) -> str:
    """What went wrong, from the most specific error in the chain."""
    for err in _chain(exc):
        if isinstance(err, ConfigFieldMissingException):
            names = ", ".join(f"SOURCES__{source.upper()}__{f.upper()}" for f in err.fields)
            return (
                f"{source}: missing configuration {names} "
                "(set it in the environment or in .dlt/secrets.toml)"
            )
        if isinstance(err, requests.HTTPError) and err.response is not None:
            return redact(f"{source}: {_http_summary(err)}")
        if isinstance(err, DataValidationError):
            return redact(
                f"{source}: schema contract violated in table {err.table_name!r}, "
                f"column {err.column_name!r}: its {err.schema_entity} is frozen and a record "
                "brought another; the API changed a type: update the loader's columns and reload"
            )
    for err in _chain(exc):
        if isinstance(err, requests.RequestException):
            return redact(f"{source}: {type(err).__name__}: {err}")
    innermost = list(_chain(exc))[-1]
    return redact(f"{source}: {type(innermost).__name__}: {innermost}")


def _http_summary(err: requests.HTTPError) -> str:
    response = err.response
    url = (response.url or "").split("?", 1)[0]
    detail = (response.text or "").strip().replace("\n", " ")[:300]
    hint = {
        401: "the credentials were refused",
        403: "the credentials lack a permission (or the rate limit is exhausted)",
        404: "not found: check the base URL and the configured names",
    }.get(response.status_code, "")
    text = str(err) if not str(err).startswith(str(response.status_code)) else ""
    parts = [f"HTTP {response.status_code} from {url}", hint, text, detail]
    return "; ".join(p for p in parts if p)


def _chain(exc: BaseException):
    seen: set[int] = set()
    err: BaseException | None = exc
    while err is not None and id(err) not in seen:
        seen.add(id(err))
        yield err
        inner = getattr(err, "exception", None)  # dlt's PipelineStepFailed keeps it here
        err = inner if isinstance(inner, BaseException) else (err.__cause__ or err.__context__)
