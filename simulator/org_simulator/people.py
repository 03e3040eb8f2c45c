"""People of a team and the organisation's bots, with identities that differ per system."""

from __future__ import annotations

import random
import string
import unicodedata
from dataclasses import dataclass

from org_simulator.catalog import BOTS, EMAIL_DOMAIN, FIRST_NAMES, LAST_NAMES


@dataclass
class Person:
    person_id: str
    display_name: str
    team_id: str | None
    role: str
    work_email: str | None
    personal_email: str | None
    github_login: str
    github_id: int
    jira_account_id: str | None
    pagerduty_user_id: str | None
    openai_user_id: str | None
    is_bot: bool
    is_agent: bool
    in_people_seed: bool
    spend_multiplier: float  # 0 = does not use LLMs; heavy-tailed across people
    ai_propensity: float  # share of their PRs made with an AI tool
    commit_email_style: str  # work | noreply | personal
    tools: tuple[str, ...]  # AI coding tools this person uses
    providers: tuple[str, ...]  # LLM providers their spend goes to
    uses_claude_code: bool

    @property
    def noreply_email(self) -> str:
        return f"{self.github_id}+{self.github_login}@users.noreply.github.com"

    @property
    def commit_email(self) -> str:
        if self.commit_email_style == "noreply" or not self.work_email:
            return self.noreply_email
        if self.commit_email_style == "personal":
            return self.personal_email or self.work_email
        return self.work_email

    @property
    def is_human(self) -> bool:
        return not self.is_bot


def _ascii(text: str) -> str:
    folded = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    return "".join(c for c in folded.lower() if c.isalnum())


def _alnum(rng: random.Random, n: int, alphabet: str = string.ascii_lowercase + string.digits):
    return "".join(rng.choice(alphabet) for _ in range(n))


def spend_multiplier(rng: random.Random) -> float:
    """Heavy-tailed daily spend relative to a typical user: most near 1, a few in the hundreds."""
    u = rng.random()
    if u < 0.15:
        return 0.0  # does not use LLMs at all
    if u < 0.80:
        return rng.lognormvariate(0.0, 0.6)
    if u < 0.95:
        return rng.lognormvariate(2.5, 0.5)  # heavy: ~12x
    return rng.lognormvariate(5.3, 0.4)  # extreme: ~200x


def make_team_people(rng: random.Random, team_id: str, team_index: int, count: int) -> list[Person]:
    people = []
    for i in range(count):
        first = FIRST_NAMES[(team_index * 7 + i * 3 + rng.randrange(5)) % len(FIRST_NAMES)]
        last = rng.choice(LAST_NAMES)
        pid = f"p{team_index:04d}{i:02d}"
        login_base = _ascii(first) + _ascii(last)[:4]
        login = rng.choice([login_base, f"{_ascii(first)}-{_ascii(last)}", f"{login_base}{i}"])
        login = f"{login}-{team_index}" if team_index >= 10 else login
        multiplier = spend_multiplier(rng)
        uses_ai = multiplier > 0
        role = "manager" if i == 0 else ("senior engineer" if rng.random() < 0.35 else "engineer")
        contractor = rng.random() < 0.08  # not in the identity seed: cannot be resolved by id
        providers = (
            ()
            if not uses_ai
            else rng.choice([("anthropic",), ("anthropic",), ("openai",), ("anthropic", "openai")])
        )
        tools = ()
        if uses_ai:
            tools = tuple(
                sorted(
                    set(
                        rng.choices(
                            ["claude", "copilot", "cursor", "codex", "aider", "gemini"],
                            weights=[5, 3, 2, 2, 1, 1],
                            k=rng.randint(1, 2),
                        )
                    )
                )
            )
        people.append(
            Person(
                person_id=pid,
                display_name=f"{first} {last}",
                team_id=team_id,
                role=role,
                work_email=f"{_ascii(first)}.{_ascii(last)}{team_index}@{EMAIL_DOMAIN}",
                personal_email=f"{_ascii(first)}{_alnum(rng, 3, string.digits)}@mail.example",
                github_login=login,
                github_id=10_000_000 + team_index * 1000 + i,
                jira_account_id="712020:" + _alnum(rng, 24, "0123456789abcdef"),
                pagerduty_user_id="P" + _alnum(rng, 6, string.ascii_uppercase + string.digits),
                openai_user_id="user-" + _alnum(rng, 24, string.ascii_letters + string.digits),
                is_bot=False,
                is_agent=False,
                in_people_seed=not contractor,
                spend_multiplier=multiplier,
                # More spend, more of the work done with an AI tool (saturating).
                ai_propensity=0.0 if not uses_ai else min(0.95, 0.25 + 0.15 * multiplier**0.5),
                commit_email_style=rng.choices(["work", "noreply", "personal"], [70, 20, 10])[0],
                tools=tools,
                providers=providers,
                uses_claude_code="anthropic" in providers and "claude" in tools,
            )
        )
    return people


def make_bots() -> list[Person]:
    bots = []
    for i, bot in enumerate(BOTS):
        bots.append(
            Person(
                person_id=f"bot{i:02d}",
                display_name=bot.login,
                team_id=None,
                role="agent" if bot.is_agent else "bot",
                work_email=None,
                personal_email=None,
                github_login=bot.login,
                github_id=90_000_000 + i,
                jira_account_id=None,
                pagerduty_user_id=None,
                openai_user_id=None,
                is_bot=True,
                is_agent=bot.is_agent,
                in_people_seed=bot.is_agent,  # agents are listed; utility bots are not
                spend_multiplier=0.0,
                ai_propensity=1.0 if bot.is_agent else 0.0,
                commit_email_style="noreply",
                tools=(),
                providers=(),
                uses_claude_code=False,
            )
        )
    return bots
