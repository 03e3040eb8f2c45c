"""Whether a source is configured: every vendor is optional.

An organisation without PagerDuty (or without an OpenAI account) simply sets none of that
source's settings. Such a source is *not configured*: it is not loaded, and the rest of the
warehouse is built without it. A source with only some of its required settings is
*misconfigured*, which is an error: its load fails with the names of the missing settings.

A setting is required when the source's function takes it as `dlt.secrets.value` or
`dlt.config.value`; dlt resolves it from the environment (`SOURCES__<SOURCE>__<SETTING>`) or
`.dlt/*.toml`, so this module asks dlt instead of reading either itself.

Every setting of a configured source is also checked against its rule (pipelines.settings)
before the source is built: a malformed value is named, as it is set, before any request.
"""

from __future__ import annotations

import inspect
from dataclasses import dataclass

from dlt.common.configuration.exceptions import ConfigFieldMissingException
from dlt.common.typing import ConfigValueSentinel

from pipelines.settings import SettingError, source_problems, source_setting_value
from pipelines.sources import SourceSpec
from pipelines.sources.failures import LoadFailed


class SourceSettingsInvalid(SettingError, LoadFailed):
    """A configured source with a setting that breaks its rule: a permanent failure (no
    retry can fix it), named setting by setting."""

    permanent = True  # SettingError's constructor runs, not LoadFailed's: say it here


@dataclass(frozen=True)
class SourceConfiguration:
    source: str
    required: tuple[str, ...]  # the settings the source cannot run without
    missing: tuple[str, ...]  # those of them that are not set
    problems: tuple[str, ...] = ()  # one line per set setting that breaks its rule

    @property
    def configured(self) -> bool:
        """False when none of the required settings is set: the source is not used."""
        return set(self.missing) != set(self.required)

    @property
    def complete(self) -> bool:
        return not self.missing

    def check(self) -> None:
        """Raise SourceSettingsInvalid when a setting of the configured source is broken."""
        if self.configured and self.problems:
            raise SourceSettingsInvalid(self.problems)

    def setting_names(self, names: tuple[str, ...]) -> str:
        return ", ".join(f"SOURCES__{self.source.upper()}__{n.upper()}" for n in names)

    @property
    def unset(self) -> str:
        """What is not set, e.g. "none of SOURCES__JIRA__BASE_URL, ... is set"."""
        names = self.setting_names(self.required)
        return f"{names} is not set" if len(self.required) == 1 else f"none of {names} is set"

    @property
    def reason(self) -> str:
        """One line for an operator: why the source is not loaded."""
        return (
            f"{self.source} is not configured ({self.unset}); it is not loaded and the marts "
            "that need it say so"
        )


def required_settings(spec: SourceSpec) -> tuple[str, ...]:
    """The source function's arguments that dlt must resolve from configuration."""
    return tuple(
        name
        for name, parameter in _parameters(spec.factory).items()
        if isinstance(parameter.default, ConfigValueSentinel)
    )


def settings(spec: SourceSpec) -> tuple[str, ...]:
    """Every argument the source takes from configuration: the source function's and those
    of the function that splits a load into checkpoints (GitHub's repositories per run)."""
    # (`checkpoints` is also given the source's state: not a setting.)
    split = [n for n, p in _parameters(spec.checkpoints).items() if p.default is not p.empty]
    names = [*_parameters(spec.factory), *split]
    return tuple(dict.fromkeys(names))


def _parameters(function) -> dict[str, inspect.Parameter]:
    return dict(inspect.signature(inspect.unwrap(function)).parameters)


def source_configuration(spec: SourceSpec) -> SourceConfiguration:
    """Resolve the source's configuration the way a load does (building the source makes
    no request) and report which required settings are missing and which are broken."""
    required = required_settings(spec)
    problems = tuple(source_problems(spec.name, settings(spec)))
    if problems:
        # dlt would fail to coerce a malformed value; which settings are set is enough here.
        missing = tuple(n for n in required if _unset(spec.name, n))
        return SourceConfiguration(spec.name, required, missing, problems)
    try:
        spec.factory()
    except ConfigFieldMissingException as exc:
        missing = tuple(name for name in required if name in exc.fields)
        return SourceConfiguration(spec.name, required, missing)
    return SourceConfiguration(spec.name, required, ())


def _unset(source: str, setting: str) -> bool:
    return source_setting_value(source, setting) is None
