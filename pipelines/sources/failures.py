"""One clear line for an operator when a load fails, with every configured secret masked."""

from __future__ import annotations

import os

import requests
from dlt.common.configuration.exceptions import ConfigFieldMissingException
from dlt.common.schema.exceptions import DataValidationError

SECRET_SETTINGS = ("ACCESS_TOKEN", "API_TOKEN", "API_KEY", "ADMIN_API_KEY")
MASK = "***"


class LoadFailed(RuntimeError):
    """A load that could not finish; the message is safe to print."""


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
