"""The fraud page's heavy steps as jobs (``core.jobs``): run in a worker process, their progress
reported as they go, their results handed back to the page as files. Nothing here draws."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import pandas as pd


def train_page(df: pd.DataFrame, *, cols, features, train_start, test_start, gap_days: int, drop_known: bool,
               tabular: dict, k: int, search: dict, explain: int, keep_columns=(), split_notice: str | None = None,
               currency: str | None = None, report) -> dict:
    """The model search when asked, the network with its baselines, and SHAP reasons for the
    ``explain`` riskiest test transactions plus a global sample (of the recommended model).

    ``tabular``: the network's settings over ``FRAUD_TABULAR`` (imbalance, epochs, seed, width, ...).
    Returns ``{"run", "explain", "search"}`` (``search`` is ``None`` without a model search);
    ``report`` receives the search's trials, every epoch and each stage's sentence."""
    from core.fraud.pipeline import FRAUD_TABULAR, FraudConfig
    from core.fraud.service import train_and_decide

    tab = replace(FRAUD_TABULAR, **tabular, ensemble=bool(search.get("ensemble", True)))
    config = FraudConfig(train_start=train_start, test_start=test_start, gap_days=gap_days, features=features,
                         drop_known_cards=drop_known, tabular=tab, keep_columns=tuple(keep_columns), k=int(k))
    # The page sets the review and block thresholds itself, at its own review fee (ui/fraud/alerts.py).
    outcome = train_and_decide(df, cols, config=config,
                               search_budget=search["budget"] if search.get("enabled") else None,
                               explain_alerts=explain, explain_global=300, explain_seed=tab.seed, currency=currency,
                               progress=report.epoch, status=report.status, search_progress=report.search)
    run = outcome.run
    if split_notice:  # the settings were fitted to a short log on the page: the run says so too
        run.notices.insert(0, split_notice)
    return {"run": run, "explain": outcome.explanations, "search": outcome.search}


def compare_page(run, *, methods, min_precision: float, epochs: int, report) -> Any:
    """The imbalance strategies compared on ``run``'s features and split (``compare_imbalance``), one
    stage reported per strategy; returns the comparison table."""
    from core.fraud.compare import compare_imbalance

    methods = list(methods)
    return compare_imbalance(run, methods, min_precision=min_precision, epochs=epochs,
                             progress=lambda i, n, m: report.stage(i / n, f"Training with {m} ({i + 1} of {n})"))
