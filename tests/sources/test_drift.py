"""Vendor drift through the simulator's drift faults, loaded by the real GitHub loader: a
field the models need goes missing, a declared field changes type, an unused field appears
and changes type. One repository from SMALL_START keeps each load small."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest

from org_simulator.faults import Fault
from tests.sources.conftest import Loader
from tests.sources.test_github import AS_OF, SMALL_REPO, SMALL_START, configure

PULLS = r"/pulls(/\d+)?$"  # the list and the single-PR read
EARLIER = datetime(2026, 10, 28)  # a clock with PRs still to change before AS_OF


@pytest.fixture
def small(loader: Loader, monkeypatch: pytest.MonkeyPatch) -> Loader:
    configure(monkeypatch, loader.sim, [SMALL_REPO], SMALL_START)
    return loader


def quarantined(loader: Loader) -> list[tuple]:
    return loader.rows(
        "select record_key, field, expected_type, seen_type, reason,"
        " cast(payload ->> 'updated_at' as timestamptz) from raw_github.quarantine"
        " where resource = 'pull_requests' order by record_key"
    )


def pull_requests(loader: Loader) -> dict[str, tuple]:
    """The loaded PRs by key; none when dlt never created the table (no row passed)."""
    if not loader.rows(
        "select 1 from information_schema.tables"
        " where table_schema = 'raw_github' and table_name = 'pull_requests'"
    ):
        return {}
    rows = loader.rows(
        "select repo_full_name || '#' || number, merged, merged_at, closed_at, state"
        " from raw_github.pull_requests"
    )
    return {key: rest for key, *rest in rows}


def test_a_removed_merged_at_quarantines_the_pull_requests_and_a_clean_run_recovers_them(
    small: Loader,
):
    small.sim.inject(Fault("drop_field", vendor="github", path=PULLS, field="merged_at", times=-1))
    small.load("github")
    rejected = quarantined(small)
    # Not one PR loads as merged with no merge time: none loads at all.
    assert pull_requests(small) == {}
    assert rejected and {r[1:4] for r in rejected} == {("merged_at", "present", "absent")}
    assert all(r[4].startswith("merged_at: expected present, seen absent") for r in rejected)
    assert all(r[0].startswith(f"{SMALL_REPO}#") for r in rejected)

    # Once GitHub sends the field again, the next run reads the same PRs (the cursor did not
    # move past records it never accepted) and loads them whole.
    small.sim.faults.clear()
    small.load("github")
    loaded = pull_requests(small)
    # Only what the window holds was quarantined (not the older PRs of the same page), and
    # exactly that loads now.
    start = datetime.fromisoformat(SMALL_START).replace(tzinfo=UTC)
    assert all(r[5] >= start for r in rejected)
    assert set(loaded) == {r[0] for r in rejected}
    merged = [pr for pr in loaded.values() if pr[0]]
    assert merged and all(merged_at is not None for _, merged_at, *_ in merged)
    print(f"\nmerged_at removed: {len(rejected)} PRs quarantined, {len(loaded)} inside the "
          f"window loaded by the clean run ({len(merged)} merged)")  # fmt: skip


def test_a_declared_type_change_is_quarantined_naming_the_vendor_field(small: Loader):
    small.sim.inject(Fault("retype", vendor="github", path=PULLS, field="draft", times=-1))
    counts = small.load("github")
    rejected = quarantined(small)
    assert pull_requests(small) == {} and counts["quarantine"] >= len(rejected) > 0
    seen = {r[3] for r in rejected}
    assert {r[1:3] for r in rejected} == {("draft", "bool")} and "str 'false'" in seen
    assert seen <= {"str 'false'", "str 'true'"}
    assert all(r[4].startswith(f"draft: expected bool, seen {r[3]}") for r in rejected)
    print(f"\ndraft as text: {len(rejected)} PRs quarantined, 0 loaded")


def test_an_unused_field_changing_from_number_to_text_does_not_stop_the_load(small: Loader):
    """The field arrives as a number, then, on PRs that changed since, as text: both loads
    pass, every row is kept, and the field's values are in `_extra` as the vendor sent them."""
    score = Fault("add_field", vendor="github", path=PULLS, field="ai_generated_score", times=-1)
    small.sim.set_now(EARLIER)
    small.sim.inject(score)
    score.value = 0.87
    small.load("github")
    first = pull_requests(small)

    small.sim.set_now(AS_OF)
    score.value = "high"
    small.load("github")  # before: a schema-contract failure on `ai_generated_score__v_text`
    second = pull_requests(small)

    extras = small.rows("select _extra from raw_github.pull_requests")
    scores = [json.loads(extra)["ai_generated_score"] for (extra,) in extras]
    changed = scores.count("high")
    assert first and set(first) <= set(second) and scores.count(0.87) + changed == len(second)
    assert changed > 0 and [c.get("quarantine") for c in small.counts] == [None, None]
    assert not small.rows(
        "select column_name from information_schema.columns where table_schema = 'raw_github'"
        " and table_name = 'pull_requests' and column_name like 'ai_generated_score%'"
    )
    print(f"\nnew field number -> text: {len(first)} then {len(second)} PRs loaded, "
          f"{changed} rewritten with the text value, 0 quarantined")  # fmt: skip
