"""The search for demand forecasting: window length, the quantile loss's settings and the network's.

Validation is time-aware and inside the training split only: every series is cut at the end of its
training part (the test periods, the last ``horizon + (origins - 1) * step`` of each series or the
separate test file, are never passed in), and a trial trains ``train_demand`` on that history,
which holds out its last ``horizon`` periods as the validation forecast. A trial is scored by the
validation MAE of P50 (holiday weeks weighted 5 when the data has a holiday flag, as the demand
verdict does); the pruner watches the validation P50 error after every epoch, a figure that does
not depend on the loss settings being tried. The final model is trained afterwards by the caller
with ``DemandSearch.config`` on the whole training history, the one time the test periods are used.
"""

from __future__ import annotations

import time

import math
from dataclasses import dataclass, field, replace
from typing import Any, Callable

import numpy as np

from core.errors import DataValidationError
from core.search.engine import SearchProgress, SearchResult, confirm_boots, confirm_details, confirm_level, run_search

TUNED = ("input_len", "tail_quantile", "median_weight", "depth", "width", "dropout", "l2", "learning_rate",
         "batch_size")
BATCH_SIZES = (32, 64, 128, 256, 512)
TAILS = (0.05, 0.1, 0.2, 0.25)
# The search draws L2 on a log scale, whose floor stands for "none" (a chosen floor trains without a
# penalty; trial 0 is today's recipe exactly, with its small penalty).
L2_OFF = 1e-7
BASELINES = ("seasonal_naive", "moving_average")  # the backtest's baseline prefixes, in the order tried
BASELINE_NAMES = {"seasonal_naive": "seasonal naive", "moving_average": "moving average"}
NETWORK = "Keras network's forecast"


def _holdout(cfg) -> int:
    return cfg.horizon + (cfg.origins - 1) * (cfg.step or cfg.horizon)


def split_for_demand_search(data, cfg, *, test=None):
    """The history the search may see, and the window lengths it may try.

    Returns (search data: each usable series cut at the end of its training part, training
    length per series of the full run, window-length choices). A series enters the search when its
    training part holds the longest window tried plus two horizons (fitting windows and the
    validation forecast); shorter ones are left out of the search only.
    """
    from core.demand.data import SERIES_COL, SalesData
    from core.demand.features import make_config

    wcfg = make_config(data, cfg.horizon, cfg.input_len)
    H, L0 = wcfg.horizon, wcfg.input_len
    lengths = data.lengths()
    if test is not None:
        n_train = {sid: int(n) for sid, n in lengths.items()}
    else:
        n_train = {sid: int(n) - _holdout(cfg) for sid, n in lengths.items()}
    usable = {sid: n for sid, n in n_train.items() if n >= L0 + 2 * H}
    if not usable:
        longest = max(n_train.values()) if n_train else 0
        raise DataValidationError(
            f"The model search needs a series with at least {L0 + 2 * H} periods before the test period "
            f"(input window {L0} + a {H}-period validation forecast + {H} periods of targets to fit on); the "
            f"longest has {max(longest, 0)}. Fix: train without the search, choose a shorter horizon, or upload "
            "more history.")
    need = wcfg.season * math.ceil(H / wcfg.season)
    room = min(usable.values()) - 2 * H
    choices = sorted({L for L in (need, L0, (3 * L0) // 2, 2 * L0) if need <= L <= room} | {L0})
    f = data.frame
    pos = f.groupby(SERIES_COL, sort=False).cumcount().to_numpy()
    keep = pos < f[SERIES_COL].map(usable).fillna(-1).to_numpy()
    frame = f[keep].reset_index(drop=True)
    search_data = SalesData(frame, data.frequency, data.freq, data.season, data.covariates,
                            data.binary_covariates, data.columns, data.report)
    return search_data, n_train, choices


@dataclass
class DemandObjective:
    """Settings of the quantile network scored on the validation forecast of the training history."""

    data: Any  # SalesData: the training history only (split_for_demand_search)
    base: Any  # DemandConfig: today's recipe
    window_choices: list[int]
    name: str = "demand network"
    direction: str = "minimize"
    metric: str = "mae"
    metric_label: str = "validation MAE of P50"
    holiday: bool = False

    def default_params(self) -> dict:
        from core.demand.features import make_config

        L0 = make_config(self.data, self.base.horizon, self.base.input_len).input_len
        return {"input_len": int(L0), "tail_quantile": float(self.base.tail_quantile),
                "median_weight": float(self.base.median_weight), "depth": int(self.base.depth),
                "width": int(self.base.width), "dropout": float(self.base.dropout), "l2": max(float(self.base.l2), L2_OFF),
                "learning_rate": float(self.base.learning_rate), "batch_size": int(self.base.batch_size)}

    def suggest(self, trial) -> dict:
        return {
            "input_len": trial.suggest_categorical("input_len", list(self.window_choices)),
            "tail_quantile": trial.suggest_categorical("tail_quantile", list(TAILS)),
            "median_weight": trial.suggest_float("median_weight", 0.5, 4.0, log=True),
            "depth": trial.suggest_int("depth", 1, 4),
            "width": trial.suggest_int("width", 16, 256, log=True),
            "dropout": trial.suggest_float("dropout", 0.0, 0.5),
            "l2": trial.suggest_float("l2", L2_OFF, 1e-2, log=True),
            "learning_rate": trial.suggest_float("learning_rate", 3e-4, 1e-2, log=True),
            "batch_size": trial.suggest_categorical("batch_size", list(BATCH_SIZES)),
        }

    def warm_up(self) -> None:
        """Load TensorFlow and Keras before the clock starts."""
        import logging

        import keras  # noqa: F401

        logging.getLogger("tensorflow").setLevel(logging.ERROR)

    def config_for(self, params: dict):
        over = {k: params[k] for k in TUNED if k in params}
        if "l2" in over and over["l2"] <= L2_OFF:
            over["l2"] = 0.0
        return replace(self.base, **over)

    def evaluate(self, params: dict, report: Callable[[int, float | None], None]):
        from core.demand import forecast

        # A trial trains one network; the final model averages ``members`` of the chosen settings.
        cfg = replace(self.config_for(params), origins=1, step=None, members=1)
        run = forecast.train_demand(self.data, cfg,
                                    progress=lambda epoch, _epochs, logs: report(epoch, logs.get("val_p50_error")))
        bt = run.backtest
        errors = (bt["nn_p50"] - bt["y"]).abs().to_numpy(float)
        weights = (np.where(bt["holiday"].to_numpy(float) > 0.5, 5.0, 1.0)
                   if self.holiday and "holiday" in bt else np.ones(len(errors)))
        keys = list(zip(bt["series"].astype(str), bt["date"].astype(str)))
        # The validation forecasts (P10 / P50 / P90) of the network and the baselines, for the ensemble check.
        forecasts = {p: bt[[f"{p}_p10", f"{p}_p50", f"{p}_p90"]].to_numpy(float) for p in ("nn", *BASELINES)}
        return float((errors * weights).sum() / weights.sum()), (keys, errors, weights,
                                                                 {"y": bt["y"].to_numpy(float), **forecasts})

    def confirm(self, best, recipe, *, comparisons: int = 1) -> tuple[bool, dict]:
        """Keep the best trial only when its lower error is outside the noise: the upper end of a
        paired bootstrap interval of the difference in (weighted) MAE on the validation forecast
        points is below zero, at a level widened for the ``comparisons`` trials the best one was picked
        from. Trials that forecast different points are not compared."""
        from core.ml.verdict import compare_losses

        level = confirm_level(comparisons)
        (kb, eb, w, *_), (kr, er, *_) = best, recipe
        if kb != kr:
            return True, {"sentence": "the trials forecast different validation points; not compared"}
        v = compare_losses(eb, {"recipe": er}, metric="MAE", weights=w, seed=self.base.seed,
                           level=level, n_boot=confirm_boots(level))
        return bool(v.high < 0), confirm_details(v)


def _plain(params: dict) -> dict:
    return {**params, "l2": 0.0} if params.get("l2", 1.0) <= L2_OFF else dict(params)


@dataclass
class DemandSearch:
    """A finished demand search: its result and the DemandConfig to train the final model with."""

    result: SearchResult
    config: Any
    ensemble: dict = field(default_factory=dict)  # the ensemble check, when asked for


def check_demand_ensemble(payload, *, holiday: bool = False) -> dict:
    """Whether the network's forecast blended with a baseline's (seasonal naive or moving average)
    beats the network on the validation forecast of the training history, by the search's own score (MAE
    of P50, holiday weeks weighted 5 where flagged). ``payload`` is the selected trial's
    validation forecasts (``DemandObjective.evaluate``); every quantile is blended with the same
    weight, so the ensemble has P10 / P50 / P90 like the network."""
    from core.search.ensemble import choose_ensemble, ensemble_label

    _keys, _errors, weights, fc = payload
    y = fc["y"]

    def score(q):
        return float((np.abs(q[:, 1] - y) * weights).sum() / weights.sum())

    ens = choose_ensemble(score, fc["nn"], {b: fc[b] for b in BASELINES}, direction="minimize")
    if ens["checked"]:
        ens["metric"] = "wmae" if holiday else "mae"
        ens["label"] = ensemble_label(ens, network=NETWORK, names=BASELINE_NAMES)
    return ens


def ensemble_backtest(run, ens: dict):
    """The final run's backtest with the ensemble's forecasts as columns ``ensemble_p10/p50/p90``."""
    from core.search.ensemble import blend

    bt = run.backtest.copy()
    for q in ("p10", "p50", "p90"):
        bt[f"ensemble_{q}"] = blend(bt[f"nn_{q}"], bt[f"{ens['baseline']}_{q}"], ens.get("weight", 0.5))
    return bt


def demand_ensemble_metrics(run, ens: dict) -> dict | None:
    """The ensemble's backtest metrics (the test periods, as the network's), or None when the search
    did not choose it."""
    if not (ens or {}).get("use"):
        return None
    from core.demand.fmetrics import compute_metrics_table

    bt = ensemble_backtest(run, ens)
    table = compute_metrics_table(bt, {"ensemble": "ensemble"})
    if "holiday" in bt and getattr(run, "holiday_col", None) is not None:
        from core.demand.holidays import add_wmae

        table = add_wmae(table, bt, {"ensemble": "ensemble"})
    return {k: (None if v is None or (isinstance(v, float) and not math.isfinite(v)) else float(v))
            for k, v in table.loc["ensemble"].items()}


def demand_search_section(search: "DemandSearch", run) -> dict:
    """The "search" section of the CLI's JSON and a saved run: the search, and the ensemble with its
    test figures when the search chose it."""
    out = search.result.to_dict()
    if search.ensemble:
        ens = dict(search.ensemble)
        m = demand_ensemble_metrics(run, ens)
        if m is not None:
            ens["test_metrics"] = m
        out["ensemble"] = ens
    return out


def search_demand(data, cfg=None, *, budget: float, test=None, n_trials: int | None = None,
                  ensemble: bool = False, progress: Callable[[SearchProgress], None] | None = None,
                  clock: Callable[[], float] | None = None) -> DemandSearch:
    """Search the demand network's settings on the training history of ``data`` within ``budget``
    seconds (same split as ``train_demand(data, cfg, test=test)``); pass ``.config`` to
    ``train_demand`` with the same data to train the final model."""
    from core.demand.forecast import DemandConfig
    from core.demand.holidays import find_holiday_column
    from core.search.engine import check_budget

    started = (clock or time.perf_counter)()  # the budget counts from here, preparation included
    budget = check_budget(budget)
    cfg = cfg or DemandConfig()
    search_data, n_train, choices = split_for_demand_search(data, cfg, test=test)
    holiday = find_holiday_column(tuple(data.covariates), tuple(data.binary_covariates)) is not None
    objective = DemandObjective(search_data, cfg, choices, holiday=holiday,
                                metric="wmae" if holiday else "mae",
                                metric_label="validation holiday-weighted MAE of P50" if holiday
                                else "validation MAE of P50")
    result = run_search(objective, budget=budget, seed=cfg.seed, n_trials=n_trials, progress=progress,
                        started=started, **({} if clock is None else {"clock": clock}))
    # The floor of the L2 scale means no penalty: show it as 0, as the model is trained.
    result.trials = [replace(t, params=_plain(t.params)) for t in result.trials]
    result.default_params = _plain(result.default_params)
    chosen = result.selected
    config = cfg if chosen is None or chosen.number == 0 else objective.config_for(result.best_params)
    left_out = len(n_train) - len(search_data.series_ids)
    result.extra["split"] = {
        "series": len(search_data.series_ids), "series_left_out": int(left_out),
        "validation": f"last {cfg.horizon} periods of each series' training history",
        "search_rows": int(len(search_data.frame)),
    }
    if left_out:
        result.notices.append(f"{left_out} series too short for a validation forecast inside their training "
                              f"history {'was' if left_out == 1 else 'were'} left out of the search (the final "
                              "model still uses them).")
    ens: dict = {}
    if ensemble and result.payload is not None:
        ens = check_demand_ensemble(result.payload, holiday=holiday)
        result.extra["ensemble"] = ens
    return DemandSearch(result=result, config=config, ensemble=ens)
