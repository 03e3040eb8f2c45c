"""Small helpers for simulated time and randomness, shared by the team simulation."""

from __future__ import annotations

import math
import random
from datetime import date, datetime, time, timedelta


def rng_for(*parts: object) -> random.Random:
    """An independent, reproducible random stream for one purpose (string seeds hash stably)."""
    return random.Random("/".join(str(p) for p in parts))


def poisson(rng: random.Random, lam: float) -> int:
    if lam <= 0:
        return 0
    limit, k, p = math.exp(-lam), 0, 1.0
    while True:
        p *= rng.random()
        if p <= limit:
            return k
        k += 1


def hex_id(rng: random.Random, length: int = 40) -> str:
    return f"{rng.getrandbits(length * 4):0{length}x}"


def work_time(rng: random.Random, day: date) -> datetime:
    """A moment in someone's working day (UTC, skewed to office hours)."""
    minutes = int(rng.triangular(7 * 60, 19 * 60, 11 * 60))
    return datetime.combine(day, time()) + timedelta(minutes=minutes, seconds=rng.randrange(60))


def after(rng: random.Random, start: datetime, median_minutes: float, sigma: float = 0.8):
    """start plus a lognormal delay with the given median, to the second."""
    minutes = median_minutes * math.exp(rng.gauss(0, sigma))
    return start + timedelta(seconds=int(minutes * 60) + 1)


def is_weekend(day: date) -> bool:
    return day.weekday() >= 5


def days_between(start: date, end: date):
    d = start
    while d < end:
        yield d
        d += timedelta(days=1)


def slug(text: str, limit: int = 40) -> str:
    out = "".join(c.lower() if c.isascii() and c.isalnum() else "-" for c in text)
    return "-".join(p for p in out.split("-") if p)[:limit].strip("-")
