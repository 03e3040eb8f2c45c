"""The outcome summary `make demo` prints: a few figures read from the marts.

Every figure is read as a mart holds it, never recomputed here, so what the demo prints is
what a BI tool shows: the AI-assisted against other PRs from `mart_ai_assisted_outcomes`, the
organisation's spend from `mart_waste_share`, the largest routing opportunity from
`mart_routing_opportunity`, and the sources it all rests on from `mart_source_coverage`.
`outcome_summary` returns the figures (tests compare them with the ground truth);
`format_summary` lays them out. A figure a missing source makes unknown is None, printed n/a.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import duckdb


@dataclass(frozen=True)
class CohortOutcome:
    """One side (AI-assisted or not) of the organisation's PRs over the whole history: a row
    of marts.mart_ai_assisted_outcomes."""

    is_ai_assisted: bool
    opened: int
    merged: int
    shipped: int
    shipped_observed: int  # shipped at least H days before the as-of date
    survived: int
    survived_share: float | None
    allocated_spend_usd: float | None
    allocated_cost_per_surviving_pr: float | None
    bugs_per_shipped_pr: float | None
    review_hours_per_pr: float | None
    unavailable_reason: str | None


@dataclass(frozen=True)
class OutcomeSummary:
    cohorts: list[CohortOutcome]
    total_spend_usd: float | None  # attributed spend (allocated + unallocated)
    unallocated_spend_usd: float | None
    spend_unavailable_reason: str | None  # why the unallocated share is unknown, if it is
    top_routing: dict[str, Any] | None  # the largest routing opportunity (team x month)
    sources: list[dict[str, Any]]  # mart_source_coverage: source, is_available, status


def _dicts(con: duckdb.DuckDBPyConnection, sql: str) -> list[dict[str, Any]]:
    cur = con.execute(sql)
    names = [d[0] for d in cur.description]
    return [dict(zip(names, row, strict=True)) for row in cur.fetchall()]


def _number(value: Any) -> float | None:
    return None if value is None else float(value)


def outcome_summary(con: duckdb.DuckDBPyConnection) -> OutcomeSummary:
    cohorts = [
        CohortOutcome(
            is_ai_assisted=row["is_ai_assisted"],
            opened=row["opened"],
            merged=row["merged"],
            shipped=row["shipped"],
            shipped_observed=row["shipped_observed"],
            survived=row["survived"],
            survived_share=_number(row["survived_share"]),
            allocated_spend_usd=_number(row["allocated_spend_usd"]),
            allocated_cost_per_surviving_pr=_number(row["allocated_cost_per_surviving_pr"]),
            bugs_per_shipped_pr=_number(row["bugs_per_shipped_pr"]),
            review_hours_per_pr=_number(row["review_hours_per_pr"]),
            unavailable_reason=row["unavailable_reason"],
        )
        for row in _dicts(
            con, "select * from marts.mart_ai_assisted_outcomes order by is_ai_assisted desc"
        )
    ]
    # The organisation's rows of the waste mart: attributed spend and what reached no PR.
    total, unallocated, spend_reason = con.execute(
        "select sum(total_spend_usd), sum(unallocated_spend_usd), min(unavailable_reason) "
        "from marts.mart_waste_share where scope = 'organisation'"
    ).fetchone()
    top = _dicts(
        con,
        "select * from marts.mart_routing_opportunity "
        "order by routable_spend_usd desc, team_id, month limit 1",
    )
    sources = _dicts(
        con, "select source, is_available, status from marts.mart_source_coverage order by source"
    )
    return OutcomeSummary(
        cohorts,
        _number(total),
        _number(unallocated),
        spend_reason if unallocated is None else None,
        top[0] if top else None,
        sources,
    )


def _money(value: float | None) -> str:
    return "n/a" if value is None else f"${value:,.2f}"


def _ratio(value: float | None, digits: int = 3) -> str:
    return "n/a" if value is None else f"{value:.{digits}f}"


def _share(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.1%}"


def format_summary(summary: OutcomeSummary) -> str:
    lines = ["what the tokens turned into (marts)", ""]
    if summary.cohorts:
        lines += _cohort_lines(summary.cohorts)
    else:
        lines.append("  no pull requests in the warehouse")
    total, unallocated = summary.total_spend_usd, summary.unallocated_spend_usd
    share = unallocated / total if total and unallocated is not None else None
    lines += [
        "",
        f"  attributed LLM spend {_money(total)}, of which {_money(unallocated)} "
        f"({_share(share)}) on days with no PR in flight",
    ]
    if summary.spend_unavailable_reason and total is not None:
        lines.append(f"  n/a: {summary.spend_unavailable_reason}")
    top = summary.top_routing
    if top:
        lines.append(
            f"  top routing opportunity: team {top['team_id']}, {top['month']:%Y-%m}: "
            f"{_money(float(top['routable_spend_usd']))} of most-expensive-tier spend on small, "
            f"lightly reviewed PRs ({top['small_prs']} PRs)"
        )
    missing = [s for s in summary.sources if not s["is_available"]]
    if missing:
        lines += ["", "  sources not available:"]
        lines += [f"    {s['source']}: {s['status']}" for s in missing]
    return "\n".join(lines)


def _cohort_lines(cohorts: list[CohortOutcome]) -> list[str]:
    lines = [
        f"  {'PRs':<14}{'opened':>8}{'merged':>8}{'shipped':>9}{'survived':>10}"
        f"{'  survived/opened':>18}"
    ]
    for c in cohorts:
        label = "AI-assisted" if c.is_ai_assisted else "not AI"
        lines.append(
            f"  {label:<14}{c.opened:>8,}{c.merged:>8,}{c.shipped:>9,}{c.survived:>10,}"
            f"{_share(c.survived_share):>18}"
        )
    lines += [
        "",
        f"  {'':<14}{'allocated $/surviving PR':>26}{'bugs/shipped PR':>17}{'review h/PR':>13}",
    ]
    for c in cohorts:
        label = "AI-assisted" if c.is_ai_assisted else "not AI"
        lines.append(
            f"  {label:<14}{_money(c.allocated_cost_per_surviving_pr):>26}"
            f"{_ratio(c.bugs_per_shipped_pr):>17}{_ratio(c.review_hours_per_pr, 2):>13}"
        )
    reasons = sorted({c.unavailable_reason for c in cohorts if c.unavailable_reason})
    lines += [f"  n/a: {reason}" for reason in reasons]
    return lines
