"""The search for credit and fraud: the same rows their training uses, the test rows left out.

``search_credit`` and ``search_fraud`` prepare the data exactly as ``train_credit`` and
``run_fraud`` do, search on the training split only and return the config those functions then
train the final model with. ``search_section`` is the JSON the CLI prints and a saved run records.
"""

from __future__ import annotations

import time

from dataclasses import replace
from typing import Any, Callable

import numpy as np
import pandas as pd

from core.search.engine import SearchProgress
from core.search.ensemble import ensemble_label
from core.search.tabular import TabularSearch, ensemble_metrics, ensemble_proba, search_tabular


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
    from core.tabular import auto_batch_size

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
    base = resolve_credit_config(recipe, n_fit)
    if base.batch_size is None:
        base = replace(base, batch_size=auto_batch_size(n_fit))
    return search_tabular(train_df, y_train, numeric=setup.numeric, categorical=setup.categorical, base=base,
                          recipe=recipe, budget=budget, seed=recipe.seed, n_trials=n_trials, metric=metric,
                          ensemble=ensemble, name="credit network", progress=progress, started=started)


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


def search_section(search: TabularSearch, tab=None, *, fraud_metrics: Callable[[np.ndarray, dict], dict] | None = None
                   ) -> dict:
    """The "search" section of the CLI's JSON and a saved run: trials, best settings and score,
    seconds, today's recipe's validation score, and the ensemble's test figures when it is used.

    ``fraud_metrics(p, base_metrics)`` adds the scenario's own metrics to the ensemble's."""
    out = search.result.to_dict()
    if tab is not None and getattr(tab, "ensemble", None) is not None:
        # Credit and fraud: the final run's own ensemble check (validation rows of its training split), which
        # decided the recommended model; the same record as the JSON's "recommended".
        out["ensemble"] = dict(tab.ensemble) or {"checked": False, "use": False,
                                                 "note": "The ensemble check was switched off."}
        return out
    ens = dict(search.ensemble) if search.ensemble else None
    if ens is not None and tab is not None:
        m = ensemble_metrics(tab, ens)
        if m is not None:
            if fraud_metrics is not None:
                m = fraud_metrics(ensemble_proba(tab, ens), m)
            ens["test_metrics"] = m
            ens["label"] = ensemble_label(ens)
        out["ensemble"] = ens
    return out


def search_recommended(section: dict | None, network_metrics: dict) -> dict:
    """Quality's ``recommended``: the ensemble, with its test figures, when the search's ensemble check chose
    it on validation, else the network. Unlike credit and fraud, the saved model file and every door that
    scores it are still the network's (``"saved": "network"``), which the note says. (Demand's is
    ``core.demand.recommend.recommend_forecast``.)"""
    from core.glossary import model_label

    ens = (section or {}).get("ensemble") or {}
    if ens.get("use") and ens.get("test_metrics"):
        return {"model": "ensemble", "label": ens.get("label") or ensemble_label(ens), "metrics": ens["test_metrics"],
                "saved": "network", "note": "The blend won on validation; the saved and scored model is the network."}
    return {"model": "network", "label": model_label("network"), "metrics": network_metrics, "saved": "network"}


def describe_trial(p: SearchProgress) -> str | None:
    """One progress line per finished trial (the CLI prints it on standard error)."""
    if p.kind != "trial" or not p.trials:
        return None
    t = p.trials[-1]
    score = "" if t.score is None else f", {t.score:.4f}"
    best = "" if p.best is None else f"; best so far {p.best.score:.4f} (trial {p.best.number})"
    return f"search trial {t.number}: {t.state}{score}{best} [{p.elapsed:.0f} s of {p.budget:.0f} s]"


def print_trials(p: SearchProgress) -> None:
    """Progress for the CLI: one line per finished trial on standard error."""
    import sys

    line = describe_trial(p)
    if line:
        print(line, file=sys.stderr, flush=True)


def attach_search(workspace: dict, section: dict) -> dict:
    """Record a search with a saved run: the whole section, and its headline under the run's
    parameters so the Runs page and the model card list it with the other settings."""
    ens = section.get("ensemble") or {}
    workspace["search"] = section
    head = workspace.get("headline")
    if isinstance(head, dict) and isinstance(head.get("trust"), list):
        from core.trust import Trust

        # A search run on purpose: the warnings that judge a first, plain training no longer apply.
        head["trust"] = Trust.from_saved(head["trust"]).after_search().to_list()
    workspace.setdefault("params", {})["search"] = {
        "budget_seconds": section["budget_seconds"], "seconds": section["seconds"],
        "trials_run": section["trials_run"], "trials_complete": section["trials_complete"],
        "best_trial": section["best_trial"], "metric": section["metric_label"],
        "best_validation_score": section["best_validation_score"],
        "recipe_validation_score": section["recipe_validation_score"], "seed": section["seed"],
        "ensemble": ens.get("label", "not used") if ens.get("use") else "not used",
    }
    return workspace
