"""The search objective of the tabular network, shared by credit and fraud, and the optional
ensemble of the network with the best baseline.

Every trial trains on the training split only: its rows are cut once into fitting rows and
validation rows (the latest ones by time for fraud, a stratified random share for credit), and a
trial is scored on those validation rows. The test rows are never passed in; the scenario trains
its final model with the best settings afterwards, and that is the one time the test rows are used.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field, replace
from typing import Any, Callable

import numpy as np
import pandas as pd

from core.errors import DataValidationError
from core.search.engine import SearchProgress, SearchResult, confirm_boots, confirm_details, confirm_level, run_search
from core.search.ensemble import ENSEMBLE, blend, choose_ensemble, ensemble_label  # noqa: F401 (ENSEMBLE re-exported)

SEARCH_IMBALANCE = ("none", "class_weight", "smote", "undersample")
SYNTHESISING = ("smote", "adasyn", "smote_tomek")
# The search offers SMOTE only when it has at most this many rare rows to make; above it, class
# weights give the rare class the same weight at no cost.
MAX_SYNTHETIC_ROWS = 5_000
BATCH_SIZES = (32, 64, 128, 256, 512, 1024, 2048)
TUNED = ("depth", "width", "dropout", "l2", "learning_rate", "batch_size", "imbalance", "wide")
METRIC_LABELS = {"roc_auc": "validation ROC-AUC", "pr_auc": "validation average precision"}


def split_for_search(y, *, times=None, val_fraction: float = 0.2, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Positions of the fitting and validation rows inside a training split.

    With ``times`` (fraud) the validation rows are the latest ``val_fraction`` of the training
    period, as the test period is later than the training one; otherwise a stratified random share.
    """
    y = np.asarray(y).astype(int)
    n_val = int(round(len(y) * val_fraction))
    if times is not None:
        order = np.argsort(np.asarray(times), kind="stable")
        fit, val = np.sort(order[: len(y) - n_val]), np.sort(order[len(y) - n_val:])
    else:
        from sklearn.model_selection import train_test_split

        strat = y if np.bincount(y, minlength=2).min() >= 2 else None
        fit, val = train_test_split(np.arange(len(y)), test_size=n_val or 1, random_state=seed, stratify=strat)
        fit, val = np.sort(fit), np.sort(val)
    for name, part in (("fitting", fit), ("validation", val)):
        counts = np.bincount(y[part], minlength=2)
        if counts.min() < 2:
            raise DataValidationError(
                f"The search needs at least 2 rows of each outcome in its {name} rows (part of the training "
                f"split); got {counts.tolist()} (class 0, class 1). Fix: use more data, or train without the "
                "search.")
    return fit, val


@dataclass
class TabularObjective:
    """Settings of the tabular network scored on validation rows of the training split."""

    fit_df: pd.DataFrame
    y_fit: np.ndarray
    val_df: pd.DataFrame
    y_val: np.ndarray
    numeric: list[str]
    categorical: list[str]
    base: Any  # core.ml.tabular.TabularConfig: today's recipe; the search changes only TUNED fields
    metric: str = "roc_auc"
    name: str = "tabular network"
    direction: str = "maximize"
    imbalance_choices: tuple[str, ...] = SEARCH_IMBALANCE

    def __post_init__(self):
        if self.metric not in METRIC_LABELS:
            raise DataValidationError(f"The search metric must be one of {list(METRIC_LABELS)}; got "
                                      f"{self.metric!r}. Fix: pick one of them.")
        from core.data.imbalance import check_method

        usable = []
        counts = np.bincount(np.asarray(self.y_fit).astype(int), minlength=2)
        for m in self.imbalance_choices:
            # SMOTE-NC synthesises every missing rare row one by one: ~18,000 of them took a
            # minute before the first batch on a busy machine, longer than a short budget.
            if m in SYNTHESISING and counts.max() - counts.min() > MAX_SYNTHETIC_ROWS:
                continue
            try:
                check_method(m, self.y_fit)
                usable.append(m)
            except DataValidationError:  # e.g. SMOTE with too few rare rows: not offered
                pass
        self.imbalance_choices = tuple(dict.fromkeys([self.base.imbalance, *usable]))

    @property
    def metric_label(self) -> str:
        return METRIC_LABELS[self.metric]

    def _batch_default(self) -> int:
        from core.ml.tabular import auto_batch_size

        if self.base.batch_size is not None:
            return int(self.base.batch_size)
        return auto_batch_size(round(len(self.fit_df) * (1 - self.base.val_fraction)))

    def batch_choices(self) -> list[int]:
        """Batch sizes that give at least ~8 optimiser steps an epoch, plus today's."""
        n = len(self.fit_df) * (1 - self.base.val_fraction)
        sizes = [b for b in BATCH_SIZES if b <= max(n / 8, BATCH_SIZES[0])]
        return sorted(set(sizes) | {self._batch_default()})

    def default_params(self) -> dict:
        """Today's recipe, as the first trial."""
        params = {k: getattr(self.base, k) for k in TUNED}
        params["batch_size"] = self._batch_default()
        params["l2"] = float(params["l2"])
        return params

    def suggest(self, trial) -> dict:
        return {
            "depth": trial.suggest_int("depth", 1, 4),
            "width": trial.suggest_int("width", 16, 512, log=True),
            "dropout": trial.suggest_float("dropout", 0.0, 0.5),
            "l2": trial.suggest_float("l2", 1e-6, 1e-1, log=True),
            "learning_rate": trial.suggest_float("learning_rate", 1e-4, 1e-2, log=True),
            "batch_size": trial.suggest_categorical("batch_size", self.batch_choices()),
            "imbalance": trial.suggest_categorical("imbalance", list(self.imbalance_choices)),
            "wide": trial.suggest_categorical("wide", [False, True]),
        }

    def warm_up(self) -> None:
        """Load TensorFlow and Keras before the clock starts."""
        import logging

        import keras  # noqa: F401

        # Every trial builds a new model, which Keras' retracing warning reports as a possible
        # mistake; it is expected here.
        logging.getLogger("tensorflow").setLevel(logging.ERROR)

        from core.ml.training import get_device_info

        get_device_info()

    def config_for(self, params: dict, *, baselines: tuple[str, ...] = ()):
        return replace(self.base, **{k: params[k] for k in TUNED if k in params}, baselines=baselines)

    def train(self, params: dict, *, baselines: tuple[str, ...] = (), progress=None):
        """Train on the fitting rows with ``params`` and score the validation rows."""
        from core.ml.tabular import train_tabular

        return train_tabular(self.fit_df, self.y_fit, self.val_df, self.y_val, numeric=self.numeric,
                             categorical=self.categorical, config=self.config_for(params, baselines=baselines),
                             progress=progress)

    def evaluate(self, params: dict, report: Callable[[int, float | None], None]) -> tuple[float, np.ndarray]:
        key = "val_pr_auc" if self.metric == "pr_auc" else "val_roc_auc"
        run = self.train(params, progress=lambda epoch, _epochs, logs: report(epoch, logs.get(key)))
        return float(run.metrics["network"][self.metric]), np.asarray(run.proba["network"], dtype=float)

    def confirm(self, p_best: np.ndarray, p_recipe: np.ndarray, *, comparisons: int = 1) -> tuple[bool, dict]:
        """Keep the best trial only when its lead over today's recipe is outside the noise: the
        lower end of a paired bootstrap interval of the difference on the validation rows is above
        zero, at a level widened for the ``comparisons`` trials the best one was picked from
        (``core.search.engine.confirm_level``). On a few hundred validation rows a lead of 0.01
        ROC-AUC is often chance, and a tuned network that only looked better would do worse on the
        test rows than the recipe."""
        from core.ml.verdict import compare_binary

        level = confirm_level(comparisons)
        v = compare_binary(self.y_val, p_best, {"recipe": p_recipe}, metric=self.metric, seed=self.base.seed,
                           level=level, n_boot=confirm_boots(level))
        return v.low > 0, confirm_details(v)


def _score(y, p, metric: str) -> float:
    from core.ml.metrics import compute_binary_metrics

    return float(compute_binary_metrics(y, p)[metric])


def check_ensemble(objective: TabularObjective, params: dict, baselines: tuple[str, ...]) -> dict:
    """Whether the network blended with a baseline beats the network on the validation rows.

    Trains the best settings once more on the fitting rows, with the baselines, and tries every
    baseline at every weight of ``WEIGHTS`` on the validation rows (``choose_ensemble``). The
    ensemble is used when its best blend beats the network (``beats_baseline``: the best baseline too)."""
    from core.ml.metrics import choose_threshold

    t0 = time.perf_counter()
    run = objective.train(params, baselines=baselines)
    y, metric = objective.y_val, objective.metric
    base = {b: run.proba[b] for b in baselines if b in run.proba}
    ens = choose_ensemble(lambda p: _score(y, p, metric), run.proba["network"], base, direction="maximize")
    if not ens["checked"]:
        return ens
    p_ens = blend(run.proba["network"], base[ens["baseline"]], ens["weight"])
    return {**ens, "metric": metric, "threshold": choose_threshold(y, p_ens, objective.base.threshold_rule),
            "label": ensemble_label(ens), "seconds": time.perf_counter() - t0}


def ensemble_proba(tab, ensemble: dict) -> np.ndarray:
    """The ensemble's test probabilities from a final run's network and baseline probabilities."""
    return blend(tab.proba["network"], tab.proba[ensemble["baseline"]], ensemble.get("weight", 0.5))


def ensemble_predict_codes(tab, baseline: str, weight: float = 0.5) -> Callable[[np.ndarray], np.ndarray]:
    """Probabilities of the network blended with ``baseline`` for code-space rows (what SHAP
    perturbs): logistic regression reads the encoded columns, gradient boosting the codes."""
    from core.ml.blend import Blend
    from core.ml.tabular import recommended_predict

    return recommended_predict(tab.model, tab.preprocessor,
                               Blend(baseline, float(weight), tab.baseline_models[baseline]))


def explain_ensemble(tab, baseline: str, df: pd.DataFrame, *, seed: int = 0, weight: float = 0.5):
    """SHAP values of the ensemble for raw rows, one per source column, like the network's."""
    from core.ml.explain import compute_shap_tabular

    pre = tab.preprocessor
    return compute_shap_tabular(ensemble_predict_codes(tab, baseline, weight), tab.background,
                                pre.transform_codes(df), pre.columns, df[pre.columns], seed=seed)


def ensemble_metrics(tab, ensemble: dict) -> dict | None:
    """Test metrics of the ensemble from a final run's probabilities, at the threshold chosen on
    validation; None when the ensemble is not used."""
    from core.ml.metrics import compute_binary_metrics

    if not ensemble.get("use") or ensemble.get("baseline") not in tab.proba:
        return None
    return compute_binary_metrics(tab.y_test, ensemble_proba(tab, ensemble), ensemble["threshold"])


@dataclass
class TabularSearch:
    """A finished search: its result and the training config built from the best settings."""

    result: SearchResult
    config: Any  # core.ml.tabular.TabularConfig with the best settings (or today's recipe)
    ensemble: dict = field(default_factory=dict)


def search_tabular(train_df: pd.DataFrame, y_train, *, numeric: list[str], categorical: list[str], base,
                   budget: float, seed: int = 0, n_trials: int | None = None, times=None,
                   metric: str = "roc_auc", ensemble: bool = False, name: str = "tabular network",
                   recipe=None, progress: Callable[[SearchProgress], None] | None = None,
                   started: float | None = None) -> TabularSearch:
    """Search the network's settings on ``train_df`` (the training split only) within ``budget``
    seconds; return the result and the config to train the final model with.

    ``base`` is today's recipe with every setting resolved for the search's fitting rows (trial 0);
    ``recipe`` (default ``base``) is the config returned when no setting beats it, so rules that
    scale with the rows (batch size, L2) apply to the final training as they always do.
    ``started`` (a ``time.perf_counter`` reading) is when the user asked for the search: the
    budget counts from there (default: now).
    """
    from core.search.engine import check_budget

    started = time.perf_counter() if started is None else started

    budget = check_budget(budget)
    y_train = np.asarray(y_train).astype(int)
    fit, val = split_for_search(y_train, times=times, val_fraction=base.val_fraction, seed=seed)
    base = replace(base, seed=int(seed))
    objective = TabularObjective(train_df.iloc[fit], y_train[fit], train_df.iloc[val], y_train[val],
                                 list(numeric), list(categorical), base, metric=metric, name=name)
    result = run_search(objective, budget=budget, seed=seed, n_trials=n_trials, progress=progress,
                        started=started)
    best = result.best_params
    if result.selected is None or result.selected.number == 0:
        config = replace(recipe if recipe is not None else base, seed=int(seed))
    else:
        config = objective.config_for(best, baselines=base.baselines)
    ens: dict = {}
    if ensemble and result.found and base.baselines:
        from core.search.engine import wait_for_stopped_trials

        wait_for_stopped_trials()
        ens = check_ensemble(objective, best, tuple(base.baselines))
        result.extra["ensemble"] = ens
    result.extra["split"] = {"fit_rows": int(len(fit)), "validation_rows": int(len(val)),
                             "validation": "latest rows by time" if times is not None else "stratified random"}
    return TabularSearch(result=result, config=config, ensemble=ens)


def ensemble_report(tab, ensemble: dict, rows: pd.DataFrame, *, seed: int = 0):
    """The ensemble's test metrics and SHAP values for ``rows`` (raw rows with the training columns)
    from a final run, or (None, None) when the search did not choose the ensemble."""
    metrics = ensemble_metrics(tab, ensemble or {})
    if metrics is None:
        return None, None
    return metrics, explain_ensemble(tab, ensemble["baseline"], rows.reset_index(drop=True), seed=seed,
                                     weight=ensemble.get("weight", 0.5))
