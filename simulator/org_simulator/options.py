"""Organisations other than the full one, from the same simulation.

A real organisation may use any subset of the vendors, have billing reports that are empty
every day, and get vendor objects without the fields a vendor may leave out. Three options make
the simulated organisation so, each where it acts:

- `vendors` (serving): the vendors the organisation uses. Only they get loader settings
  (`simulator_sources_env(sim, vendors=...)`); the others are simply not configured.
- `empty_billing` (generation): the billing providers whose usage and cost reports (Claude
  Code's included) are empty: the account exists (workspaces, projects, users, keys) but
  nothing was used. The ground truth follows: no spend from them. A different store, so
  `generate_org(..., empty_billing=...)`.
- `absent_fields` (serving): vendor -> fields the server leaves out of every object it
  renders (`SimulatorServer(..., absent_fields=...)`), as a vendor may omit optional fields.
- `merge_styles` (generation): the merge styles PRs land with (`merge`, `squash`, `rebase`;
  default all three, each repository with a habit of its own).
- `environments` (generation): the production environments every repository deploys to,
  named as a team would (`PRODUCTION`, `prod-eu`...); a name ending in `:production` is one
  its deploy workflow flags `production_environment: true`. Default: the varied naming of
  `org_simulator.deploys`.

The generation options make a different store (`Generation`, `generate_org(...,
generation=...)`); the serving options apply to any store.

Presets name the usual combinations; the command line takes a preset and the three flags
(`simulate`, `serve` and `demo`).
"""

from __future__ import annotations

import argparse
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from org_simulator.deploys import Target
from org_simulator.git_history import MERGE_STYLES
from org_simulator.http import dumps

VENDORS = ("github", "jira", "pagerduty", "anthropic", "openai")
BILLING_PROVIDERS = ("anthropic", "openai")
# Fields the vendors document as optional that the warehouse reads (declared nullable by the
# loaders): the `sparse-fields` preset leaves them all out.
OPTIONAL_FIELDS: dict[str, tuple[str, ...]] = {
    "github": ("check_suite_id",),
    "pagerduty": ("assigned_via", "is_mergeable"),
}


@dataclass(frozen=True)
class Generation:
    """The options that shape the generated organisation: each value is a store of its own."""

    empty_billing: tuple[str, ...] = ()
    merge_styles: tuple[str, ...] = MERGE_STYLES
    environments: tuple[str, ...] = ()  # empty: the varied naming of the deploys module

    def __post_init__(self) -> None:
        _known("billing provider", self.empty_billing, BILLING_PROVIDERS)
        _known("merge style", self.merge_styles, MERGE_STYLES)
        if not self.merge_styles:
            raise ValueError("give at least one merge style")
        for name in self.environments:
            if not name.removesuffix(PRODUCTION_FLAG).strip():
                raise ValueError(f"an environment needs a name, not {name!r}")

    def targets(self) -> tuple[Target, ...] | None:
        """Every repository's production environments, when named here."""
        if not self.environments:
            return None
        return tuple(
            Target(name.removesuffix(PRODUCTION_FLAG), flag=True)
            if name.endswith(PRODUCTION_FLAG)
            else Target(name)
            for name in self.environments
        )

    @property
    def suffix(self) -> str:
        """What tells this organisation's store from the default one's, in its file name."""
        parts = [f"-empty-{provider}" for provider in sorted(self.empty_billing)]
        if self.merge_styles != MERGE_STYLES:
            parts.append("-" + "-".join(self.merge_styles))
        if self.environments:
            parts.append("-env-" + _slug("-".join(self.environments)))
        return "".join(parts)

    def meta(self) -> dict[str, str]:
        """The options as the store's org_meta rows keep them."""
        return {
            "empty_billing": ",".join(self.empty_billing),
            "merge_styles": ",".join(self.merge_styles),
            "environments": ",".join(self.environments),
        }


# An environment the deploy workflow flags production_environment: true, e.g. `eu-1:production`.
PRODUCTION_FLAG = ":production"


@dataclass(frozen=True)
class OrgOptions:
    vendors: tuple[str, ...] = VENDORS
    empty_billing: tuple[str, ...] = ()
    absent_fields: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    merge_styles: tuple[str, ...] = MERGE_STYLES
    environments: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        _known("vendor", self.vendors, VENDORS)
        _known("vendor", self.absent_fields, VENDORS)
        self.generation  # noqa: B018 - refuses unknown generation options now

    @property
    def generation(self) -> Generation:
        return Generation(self.empty_billing, self.merge_styles, self.environments)


def _known(kind: str, values: Iterable[str], known: tuple[str, ...]) -> None:
    unknown = sorted(set(values) - set(known))
    if unknown:
        raise ValueError(f"unknown {kind} {', '.join(unknown)}; known: {', '.join(known)}")


def _without(*vendors: str) -> tuple[str, ...]:
    return tuple(v for v in VENDORS if v not in vendors)


PRESETS: dict[str, OrgOptions] = {
    "full": OrgOptions(),
    **{f"no-{vendor}": OrgOptions(vendors=_without(vendor)) for vendor in VENDORS},
    "no-billing": OrgOptions(vendors=_without(*BILLING_PROVIDERS)),
    "empty-billing": OrgOptions(empty_billing=BILLING_PROVIDERS),
    "sparse-fields": OrgOptions(absent_fields=OPTIONAL_FIELDS),
    **{f"{style}-merges": OrgOptions(merge_styles=(style,)) for style in MERGE_STYLES},
    # Production only by name, in the case teams type: no flag, no lower-case name.
    "shouted-environments": OrgOptions(environments=("PRODUCTION", "PROD-EU")),
}


def without_fields(value: Any, names: Iterable[str]) -> Any:
    """`value` (rendered JSON, or its encoded bytes) with the keys `names` left out of every
    object, at any depth. (GitHub's answers arrive encoded, their ETag computed on the whole
    body: a conditional request is then answered in full, never 304.)"""
    names = frozenset(names)
    if isinstance(value, bytes):
        return dumps(without_fields(json.loads(value), names)) if value else value
    if isinstance(value, dict):
        return {k: without_fields(v, names) for k, v in value.items() if k not in names}
    if isinstance(value, list):
        return [without_fields(v, names) for v in value]
    return value


# --- command line ------------------------------------------------------------------------


def add_arguments(parser: argparse.ArgumentParser, *, serving: bool = True) -> None:
    """The organisation options of `simulate` (generation only) or `serve` / `demo`."""
    parser.add_argument(
        "--preset", choices=sorted(PRESETS), default="full", help="a named set of the options"
    )
    parser.add_argument(
        "--empty-billing",
        metavar="PROVIDERS",
        help="comma-separated billing providers whose reports are empty (anthropic,openai)",
    )
    parser.add_argument(
        "--merge-styles",
        metavar="STYLES",
        help="comma-separated merge styles PRs land with (merge,squash,rebase; default all)",
    )
    parser.add_argument(
        "--environments",
        metavar="NAMES",
        help="comma-separated production environments of every repository, e.g. "
        "'PRODUCTION,eu-1:production' (:production = flagged production_environment)",
    )
    if serving:
        parser.add_argument(
            "--vendors",
            metavar="VENDORS",
            help="comma-separated vendors the organisation uses (default: all five)",
        )
        parser.add_argument(
            "--absent-field",
            action="append",
            default=[],
            metavar="VENDOR:FIELD",
            help="leave FIELD out of VENDOR's objects (repeatable), e.g. pagerduty:assigned_via",
        )


def from_arguments(args: argparse.Namespace) -> OrgOptions:
    """The preset, with what the flags say instead."""
    preset = PRESETS[args.preset]
    absent = {vendor: list(fields) for vendor, fields in preset.absent_fields.items()}
    for spec in getattr(args, "absent_field", None) or []:
        vendor, sep, name = spec.partition(":")
        if not sep or not name:
            raise ValueError(f"--absent-field takes VENDOR:FIELD, not {spec!r}")
        absent.setdefault(vendor, []).append(name)
    vendors = getattr(args, "vendors", None)
    return OrgOptions(
        vendors=_split(vendors) if vendors else preset.vendors,
        empty_billing=_split(args.empty_billing) if args.empty_billing else preset.empty_billing,
        absent_fields={vendor: tuple(fields) for vendor, fields in absent.items()},
        merge_styles=_split(args.merge_styles) if args.merge_styles else preset.merge_styles,
        environments=_split(args.environments) if args.environments else preset.environments,
    )


def _split(text: str) -> tuple[str, ...]:
    return tuple(part.strip() for part in text.split(",") if part.strip())


def _slug(text: str) -> str:
    return "".join(c if c.isalnum() or c in "-_" else "_" for c in text)
