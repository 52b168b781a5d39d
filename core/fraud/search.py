"""The fraud network's search: the training period ``run_fraud`` uses, validating on its latest days,
the test rows left out, searched with the shared tabular objective (``core.search.tabular``)."""

from __future__ import annotations

import time
from dataclasses import replace
from typing import Callable

import pandas as pd

from core.search.engine import SearchProgress
from core.search.tabular import search_tabular


def search_fraud(df: pd.DataFrame, cols, *, budget: float, config=None, n_trials: int | None = None,
                 metric: str = "pr_auc", ensemble: bool = False,
                 progress: Callable[[SearchProgress], None] | None = None):
    """Search the fraud network's settings on the training period ``run_fraud`` uses, validating on
    its latest days. Returns (search, FraudConfig to pass to ``run_fraud``). The budget counts from
    this call, building the features included."""
    started = time.perf_counter()
    from core.fraud.pipeline import FraudConfig, auto_batch_size, prepare_fraud_inputs

    config = config or FraudConfig()
    log, _extra, feats, split, y, _fitted, _notices = prepare_fraud_inputs(df, cols, config)
    idx = split.train_idx
    base = config.tabular
    if config.auto_batch:
        base = replace(base, batch_size=auto_batch_size(round(len(idx) * (1 - base.val_fraction))))
    search = search_tabular(feats.frame.iloc[idx], y[idx], numeric=feats.numeric, categorical=feats.categorical,
                            base=base, recipe=config.tabular, budget=budget, seed=config.tabular.seed,
                            n_trials=n_trials, times=log[cols.time].iloc[idx].to_numpy(), metric=metric,
                            ensemble=ensemble, name="fraud network", progress=progress, started=started)
    best = search.result.selected
    final = config if best is None or best.number == 0 else replace(config, tabular=search.config,
                                                                    auto_batch=False)
    return search, final
