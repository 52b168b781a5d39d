"""Demand's steps, written once for every door: train and decide, save, load, explain, score.

:func:`train_and_decide` is the training every door runs (the page's job ``core.demand.jobs``, the command
line ``core.demand.cli``, the Overview's demo and the monitor's challenger ``core.demand.retrain``): the model
search when asked, the quantile network and its baselines on the backtest, the recommended forecast (the
network or its blend with the best baseline, chosen on the validation periods: ``core.demand.blend``), the
inventory policy it is planned with (:func:`decide`), the ensemble's SHAP when asked and, when asked, the
verdict with its trust flags. :func:`save` writes a :class:`DemandOutcome` with its workspace summary;
:func:`load` reads it back and :func:`explain` explains a trained run's P50 with SHAP.

The Score page and ``python -m core score`` (through ``core.serve.batch.score_with_run`` and the scenario's
``score`` hook), the Dask engine (``core.demand.scale``, the same call per group of series) and the
prediction service (``core.demand.serving``) all forecast with :func:`score_demand_batch`: P10 / P50 / P90
per series and each series' safety stock and reorder point under the decision settings.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

TRAINING = "Training the forecast network on every series' windows"  # the stages told ``status``
EXPLAINING = "Explaining the ensemble with SHAP"


@dataclass(frozen=True)
class DemandDecision:
    """The inventory policy the run is planned with (``core.demand.inventory.PolicyParams``, in periods of the
    data; ``notes``: why the default was shortened to fit the horizon), the spread scale of the forecast summed
    over lead time and review (``aggregate_sigma_scale``), the recommended forecast (``recommended``: the JSON's
    ``recommended``, ``core.demand.blend.apply_recommendation``; None when not checked) and, when asked, the
    policy's totals on the backtest against the best baseline's (``policy``, ``summarize_policy``)."""

    params: Any
    notes: tuple[str, ...] = ()
    aggregate_sigma_scale: float = 1.0
    recommended: dict | None = None
    policy: dict | None = None


@dataclass(frozen=True)
class DemandOutcome:
    """One training's result: the run, its decision, the model search (None without one), the ensemble's SHAP
    (``core.ml.explain.ShapResult``, None when not asked or no blend), the verdict with its trust flags (None
    when not asked) and the seconds of the service's own steps (``explain``, ``total``)."""

    run: Any  # core.demand.forecast.DemandRun
    decision: DemandDecision
    search: Any = None
    ensemble_shap: Any = None
    verdict: dict | None = None
    trust: Any = None
    timings: dict = field(default_factory=dict)


def decide(run, params=None, *, lead_time_days: float | None = None, review_days: float | None = None,
           recommended: dict | None = None, policy: bool = False) -> DemandDecision:
    """The inventory decision for ``run``: ``params`` as given (the page's Inventory tab, the demo's), else the
    default policy for lead time and review in days (``core.demand.inventory.default_policy``: 7 and 7 unless
    given) in whole periods of the data; with ``policy`` its totals on the backtest against the best baseline's
    policy (``core.demand.verdict.baseline_policy_backtest``)."""
    from core.demand.inventory import DEFAULT_LEAD_TIME_DAYS, DEFAULT_REVIEW_DAYS, default_policy

    notes: list[str] = []
    if params is None:
        params, notes = default_policy(
            run.data.frequency, run.wcfg.horizon,
            lead_time_days=DEFAULT_LEAD_TIME_DAYS if lead_time_days is None else lead_time_days,
            review_days=DEFAULT_REVIEW_DAYS if review_days is None else review_days)
    agg = float(run.aggregate_scale(params.lead_time + params.review_period))
    totals = None
    if policy:
        from core.demand.blend import saved_name
        from core.demand.inventory import summarize_policy
        from core.demand.verdict import baseline_policy_backtest

        bt, base = baseline_policy_backtest(run, params, agg)  # against the best baseline, as the verdict
        totals = summarize_policy(bt, params, baseline=base, model=saved_name(run))  # the saved forecast's
    return DemandDecision(params, tuple(notes), agg, recommended, totals)


def judge(run, *, searched: bool = False):
    """(the verdict of the saved forecast against the best baseline, (holiday-weighted) MAE, with the trust
    flags, as the CLI's ``verdict``; the ``Trust``). ``searched``: the settings came from a model search."""
    from core.demand.trust import demand_trust
    from core.demand.verdict import compare_demand
    from core.report.trust import verdict_json

    bt = run.backtest
    verdict = compare_demand(run) if any(f"{m}_p50" in bt for m in ("seasonal_naive", "moving_average")) else None
    trust = demand_trust(run, verdict=verdict, searched=searched)
    return verdict_json(verdict, trust, fmt=",.1f", model="The recommended blend" if run.blend else "The network"), trust


def train_and_decide(sales, *, config, test=None, future=None, search_budget: float | None = None,
                     search_trials: int | None = None, search_ensemble: bool = False, recommend: bool = True,
                     ensemble: bool = True, params=None, lead_time_days: float | None = None,
                     review_days: float | None = None, policy: bool = False, explain_ensemble: bool = False,
                     verdict: bool = False, progress=None, status: Callable[[str], None] | None = None,
                     search_progress=None, notice: Callable[[str], None] | None = None) -> DemandOutcome:
    """Search (``search_budget`` seconds, when given; ``search_ensemble``: the search checks the blend too),
    train (``core.demand.forecast.train_demand`` on ``sales``, tested on ``test`` when given, else on the last
    periods; ``future``: the horizon's known-in-advance covariates), make the recommended forecast the saved one
    (unless ``recommend`` is false: the network as trained; ``ensemble=False`` keeps the network even when the
    blend wins), decide (:func:`decide` with ``params`` or the default policy), explain the ensemble with SHAP
    when ``explain_ensemble`` (the saved blend, else the one the search chose) and, when ``verdict``, judge.

    ``progress(epoch, epochs, logs)`` hears every epoch, ``status(text)`` each stage, ``search_progress`` the
    search's trials and ``notice(text)`` the search's notes."""
    from core.demand.forecast import train_demand

    t0 = time.perf_counter()
    found = None
    if search_budget is not None:
        from core.demand.search import search_demand

        found = search_demand(sales, config, budget=search_budget, test=test, n_trials=search_trials,
                              ensemble=search_ensemble, progress=search_progress)
        for line in found.result.notices if notice is not None else ():
            notice(line)
        config = found.config
    if status is not None:
        status(TRAINING)
    run = train_demand(sales, config, test=test, future_covariates=future, progress=progress)
    recommended = None
    if recommend:
        from core.demand.blend import apply_recommendation
        from core.demand.recommend import recommend_forecast

        recommended = apply_recommendation(run, recommend_forecast(run), enabled=ensemble)
    decision = decide(run, params, lead_time_days=lead_time_days, review_days=review_days, recommended=recommended,
                      policy=policy)
    timings, explained = {}, None
    # The saved blend is the one explained; without it, the blend the search chose (shown, not saved).
    ens = {**run.blend, "use": True} if run.blend else (found.ensemble if found is not None else None)
    if explain_ensemble and (ens or {}).get("use"):
        from core.demand.ensemble import explain_demand_ensemble

        if status is not None:
            status(EXPLAINING)
        t1 = time.perf_counter()
        explained = explain_demand_ensemble(run, ens).result
        timings["explain"] = time.perf_counter() - t1
    judged, trust = judge(run, searched=found is not None) if verdict else (None, None)
    timings["total"] = time.perf_counter() - t0
    return DemandOutcome(run, decision, search=found, ensemble_shap=explained, verdict=judged, trust=trust,
                         timings=timings)


def save(outcome: DemandOutcome, run_dir, *, name: str, data: pd.DataFrame | None = None,
         dataset_name: str | None = None, shap=None, lineage: dict | None = None) -> Path:
    """Save the run as the folder ``run_dir`` with its workspace summary (``core.demand.summary``) under the
    outcome's policy, the model search when there was one and ``lineage`` (a challenger's parent); ``data``: the
    sales table to fingerprint, ``shap``: the network's overall SHAP importance when computed (the page's)."""
    from core.demand.export import save_demand_run
    from core.demand.summary import build_demand_summary

    run, params = outcome.run, outcome.decision.params
    summary = build_demand_summary(run, name=name, params=params, data=data, dataset_name=dataset_name, shap=shap)
    if outcome.search is not None:
        from core.demand.search import demand_search_section
        from core.search.scenarios import attach_search

        attach_search(summary, demand_search_section(outcome.search, run))
    if lineage is not None:
        summary["lineage"] = dict(lineage)
    run_dir = Path(run_dir)
    return save_demand_run(run, run_dir.parent, params, run_id=run_dir.name, extra_metadata=summary)


def load(run_dir, *, runtime: str | None = None):
    """A saved demand run, ready to forecast with :func:`score_demand_batch` (its ``loaded``;
    ``core.runtime.load_run_model``: the network and the metadata); ``runtime="onnx"`` runs the network on
    ONNX Runtime."""
    from core.runtime import load_run_model

    return load_run_model(Path(run_dir), runtime=runtime)


def explain(run, *, sid: str | None = None, date=None, seed: int = 0):
    """SHAP of a trained run's P50 (``core.demand.explain.DemandShap``): overall, on a seeded sample of training
    windows, or, with ``sid`` and ``date``, of that series' forward forecast for that date."""
    from core.demand.explain import compute_global_shap, compute_local_shap

    if sid is None:
        return compute_global_shap(run, seed=seed)
    return compute_local_shap(run, sid, date, seed=seed)


ON_HAND_COLUMNS = ("on_hand", "stock_on_hand", "inventory_on_hand", "stock")


def score_demand_batch(run_dir: Path, meta, df, s, progress, *, loaded=None):
    """Forecast the horizon after each series' history with P10 / P50 / P90, and each series' safety
    stock, reorder point (and order quantity with stock on hand) under the decision settings.
    ``loaded``: the run already loaded (a server keeps it), else it is read from ``run_dir``."""
    from core.serve.batch import BatchResult
    from core.demand.export import forecast_with_saved
    from core.demand.inventory import PolicyParams, check_params, policy_from_quantiles

    params = PolicyParams(service_level=float(s["service_level"]), lead_time=int(s["lead_time"]),
                          review_period=int(s["review_period"]), holding_cost=float(s["holding_cost"]),
                          stockout_cost=float(s["stockout_cost"]))
    horizon = int(meta["window"]["horizon"])
    check_params(params, horizon)
    progress(0.1, "Forecasting each series")
    table, skipped = forecast_with_saved(run_dir, df, loaded=loaded)
    progress(0.8, "Safety stock and reorder points")
    agg = float(s.get("aggregate_sigma_scale", 1.0))
    on_hand = stock_on_hand(df, meta)
    rows = []
    for sid, g in table.groupby("series", sort=False):
        pol = policy_from_quantiles(g.sort_values("step")[["p10", "p50", "p90"]].to_numpy(), params, agg)
        row = {"series": sid, "demand_over_protection": pol["demand_protection"],
               "safety_stock": pol["safety_stock"], "reorder_point": pol["reorder_point"],
               "expected_cost_per_period": pol["expected_cost"]}
        if on_hand is not None:
            have = on_hand.get(sid, np.nan)
            row["on_hand"] = have
            row["order_quantity"] = max(0.0, pol["reorder_point"] - have) if np.isfinite(have) else np.nan
        rows.append(row)
    policy = pd.DataFrame(rows).round(3)
    scored = table.merge(policy[["series", "safety_stock", "reorder_point"]
                                + (["order_quantity"] if on_hand is not None else [])], on="series", how="left")
    notices = [f"{n}." for n in skipped]
    if on_hand is None:
        notices.append("Order quantities need the stock on hand: add a column named "
                       f"{' / '.join(ON_HAND_COLUMNS[:2])} (its latest value per series is used). Until then, "
                       "order up to the reorder point minus your stock on hand and on order.")
    unit = {"daily": "day", "weekly": "week", "monthly": "month"}.get(meta["window"].get("frequency"), "period")
    figures = [("Series forecast", f"{policy['series'].nunique():,}"), ("Horizon", f"{horizon} {unit}s"),
               ("Total forecast (P50)", f"{table['p50'].sum():,.0f}"),
               ("Total safety stock", f"{policy['safety_stock'].sum():,.0f}")]
    if on_hand is not None:
        figures.append(("Units to order", f"{np.nansum(policy['order_quantity']):,.0f}"))
    progress(1.0, "Done")
    return BatchResult("demand", run_dir.name, scored, figures, policy,
                       {k: s[k] for k in ("service_level", "lead_time", "review_period", "holding_cost",
                                          "stockout_cost")}, notices=notices)


def stock_on_hand(df: pd.DataFrame, meta: dict) -> dict | None:
    """Latest stock on hand per series id (the ids ``load_sales`` builds), if the file has it."""
    from core.demand.data import series_ids

    col = next((c for c in df.columns if str(c).strip().lower() in ON_HAND_COLUMNS), None)
    if col is None:
        return None
    cm = meta["column_map"]
    dates = pd.to_datetime(df[cm["date"]], errors="coerce", format="mixed")
    sid = series_ids(df, cm["series"])
    frame = pd.DataFrame({"sid": sid, "date": dates, "v": pd.to_numeric(df[col], errors="coerce")}).dropna()
    last = frame.sort_values("date", kind="stable").groupby("sid")["v"].last()
    return {str(k): float(v) for k, v in last.items()}
