"""The outcome summary `make demo` prints: a few numbers read from the marts.

Each figure is one query over the `marts` schema, so what the demo prints is what a BI tool
would show. `outcome_summary` returns the numbers (tests compare them with the ground truth);
`format_summary` lays them out.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import duckdb


@dataclass(frozen=True)
class CohortOutcome:
    """One side (AI-assisted or not) of the organisation's PRs over the whole history."""

    is_ai_assisted: bool
    opened: int
    merged: int
    shipped: int
    shipped_observed: int  # shipped at least H days before the as-of date
    survived: int
    allocated_spend_usd: float
    defect_weight: float
    review_hours: float

    @property
    def cost_per_surviving_pr(self) -> float | None:
        return self.allocated_spend_usd / self.survived if self.survived else None

    @property
    def bugs_per_shipped_pr(self) -> float | None:
        return self.defect_weight / self.shipped_observed if self.shipped_observed else None

    @property
    def review_hours_per_pr(self) -> float | None:
        return self.review_hours / self.opened if self.opened else None


@dataclass(frozen=True)
class OutcomeSummary:
    cohorts: list[CohortOutcome]
    total_spend_usd: float
    unallocated_spend_usd: float
    top_routing: dict[str, Any] | None  # the largest routing opportunity (team x month)


def outcome_summary(con: duckdb.DuckDBPyConnection) -> OutcomeSummary:
    funnel = {
        row[0]: row[1:]
        for row in con.execute(
            "select is_ai_assisted, sum(opened), sum(merged), sum(shipped), "
            "sum(shipped_observed), sum(survived) "
            "from marts.mart_delivery_funnel group by is_ai_assisted"
        ).fetchall()
    }
    quality = {
        row[0]: row[1:]
        for row in con.execute(
            "select is_ai_assisted, sum(allocated_spend_usd), "
            "sum(case when survived is not null then defect_weight_within_h else 0 end), "
            "sum(review_hours) "
            "from marts.fct_pull_requests group by is_ai_assisted"
        ).fetchall()
    }
    cohorts = [
        CohortOutcome(
            ai,
            *(int(v or 0) for v in funnel[ai]),
            *(float(v or 0) for v in quality[ai]),
        )
        for ai in sorted(funnel, reverse=True)
    ]
    total, unallocated = con.execute(
        "select sum(cost_usd), sum(case when pull_request_id is null then cost_usd else 0 end) "
        "from intermediate.int_spend_allocation"
    ).fetchone()
    cur = con.execute(
        "select * from marts.mart_routing_opportunity "
        "order by routable_spend_usd desc, team_id, month limit 1"
    )
    top = cur.fetchone()
    names = [d[0] for d in cur.description]
    return OutcomeSummary(
        cohorts,
        float(total or 0),
        float(unallocated or 0),
        dict(zip(names, top, strict=True)) if top else None,
    )


def _money(value: float | None) -> str:
    return "n/a" if value is None else f"${value:,.2f}"


def _ratio(value: float | None, digits: int = 3) -> str:
    return "n/a" if value is None else f"{value:.{digits}f}"


def format_summary(summary: OutcomeSummary) -> str:
    lines = ["what the tokens turned into (marts)", ""]
    lines.append(
        f"  {'PRs':<14}{'opened':>8}{'merged':>8}{'shipped':>9}{'survived':>10}"
        f"{'  survived/opened':>18}"
    )
    for c in summary.cohorts:
        label = "AI-assisted" if c.is_ai_assisted else "not AI"
        share = c.survived / c.opened if c.opened else 0
        lines.append(
            f"  {label:<14}{c.opened:>8,}{c.merged:>8,}{c.shipped:>9,}{c.survived:>10,}"
            f"{share:>18.1%}"
        )
    lines += ["", f"  {'':<14}{'cost/surviving PR':>20}{'bugs/shipped PR':>17}{'review h/PR':>13}"]
    for c in summary.cohorts:
        label = "AI-assisted" if c.is_ai_assisted else "not AI"
        lines.append(
            f"  {label:<14}{_money(c.cost_per_surviving_pr):>20}"
            f"{_ratio(c.bugs_per_shipped_pr):>17}{_ratio(c.review_hours_per_pr, 2):>13}"
        )
    total = summary.total_spend_usd
    share = summary.unallocated_spend_usd / total if total else 0
    lines += [
        "",
        f"  attributed LLM spend {_money(summary.total_spend_usd)}, of which "
        f"{_money(summary.unallocated_spend_usd)} ({share:.1%}) on days with no PR in flight",
    ]
    top = summary.top_routing
    if top:
        lines.append(
            f"  top routing opportunity: team {top['team_id']}, {top['month']:%Y-%m}: "
            f"{_money(float(top['routable_spend_usd']))} of most-expensive-tier spend on small, "
            f"lightly reviewed PRs ({top['small_prs']} PRs)"
        )
    return "\n".join(lines)
