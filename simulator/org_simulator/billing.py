"""LLM usage of one team: API keys, daily token usage per key and model, Claude Code reports.

Costs are never stored: the vendor APIs price tokens with `llm_model_prices`, so the cost
report always reconciles with usage, as the real providers' reports do.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal

from org_simulator.catalog import ANTHROPIC_MIX, MODELS, MODELS_BY_NAME, OPENAI_MIX
from org_simulator.people import Person
from org_simulator.timeline import days_between, is_weekend, rng_for

TYPICAL_DAILY_USD = 6.0  # a typical user's spend on a working day
ANTHROPIC_KINDS = ("uncached_input", "cache_write_5m", "cache_write_1h", "cache_read", "output")


@dataclass(frozen=True)
class ApiKey:
    provider: str
    id: str
    name: str
    scope_id: str  # Anthropic workspace or OpenAI project
    owner: Person | None  # None: a shared key
    seed_person: str | None  # what the api_keys seed maps the key to
    seed_team: str | None


def token_cost(model: str, tokens: dict[str, int]) -> Decimal:
    prices = MODELS_BY_NAME[model].prices
    if MODELS_BY_NAME[model].provider == "openai":
        uncached = tokens["input"] - tokens["cached_input"]
        usd = uncached * prices["input"] + tokens["cached_input"] * prices["cached_input"]
        usd += tokens["output"] * prices["output"]
    else:
        usd = sum(tokens[k] * prices[k] for k in ANTHROPIC_KINDS)
    return usd / Decimal(1_000_000)


def _tokens_for(model: str, usd: float) -> dict[str, int]:
    """Tokens of a typical mix that cost about `usd` on this model."""
    m = MODELS_BY_NAME[model]
    mix = ANTHROPIC_MIX if m.provider == "anthropic" else OPENAI_MIX
    if m.provider == "anthropic":
        unit = sum(Decimal(str(mix[k])) * m.prices[k] for k in ANTHROPIC_KINDS)
    else:
        unit = (
            Decimal(str(mix["input"] - mix["cached_input"])) * m.prices["input"]
            + Decimal(str(mix["cached_input"])) * m.prices["cached_input"]
            + Decimal(str(mix["output"])) * m.prices["output"]
        )
    base = float(Decimal(str(usd)) * 1_000_000 / unit)
    return {k: max(0, int(base * v)) for k, v in mix.items()}


class TeamBilling:
    def __init__(
        self,
        seed: int,
        team_index: int,
        team_id: str,
        people: list[Person],
        workspace_id: str,
        project_id: str,
        start: date,
        as_of: datetime,
    ):
        self.seed, self.index, self.team_id = seed, team_index, team_id
        self.people, self.workspace_id, self.project_id = people, workspace_id, project_id
        self.start, self.end = start, as_of.date()
        self.keys = self._make_keys()

    def _make_keys(self) -> list[ApiKey]:
        rng = rng_for(self.seed, "keys", self.index)
        keys = []
        for p in self.people:
            for provider in p.providers:
                prefix = "apikey_01" if provider == "anthropic" else "key_"
                key_id = f"{prefix}{p.person_id}{rng.randrange(10**6):06d}"
                scope = self.workspace_id if provider == "anthropic" else self.project_id
                # Most keys are in the api_keys seed; some were never registered there.
                mapped = p.in_people_seed and rng.random() < 0.9
                keys.append(
                    ApiKey(
                        provider,
                        key_id,
                        f"{p.github_login}-laptop",
                        scope,
                        p,
                        p.person_id if mapped else None,
                        None,
                    )
                )
        shared_mapped = rng.random() < 0.6
        for provider in ("anthropic", "openai"):
            scope = self.workspace_id if provider == "anthropic" else self.project_id
            prefix = "apikey_01" if provider == "anthropic" else "key_"
            key_id = f"{prefix}shared{self.index:04d}{provider[:2]}"
            keys.append(
                ApiKey(
                    provider,
                    key_id,
                    f"team-{self.team_id}-ci",
                    scope,
                    None,
                    None,
                    self.team_id if shared_mapped else None,
                )
            )
        return keys

    def usage(self) -> Iterator[tuple[str, dict]]:
        """(table, row) for every usage record of the team, day by day."""
        for day in days_between(self.start, self.end):
            yield from self._day(day)

    def _day(self, day: date) -> Iterator[tuple[str, dict]]:
        rng = rng_for(self.seed, "usage", self.index, day)
        weekend = is_weekend(day)
        for key in self.keys:
            owner = key.owner
            if owner is None:
                usd = rng.uniform(0.5, 4.0) * (0.3 if weekend else 1.0)
                models = (
                    ["claude-haiku-4-5-20251001"]
                    if key.provider == "anthropic"
                    else ["gpt-5-mini-2025-08-07"]
                )
            else:
                if rng.random() < (0.8 if weekend else 0.08):
                    continue  # a day off
                usd = TYPICAL_DAILY_USD * owner.spend_multiplier * rng.lognormvariate(0, 0.5)
                usd /= len(owner.providers)
                models = self._models(rng, key.provider, owner)
            shares = [rng.random() + 0.2 for _ in models]
            for model, share in zip(models, shares, strict=True):
                tokens = _tokens_for(model, usd * share / sum(shares))
                if key.provider == "anthropic":
                    yield (
                        "anthropic_messages_usage",
                        {
                            "bucket_date": day,
                            "api_key_id": key.id,
                            "workspace_id": key.scope_id,
                            "model": model,
                            "service_tier": "standard",
                            "context_window": "0-200k",
                            "uncached_input_tokens": tokens["uncached_input"],
                            "cache_creation_5m_input_tokens": tokens["cache_write_5m"],
                            "cache_creation_1h_input_tokens": tokens["cache_write_1h"],
                            "cache_read_input_tokens": tokens["cache_read"],
                            "output_tokens": tokens["output"],
                            "web_search_requests": rng.randrange(3) if rng.random() < 0.1 else 0,
                        },
                    )
                else:
                    yield (
                        "openai_completions_usage",
                        {
                            "bucket_date": day,
                            "project_id": key.scope_id,
                            "user_id": owner.openai_user_id if owner else None,
                            "api_key_id": key.id,
                            "model": model,
                            "batch": False,
                            "service_tier": "default",
                            "input_tokens": tokens["input"],
                            "input_cached_tokens": tokens["cached_input"],
                            "output_tokens": tokens["output"],
                            "num_model_requests": max(1, tokens["output"] // 900),
                        },
                    )
            if key.provider == "anthropic" and owner is not None and owner.uses_claude_code:
                yield "anthropic_claude_code_usage", self._claude_code(rng, day, key, owner)

    def _models(self, rng, provider: str, owner: Person) -> list[str]:
        names = [m.name for m in MODELS if m.provider == provider]
        # Heavy spenders lean on the frontier tier; everyone mixes in others some days.
        frontier = names[0]
        if owner.spend_multiplier > 8 or rng.random() < 0.25:
            return [frontier] + ([names[1]] if rng.random() < 0.5 else [])
        return [names[1]] + ([names[2]] if rng.random() < 0.5 else [])

    def _claude_code(self, rng, day: date, key: ApiKey, owner: Person) -> dict:
        """Claude Code's per-actor view of the same day (its tokens are the key's usage)."""
        as_user = rng.random() < 0.85
        return {
            "date": day,
            "actor_type": "user_actor" if as_user else "api_actor",
            "email_address": (owner.work_email if rng.random() < 0.9 else owner.personal_email)
            if as_user
            else None,
            "api_key_name": None if as_user else key.name,
            "terminal_type": rng.choice(["vscode", "iTerm.app", "tmux", "cursor"]),
            "num_sessions": rng.randint(1, 9),
            "lines_added": rng.randint(10, 2000),
            "lines_removed": rng.randint(0, 800),
            "commits_by_claude_code": rng.randint(0, 6),
            "pull_requests_by_claude_code": rng.randint(0, 2),
            "edit_accepted": rng.randint(5, 120),
            "edit_rejected": rng.randint(0, 15),
            "write_accepted": rng.randint(0, 30),
            "write_rejected": rng.randint(0, 5),
            "model_breakdown": "{MODEL_BREAKDOWN}",  # filled from the usage rows of the day
            "_key": key.id,
        }


def claude_code_breakdown(rows: list[dict]) -> str:
    """model_breakdown of a Claude Code record from the key's messages usage that day."""
    out = []
    for r in sorted(rows, key=lambda r: r["model"]):
        tokens = {
            "uncached_input": r["uncached_input_tokens"],
            "cache_write_5m": r["cache_creation_5m_input_tokens"],
            "cache_write_1h": r["cache_creation_1h_input_tokens"],
            "cache_read": r["cache_read_input_tokens"],
            "output": r["output_tokens"],
        }
        cents = token_cost(r["model"], tokens) * 100
        out.append(
            {
                "model": r["model"],
                "tokens": {
                    "input": tokens["uncached_input"],
                    "output": tokens["output"],
                    "cache_read": tokens["cache_read"],
                    "cache_creation": tokens["cache_write_5m"] + tokens["cache_write_1h"],
                },
                "estimated_cost": {"currency": "USD", "amount": float(round(cents, 4))},
            }
        )
    return json.dumps(out, separators=(",", ":"))
