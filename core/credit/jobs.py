"""The credit page's training as a job (``core.jobs``): run in a worker process, its progress
reported as it goes, its result handed back to the page as files."""

from __future__ import annotations

import time
from typing import Any

import pandas as pd


def train_page(df: pd.DataFrame, *, target: str, positive: Any, roles: dict, sensitive: list, config_options: dict,
               search: dict, test_size: float, shap_rows: int, keep_columns=(), report) -> dict:
    """The model search when asked, the network and its baselines, SHAP on the first ``shap_rows`` test rows.

    Returns ``{"run", "shap", "search"}`` (``search`` is ``None`` without a model search); ``report``
    receives the search's trials, every epoch and each stage's sentence."""
    from core.credit.pipeline import default_credit_config, train_credit

    config = default_credit_config(**config_options, ensemble=bool(search.get("ensemble", True)))
    t0 = time.perf_counter()
    found = None
    if search.get("enabled"):
        from core.credit.search import search_credit

        found = search_credit(df, target=target, positive=positive, roles=roles, sensitive=sensitive, config=config,
                              test_size=test_size, budget=search["budget"], progress=report.search,
                              keep_columns=keep_columns)
        config = found.config
    run = train_credit(df, target=target, positive=positive, roles=roles, sensitive=sensitive, config=config,
                       test_size=test_size, progress=report.epoch, status=report.status, keep_columns=keep_columns)
    report.status("Explaining the test rows with SHAP")
    t1 = time.perf_counter()
    # SHAP explains the recommended model (the blend, when it won on validation).
    shap = run.explain(run.test_df.iloc[:shap_rows])
    run.timings["explain"] = time.perf_counter() - t1
    run.timings["total"] = time.perf_counter() - t0
    return {"run": run, "shap": shap, "search": found}
