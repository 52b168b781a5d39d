"""The workspace summary of a demand run: forecast accuracy, the inventory policy's cost against the
same policy on the best baseline (the verdict's), the verdict itself, the columns scoring needs and the training profile."""

from __future__ import annotations

from dataclasses import asdict

import pandas as pd

from core.report.runsummary import (CURRENCY, curve, envelope, explain_section, get_fingerprint, money_figure,
                             money_text, quality_figure)


def build_demand_summary(run, *, name: str, params, data: pd.DataFrame | None = None,
                         dataset_name: str | None = None, shap=None, currency: str = CURRENCY) -> dict:
    """Workspace dict of a ``DemandRun`` with the inventory policy ``params`` (``PolicyParams``).

    Every figure of "the model" is the saved forecast's (``core.demand.blend``: the recommended blend when the
    run has one, else the network). Money: stock-out plus holding cost of its policy on the backtest, against the same policy
    built on the best baseline's forecast, the one the verdict names (``core.demand.verdict``); the headline
    ratio is the verdict's metric against that baseline too.
    """
    from core.demand.blend import saved_backtest, saved_metrics
    from core.demand.inventory import summarize_policy
    from core.demand.verdict import baseline_policy_backtest, versus_best
    from core.audit import attach_to_fingerprint
    from core.demand.trust import demand_trust
    from core.ml.verdict import Verdict
    from core.data.drift import build_profile
    H = run.wcfg.horizon
    agg = run.aggregate_scale(params.lead_time + params.review_period)
    verdict = demand_verdict(run)
    v = None if verdict is None else Verdict.from_dict(verdict)
    # One comparison: the verdict's best baseline, for the headline ratio and the inventory policy's cost.
    best = versus_best(run, v) if v is not None else None
    base = "seasonal naive" if best is None else best["name"]
    bt, base = baseline_policy_backtest(run, params, agg, v) if v is not None else (None, base)
    saved_bt, prefix, model = saved_backtest(run)
    s = summarize_policy(bt, currency=currency, baseline=base, model=model) if bt is not None else {}
    nn = saved_metrics(run)
    cm = run.data.columns
    target = cm.target
    covs = list(run.data.covariates)
    # Training periods only (the held-out tail is the backtest), in the upload's column names.
    frame = run.data.frame
    pos = frame.groupby("series", sort=False).cumcount().to_numpy()
    n_train = frame["series"].map(run.n_train).fillna(0).to_numpy()
    train_rows = frame[pos < n_train].rename(columns={"y": target})
    base_col = f"{best['key'] if best else 'seasonal_naive'}_p50"
    bt = saved_bt.groupby("date", sort=True)[["y", f"{prefix}_p50", base_col]].sum()
    dates = [d.strftime("%Y-%m-%d") for d in pd.to_datetime(bt.index)]
    freq = run.data.frequency
    unit = {"daily": "day", "weekly": "week", "monthly": "month"}.get(freq, "period")
    saved = s["cost_naive"] - s["cost_model"] if s else None
    ws = envelope(
        "demand", name=name,
        dataset=attach_to_fingerprint(get_fingerprint(data if data is not None else run.data.frame, name=dataset_name),
                                      run.data.report.leakage),
        params={**asdict(run.config), "frequency": freq, "input_len": run.wcfg.input_len,
                "n_series": len(run.n_train), "interval_calibration_factor": round(run.spread_factor, 4)},
        quality=[quality_figure("WAPE", nn["wape"], ".1f") | {"unit": "%"},
                 quality_figure("MASE", nn["mase"], ".2f"),
                 quality_figure(best["label"] if best else "MAE vs baseline",
                                best["ratio"] if best else None, ".0%"),
                 quality_figure("P10–P90 coverage", nn["coverage_p10_p90"], ".0f") | {"unit": "%"},
                 quality_figure("Cycles without stock-out", s.get("cycle_service_model"), ".0%")],
        impact=[money_figure("Inventory cost saved", saved, currency),
                money_figure(f"Cost, {model} policy", s.get("cost_model"), currency),
                money_figure(f"Cost, {base} policy", s.get("cost_naive"), currency)],
        assumptions=[f"Holding cost {money_text(params.holding_cost, currency)} per unit per {unit}",
                     f"Stock-out cost {money_text(params.stockout_cost, currency)} per unit short; cost "
                     f"saved = stock-out + holding cost of the same policy on the {base} forecast (the best "
                     f"baseline, as in the verdict) minus the {model}'s",
                     f"Service level {params.service_level:.1%}, lead time {params.lead_time} and review "
                     f"period {params.review_period} {unit}s",
                     f"Backtest over {len(run.n_train)} series × {run.config.origins} origin(s) of the held-out "
                     f"{H}-{unit} horizon: cost per {unit} of each replenishment cycle, summed; both policies "
                     "costed on the demand that really followed"],
        input_={"columns": [cm.date, target, *cm.series, *covs], "numeric": [target, *covs],
                "categorical": list(cm.series), "kind": "table", "date": cm.date, "target": target,
                "series": list(cm.series), "covariates": covs, "frequency": freq},
        profile=build_profile(train_rows, numeric=[target, *covs]),
        curves={"backtest_actual": curve(dates, bt["y"], "Date", "Actual demand (all series)"),
                "backtest_p50": curve(dates, bt[f"{prefix}_p50"], "Date",
                                       "Forecast P50 (all series)" if model == "network"
                                       else f"Forecast P50, {model} (all series)"),
                "backtest_baseline": curve(dates, bt[base_col], "Date", f"{base.capitalize()} (all series)")},
        decision={"service_level": params.service_level, "lead_time": params.lead_time,
                  "review_period": params.review_period, "holding_cost": params.holding_cost,
                  "stockout_cost": params.stockout_cost, "aggregate_sigma_scale": round(agg, 4),
                  "rule": "order up to the reorder point every review period"},
        explain=explain_section(None if shap is None else getattr(shap, "result", shap),
                                "Press 'Compute overall importance' before saving to record global SHAP."),
        verdict=verdict,
        trust=demand_trust(run, verdict=v).to_list(),
        recommended=recommended_headline(run),
    )
    ws["band"] = backtest_band(saved_bt, prefix)
    return ws


def recommended_headline(run) -> dict | None:
    """``{"model": "network" | "ensemble", "label", "metrics"}``: the saved forecast and its test figures,
    for Runs, the Overview and the model card; None when nothing was recommended."""
    rec = getattr(run, "recommended", None)
    if not rec or not rec.get("checked"):
        return None
    label = rec["label"] if rec.get("model") == "ensemble" else "Keras quantile network"
    return {"model": rec["model"], "label": label, "metrics": rec.get("test_metrics") or {}}


def backtest_band(backtest: pd.DataFrame, prefix: str = "nn") -> dict | None:
    """The busiest series' last backtest origin: actual demand and the saved forecast's P10 / P50 / P90
    (columns ``prefix``\_p10 ...: ``nn`` the network's, ``ensemble`` a saved blend's), for presenter mode's
    forecast band (a few dozen numbers)."""
    need = {"series", "origin", "date", "y", f"{prefix}_p10", f"{prefix}_p50", f"{prefix}_p90"}
    if backtest is None or not need <= set(backtest.columns) or backtest.empty:
        return None
    sid = backtest.groupby("series")["y"].sum().idxmax()
    b = backtest[backtest["series"] == sid]
    b = b[b["origin"] == b["origin"].max()].sort_values("date")
    r = lambda col: [round(float(v), 3) for v in b[col]]  # noqa: E731
    return {"series": str(sid), "date": [d.strftime("%Y-%m-%d") for d in pd.to_datetime(b["date"])],
            "y": r("y"), "p10": r(f"{prefix}_p10"),
            "p50": r(f"{prefix}_p50"), "p90": r(f"{prefix}_p90")}


def demand_verdict(run) -> dict | None:
    """The network against the best baseline on (holiday-weighted) MAE over the backtest
    (``core.demand.verdict.compare_demand``, the page's rule), or None without a baseline."""
    from core.demand.verdict import compare_demand

    bt = run.backtest
    if "nn_p50" not in bt or not any(f"{m}_p50" in bt for m in ("seasonal_naive", "moving_average")):
        return None
    return compare_demand(run).to_dict()
