"""One module per dashboard page, each with a `render(r)` that draws it from a Render."""

from pipelines.serving.dashboard.views import (
    coverage,
    funnel,
    metric_reference,
    outcomes,
    review,
    spend,
    spend_vs_output,
    survival,
    teams,
)

# (module, title, url path): the url paths are the pages' names in queries.py and the
# exposures' urls (dbt_project/models/marts/_exposures.yml). The first is the main page,
# served at the root.
PAGES = [
    (outcomes, "What the tokens turned into", "outcomes"),
    (funnel, "Delivery funnel", "funnel"),
    (spend_vs_output, "Spend against output", "spend-vs-output"),
    (survival, "Production survival", "survival"),
    (review, "Review load", "review"),
    (teams, "Delivery performance by team", "teams"),
    (spend, "Budgets, models and routing", "spend"),
    (coverage, "What the numbers rest on", "coverage"),
]

__all__ = ["PAGES", "metric_reference"]
