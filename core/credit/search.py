"""The credit network's search: the rows ``train_credit`` trains on (same split, same seed), the test
rows left out, searched with the shared tabular objective (``core.search.tabular``)."""

from __future__ import annotations

import time
from dataclasses import replace
from typing import Any, Callable

import pandas as pd

from core.search.engine import SearchProgress
from core.search.tabular import TabularSearch, search_tabular


def search_credit(df: pd.DataFrame, *, target: str, budget: float, positive: Any = None,
                  roles: dict[str, str] | None = None, sensitive: list[str] | None = None, config=None,
                  test_df: pd.DataFrame | None = None, test_size: float = 0.25, n_trials: int | None = None,
                  metric: str = "roc_auc", ensemble: bool = False,
                  progress: Callable[[SearchProgress], None] | None = None, keep_columns=()) -> TabularSearch:
    """Search the credit network's settings on the rows ``train_credit`` trains on (same split,
    same seed). Pass the returned ``.config`` to ``train_credit`` with the same arguments. The budget
    counts from this call, preparing the rows included."""
    started = time.perf_counter()
    from core.credit.pipeline import (audit_credit, default_credit_config, prepare_credit_data,
                                      resolve_credit_config, split_rows)
    from core.ml.tabular import auto_batch_size

    recipe = config or default_credit_config()
    data, y, setup = prepare_credit_data(df, target=target, positive=positive, roles=roles, sensitive=sensitive)
    if test_df is None:
        tr, _te = split_rows(y, test_size=test_size, seed=recipe.seed)
        train_df, y_train = data.iloc[tr], y[tr]
    else:
        train_df, y_train = data, y
    setup = audit_credit(train_df, y_train, setup, keep=keep_columns, seed=recipe.seed)  # as train_credit does
    # Today's recipe, resolved for the search's fitting rows as train_credit resolves it for its own.
    vf = recipe.val_fraction
    n_fit = round(len(train_df) * (1 - vf) * (1 - vf))
    # Trials compare settings on their validation rows without the refit on every row (it would double each
    # trial's training); the run trained with the winning settings refits as train_credit's rule says.
    base = replace(resolve_credit_config(recipe, n_fit), refit="off")
    if base.batch_size is None:
        base = replace(base, batch_size=auto_batch_size(n_fit))
    return search_tabular(train_df, y_train, numeric=setup.numeric, categorical=setup.categorical, base=base,
                          recipe=recipe, budget=budget, seed=recipe.seed, n_trials=n_trials, metric=metric,
                          ensemble=ensemble, name="credit network", progress=progress, started=started)
