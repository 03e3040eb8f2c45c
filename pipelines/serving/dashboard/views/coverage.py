"""What the numbers rest on: the publication (publication.about), each source's freshness
(publication.source_freshness, mart_source_coverage), the last quality checks
(publication.quality_checks) and identity resolution (mart_identity_coverage)."""

from __future__ import annotations

import streamlit as st

from pipelines.serving.dashboard import queries
from pipelines.serving.dashboard.publication import Render
from pipelines.serving.dashboard.widgets import metric_heading, nothing_to_show, table


def render(r: Render) -> None:
    st.title("What the numbers rest on")
    st.caption("The whole publication: the sidebar's filters do not apply here.")
    about = r.frame(queries.ABOUT)
    if about.empty:
        st.info("The publication does not say which run built it (publication.about is empty).")
    else:
        a = about.iloc[0]
        st.markdown(
            f"Published {a['published_at']:%Y-%m-%d %H:%M %Z} from run `{a['run_id']}`, built "
            f"{a['built_at']:%Y-%m-%d %H:%M %Z}; the metrics' clock (as of) "
            f"{a['as_of']:%Y-%m-%d %H:%M}; {int(a['tables'])} tables."
        )

    st.subheader("Sources and their freshness")
    freshness = r.frame(queries.FRESHNESS)
    if freshness.empty:
        nothing_to_show("publication.source_freshness")
    else:
        missing = freshness[~freshness["is_available"].astype(bool)]
        stale = freshness[freshness["is_stale"].fillna(False).astype(bool)]
        for _, row in missing.iterrows():
            st.warning(f"{row['source']} is not available: {row['status']}")
        for _, row in stale.iterrows():
            st.warning(f"{row['source']} is stale: {row['status']}")
        if missing.empty and stale.empty:
            st.success("Every source is available and fresh.")
        table(freshness, "source_freshness")
    metric_heading(
        "Source coverage",
        "what a missing vendor leaves out",
        "when-a-vendor-is-missing",
        "mart_source_coverage",
    )
    table(r.frame(queries.SOURCE_COVERAGE), "mart_source_coverage")

    st.subheader("The last quality checks")
    checks = r.frame(queries.QUALITY_CHECKS)
    if checks.empty:
        nothing_to_show("publication.quality_checks")
    else:
        failed = checks[~checks["passed"].astype(bool)]
        passed = len(checks) - len(failed)
        st.markdown(f"**{passed:,} of {len(checks):,} checks passed.**")
        for _, row in failed.iterrows():
            st.warning(
                f"{row['check_name']} ({row['asset_key']}) did not pass"
                + (", a blocking check" if row["blocking"] else "")
                + f": {row['description']}"
            )
        table(checks, "quality_checks")

    metric_heading(
        "Identity resolution",
        "identity resolution share",
        "1-who-is-who",
        "mart_identity_coverage",
    )
    identity = r.frame(queries.IDENTITY_COVERAGE)
    if identity.empty:
        nothing_to_show("mart_identity_coverage")
        return
    table(identity, "mart_identity_coverage")
