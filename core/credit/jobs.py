"""The credit page's training as a job (``core.jobs``): run in a worker process, its progress
reported as it goes, its result handed back to the page as files. The training is the service's
(``core.credit.service.train_and_decide``); this adapts the page's options and its report."""

from __future__ import annotations

from typing import Any

import pandas as pd


def train_page(df: pd.DataFrame, *, target: str, positive: Any, roles: dict, sensitive: list, config_options: dict,
               search: dict, test_size: float, shap_rows: int, keep_columns=(), report) -> dict:
    """The model search when asked, the network and its baselines, SHAP on the first ``shap_rows`` test rows.

    Returns ``{"run", "shap", "search"}`` (``search`` is ``None`` without a model search); ``report``
    receives the search's trials, every epoch and each stage's sentence. The page sets the decline
    threshold itself, at its own costs (``core.credit.service.decide``)."""
    from core.credit.pipeline import default_credit_config
    from core.credit.service import train_and_decide

    config = default_credit_config(**config_options, ensemble=bool(search.get("ensemble", True)))
    outcome = train_and_decide(df, target=target, positive=positive, roles=roles, sensitive=sensitive, config=config,
                               test_size=test_size, keep_columns=keep_columns,
                               search_budget=search["budget"] if search.get("enabled") else None,
                               shap_rows=shap_rows, progress=report.epoch, status=report.status,
                               search_progress=report.search)
    outcome.run.timings.update(outcome.timings)  # the Performance tab's caption: training and SHAP seconds
    return {"run": outcome.run, "shap": outcome.shap, "search": outcome.search}
