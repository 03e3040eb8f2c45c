"""Size presets of the simulated organisation."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime


@dataclass(frozen=True)
class Size:
    name: str
    engineers: int
    team_size: int
    days: int

    @property
    def teams(self) -> int:
        return max(1, round(self.engineers / self.team_size))


# The simulated "now" is fixed, so a seed and a size always describe the same organisation.
AS_OF = datetime(2026, 11, 1)

SIZES = {
    s.name: s
    for s in (
        Size("tiny", engineers=10, team_size=5, days=75),
        Size("demo", engineers=50, team_size=7, days=90),
        Size("medium", engineers=500, team_size=8, days=180),
        Size("large", engineers=2000, team_size=8, days=365),
        Size("xlarge", engineers=5000, team_size=8, days=365),
    )
}


def get_size(name: str) -> Size:
    try:
        return SIZES[name]
    except KeyError:
        raise ValueError(f"unknown size {name!r}; choose one of {', '.join(SIZES)}") from None
