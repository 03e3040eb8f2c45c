"""The reporting groups of docs/metrics.md section 11, computed from a people seed in Python: the
truth the marts' team columns are compared with (the warehouse decides them in SQL, in
int_reporting_groups)."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable

NO_TEAM = "(no team)"  # var no_team_label
OTHER = "other"  # var other_teams_label
MINIMUM = 5  # var min_group_size


def reporting_groups(
    people: Iterable[tuple[str | None, bool]], minimum: int = MINIMUM
) -> dict[str, str]:
    """team (NO_TEAM for none) -> its group, from (team, is_bot) per person of the seed."""
    sizes: Counter[str] = Counter({NO_TEAM: 0})
    for team, is_bot in people:
        sizes[team or NO_TEAM] += 0 if is_bot else 1
    small = {team for team, n in sizes.items() if team == NO_TEAM or n < minimum}
    groups = dict.fromkeys(small, OTHER)
    other_people = sum(sizes[team] for team in small)
    # The smallest remaining teams fill the other teams up to the minimum.
    for team in sorted(set(sizes) - small, key=lambda t: (sizes[t], t)):
        if other_people < minimum:
            groups[team] = OTHER
            other_people += sizes[team]
        else:
            groups[team] = team
    return groups


def group_of(built_org, minimum: int = MINIMUM) -> Callable[[str | None], str]:
    """The function team -> reporting group of a built organisation's seed (sim.seed_people);
    None is no team, and a team the seed does not know is one of the other teams."""
    groups = reporting_groups(
        built_org.rows("select team, is_bot from sim.seed_people"), minimum=minimum
    )
    return lambda team: groups.get(team or NO_TEAM, OTHER)


def repository_name_of(built_org) -> Callable[[str], str]:
    """The function repository -> its name in mart_dora: its own when its team (the team that
    authored most of its PRs, ties to the smallest id) reports as itself, else OTHER."""
    votes: dict[str, Counter[str]] = {}
    for repo, team in built_org.rows(
        "select repo_full_name, team_id from sim.truth_pull_requests where team_id is not null"
    ):
        votes.setdefault(repo, Counter())[team] += 1
    team_of = {repo: min(v, key=lambda team: (-v[team], team)) for repo, v in votes.items()}
    group = group_of(built_org)

    def name(repo: str) -> str:
        team = team_of.get(repo)
        return repo if team is not None and group(team) == team else OTHER

    return name
