"""The ``"workspace"`` part of a saved run's metadata, built from a trained run of any scenario.

One builder per scenario takes the trained run object and the decision settings the analyst chose
(threshold, costs, policy) and returns the dict documented in ``core/workspace/__init__.py``:
headline quality and money figures with the assumptions behind them, data fingerprint, parameters,
input columns, training profile for drift, curves for overlays, decision settings, global SHAP
importance when computed, intended use and limitations. Money figures reuse each scenario's own
decision functions, so the overview shows exactly what the scenario page showed.

Everything returned is plain JSON (floats, ints, strings, lists, dicts).
"""

from __future__ import annotations

import hashlib
import math
import re
from dataclasses import asdict
from pathlib import Path
from typing import Any, Callable

import numpy as np
import pandas as pd

from core.errors import DataValidationError

SCENARIO_KEYS = ("credit", "fraud", "demand", "quality")
MAX_CURVE_POINTS = 200
CURRENCY = "€"  # the app takes costs as plain numbers; this is the unit they are shown in
CURRENCY_SYMBOLS = ("€", "$", "£", "¥", "₹")

INTENDED_USE = {
    "credit": "Rank loan applications by probability of default and support an approve / decline "
              "decision at a profit-based threshold, with reason codes for declines. A decision aid for "
              "credit analysts; final decisions and adverse-action notices stay with people.",
    "fraud": "Rank card transactions by fraud risk so that a review team sees the riskiest first, with an "
             "approve / review / block policy set by review capacity and cost.",
    "demand": "Forecast unit demand per series with P10 / P50 / P90 intervals and turn them into safety "
              "stock and reorder points for periodic-review replenishment.",
    "quality": "Flag product images that probably show a defect, so that an inspector checks or rejects "
               "the part; heatmaps show where the model looked.",
}
LIMITATIONS = {
    "credit": [
        "Trained on past approved applicants only: applicants who were declined never had an outcome "
        "(reject inference is not applied).",
        "Sensitive attributes are excluded from the features, but correlated columns can still act as "
        "proxies; check the fairness table before use.",
        "Probabilities are calibrated to the training population; re-check drift (PSI) on new batches.",
    ],
    "fraud": [
        "Fraud patterns change quickly; the model needs retraining as new labelled fraud arrives.",
        "Labels arrive late: recent transactions are treated as legitimate until confirmed.",
        "Money figures are measured on the test period only and assume every reviewed fraud is stopped.",
    ],
    "demand": [
        "Future covariates (promotions, holidays) are assumed off and prices keep their last value unless "
        "supplied.",
        "Series shorter than the input window plus horizon are not forecast.",
        "The inventory costs are a backtest on held-out history, not a guarantee for future periods.",
    ],
    "quality": [
        "Trained on the labelled images provided; defect types or lighting not seen in training may pass.",
        "Test sets of a few hundred images give wide uncertainty on escape rates.",
        "Heatmaps show where the model looked, not a proof that the defect is there.",
    ],
}


# ---------------------------------------------------------------- small helpers
def _f(v: Any) -> float | None:
    """A JSON-safe float (None for NaN / infinity)."""
    try:
        x = float(v)
    except (TypeError, ValueError):
        return None
    return x if math.isfinite(x) else None


def _quality(label: str, value, fmt: str = ".3f") -> dict:
    return {"label": label, "value": _f(value), "fmt": fmt}


def _money(label: str, value, unit: str = CURRENCY) -> dict:
    # Whole units for large sums; cents where the sums are small (a few cycles of holding cost).
    v = _f(value)
    return {"label": label, "value": v, "unit": unit, "fmt": ",.0f" if v is None or abs(v) >= 100 else ",.2f"}


def _money_text(v: float, unit: str = CURRENCY) -> str:
    return f"{unit}{v:,.2f}" if abs(v) < 100 and v != int(v) else f"{unit}{v:,.0f}"


def format_figure(fig: dict) -> str:
    """One headline figure as text: ``0.812``, ``€12,345``, ``84.0%`` ("not recorded" if missing)."""
    value = fig.get("value")
    if value is None:
        return "not recorded"
    try:
        text = format(value, fig.get("fmt") or "")
    except (TypeError, ValueError):
        text = str(value)
    unit = fig.get("unit") or ""
    if not unit:
        return text
    if unit in CURRENCY_SYMBOLS:  # €1,234 and -€1,234
        return f"-{unit}{text[1:]}" if text.startswith("-") else f"{unit}{text}"
    return f"{text}{unit}" if unit == "%" else f"{text} {unit}"


def _thin(x, y, n: int = MAX_CURVE_POINTS) -> tuple[list, list]:
    """At most ``n`` points, evenly spread along the curve, always keeping both ends."""
    x, y = list(x), list(y)
    if len(x) > n:
        keep = np.unique(np.linspace(0, len(x) - 1, n).round().astype(int))
        x, y = [x[i] for i in keep], [y[i] for i in keep]
    return x, y


def _curve(x, y, x_label: str, y_label: str) -> dict:
    x, y = _thin(x, y)
    conv = (lambda v: v) if x and isinstance(x[0], str) else (lambda v: round(float(v), 6))
    return {"x": [conv(v) for v in x], "y": [round(float(v), 6) for v in y], "x_label": x_label,
            "y_label": y_label}


def _period(text: str) -> str:
    """'2024-04-22 .. 2024-05-05 (3,550 rows)' -> '2024-04-22 to 2024-05-05'."""
    return re.sub(r"\s*\(.*\)\s*$", "", str(text)).replace(" .. ", " to ")


def _roc_pr(y, p) -> dict:
    from core.metrics import compute_pr, compute_roc

    y = np.asarray(y).astype(int)
    if len(np.unique(y)) < 2:
        return {}
    roc, pr = compute_roc(y, p), compute_pr(y, p)
    # sklearn gives the PR curve from high to low recall; overlays read better left to right.
    pr = pr.iloc[::-1]
    return {"roc": _curve(roc["fpr"], roc["tpr"], "False positive rate", "True positive rate"),
            "pr": _curve(pr["recall"], pr["precision"], "Recall", "Precision")}


def _importance(shap_result) -> dict | None:
    """Mean |SHAP| per feature from a ``ShapResult`` (None when nothing was explained)."""
    if shap_result is None:
        return None
    imp = shap_result.importance()
    return {str(f): round(float(v), 6) for f, v in zip(imp["feature"], imp["importance"])}


def _explain(shap_result, note: str = "") -> dict:
    imp = _importance(shap_result)
    if imp is not None:
        return {"importance": imp}
    return {"note": note or "Global SHAP importance was not computed for this run."}


def _jsonable(d: dict) -> dict:
    """Round-trip through the registry's JSON rules (numpy numbers, tuples, dates)."""
    import json

    from core.registry import _json_default

    return json.loads(json.dumps(d, default=_json_default))


def _verdict(y, p_model, baselines: dict, metric: str) -> dict | None:
    """The network against the best baseline with its bootstrap interval (``core.verdict``), or
    None when there is nothing to compare with."""
    from core.glossary import MODELS
    from core.verdict import compare_binary

    if not baselines or len(np.unique(np.asarray(y).astype(int))) < 2:
        return None
    return compare_binary(y, p_model, baselines, metric=metric, names=MODELS, seed=0).to_dict()


def _envelope(scenario: str, *, name: str, dataset: dict, params: dict, quality: list, impact: list,
              assumptions: list[str], input_: dict, profile: dict, curves: dict, decision: dict,
              explain: dict, verdict: dict | None = None) -> dict:
    name = (name or "").strip()
    if not name:
        raise DataValidationError(
            "A saved run needs a name; got an empty one. Fix: type a short name, e.g. 'credit sample, "
            "class weights'.")
    return _jsonable({
        "name": name, "scenario": scenario, "dataset": dataset, "params": params,
        "headline": {"quality": quality, "impact": impact, "assumptions": assumptions,
                     **({"verdict": verdict} if verdict else {})},
        "input": input_, "profile": profile, "curves": curves, "decision": decision, "explain": explain,
        "intended_use": INTENDED_USE[scenario], "limitations": list(LIMITATIONS[scenario]),
    })


def default_run_name(scenario: str, dataset_name: str | None = None) -> str:
    """``'credit · credit_applications.csv'``: a name the analyst can keep (the date is saved apart)."""
    return " · ".join(p for p in (scenario, Path(dataset_name).name if dataset_name else None) if p)


# ---------------------------------------------------------------- credit
def build_credit_summary(run, *, name: str, threshold: float, loss_default: float, margin_good: float,
                         data: pd.DataFrame | None = None, dataset_name: str | None = None, shap=None,
                         scorecard=None, currency: str = CURRENCY) -> dict:
    """Workspace dict of a ``CreditRun`` at the chosen decline threshold and costs.

    Money: expected profit on the test applicants at the threshold, and the loss avoided against
    approving everyone (the same profit rule as the page: approved goods earn ``margin_good``,
    approved defaulters lose ``loss_default``).
    """
    from core.credit.profit import compute_decision_kpis
    from core.drift import build_profile
    from core.metrics import compute_binary_metrics
    from core.workspace import get_fingerprint

    y, p = np.asarray(run.y_test).astype(int), np.asarray(run.p_test, dtype=float)
    kpi = compute_decision_kpis(y, p, threshold=threshold, loss_default=loss_default, margin_good=margin_good)
    bads = int(y.sum())
    approve_all = margin_good * (len(y) - bads) - loss_default * bads
    m = compute_binary_metrics(y, p, threshold)
    setup = run.setup
    frame = data if data is not None else pd.concat([run.train_df, run.test_df], ignore_index=True)
    params = dict(run.tabular.save_metadata()["config"])
    params["test_rows"], params["train_rows"] = int(len(run.test_df)), int(len(run.train_df))
    decision = {"threshold": float(threshold), "rule": "decline when P(default) >= threshold",
                "loss_default": float(loss_default), "margin_good": float(margin_good)}
    if scorecard is not None:
        decision["scorecard"] = asdict(scorecard)
    return _envelope(
        "credit", name=name, dataset=get_fingerprint(frame, name=dataset_name), params=params,
        quality=[_quality("ROC-AUC", m["roc_auc"]), _quality("PR-AUC", m["pr_auc"]), _quality("Gini", m["gini"]),
                 _quality("Approval rate", kpi["approval_rate"], ".1%"),
                 _quality("Bad rate of approved", kpi["bad_rate"], ".1%")],
        impact=[_money("Loss avoided", kpi["profit"] - approve_all, currency),
                _money("Expected profit", kpi["profit"], currency)],
        assumptions=[f"Loss per approved defaulter {_money_text(loss_default, currency)}",
                     f"Margin per approved good applicant {_money_text(margin_good, currency)}",
                     f"Decline when P(default) ≥ {threshold:.3f}; loss avoided = profit at this threshold "
                     "minus profit when approving everyone",
                     f"Counted on {len(y):,} held-out test applicants ({y.mean():.1%} defaults); declined "
                     "applicants earn and cost nothing"],
        input_={"columns": list(setup.features), "numeric": list(setup.numeric),
                "categorical": list(setup.categorical), "kind": "table", "target": setup.target,
                "positive": str(setup.positive), "sensitive": list(setup.sensitive)},
        profile=build_profile(run.train_df, numeric=setup.numeric, categorical=setup.categorical),
        curves=_roc_pr(y, p), decision=decision,
        explain=_explain(shap, "Train with SHAP rows above 0 to record global importance."),
        verdict=_verdict(y, p, {k: v for k, v in run.tabular.proba.items() if k != "network"}, "roc_auc"),
    )


# ---------------------------------------------------------------- fraud
def build_fraud_summary(run, *, name: str, review_threshold: float, block_threshold: float | None = None,
                        review_fee: float, data: pd.DataFrame | None = None, dataset_name: str | None = None,
                        explanations=None, currency: str = CURRENCY) -> dict:
    """Workspace dict of a ``FraudRun`` at the chosen review / block thresholds and review fee.

    Money: fraud amount in the alerted transactions (review + block bands) against the cost of
    reviewing every alert, on the test period; net = caught minus review cost (savings vs no model).
    """
    from core.drift import build_profile
    from core.fraud.decisions import compute_decision_bands
    from core.fraud.pipeline import NETWORK, run_summary
    from core.workspace import get_fingerprint

    if review_fee < 0:
        raise DataValidationError(f"Expected a review fee of 0 or more; got {review_fee}. "
                                  "Fix: enter the cost of reviewing one alert, e.g. 5.")
    block = 1.0 if block_threshold is None else float(block_threshold)
    block = max(block, float(review_threshold))
    test = run.test
    y, p, a = test["label"].to_numpy(), test[f"score_{NETWORK}"].to_numpy(), test["amount"].to_numpy(float)
    bands = compute_decision_bands(y, p, a, review_threshold=float(review_threshold),
                                   block_threshold=block).set_index("band")
    flagged = bands.loc[["review", "block"]]
    alerts = int(flagged["transactions"].sum())
    caught = float(flagged["fraud_amount"].sum())
    review_cost = review_fee * alerts
    net = run.metrics[NETWORK]
    k = run.config.k
    cols = run.columns
    raw = [c for c in (cols.time, cols.amount, cols.customer, cols.terminal) if c] + list(run.extra_columns)
    hist = run.history
    numeric = [cols.amount] + [c for c in run.extra_columns if pd.api.types.is_numeric_dtype(hist[c])]
    categorical = [c for c in run.extra_columns if c not in numeric]
    train_rows = hist.iloc[run.split.train_idx]
    total_fraud = float((a * y).sum())
    return _envelope(
        "fraud", name=name, dataset=get_fingerprint(data if data is not None else hist, name=dataset_name),
        params=run_summary(run)["config"],
        quality=[_quality("PR-AUC", net.get("pr_auc")), _quality("ROC-AUC", net.get("roc_auc")),
                 _quality(f"Card precision@{k}", net.get(f"card_precision_at_{k}")),
                 _quality("Share of fraud amount caught", caught / total_fraud if total_fraud else None, ".1%")],
        impact=[_money("Fraud caught", caught, currency), _money("Review cost", review_cost, currency),
                _money("Net saving", caught - review_cost, currency)],
        assumptions=[f"Review fee {_money_text(review_fee, currency)} per alert",
                     f"Alert (review) at risk ≥ {review_threshold:.3f}; block at ≥ {block:.3f}",
                     "A reviewed fraud is stopped and its amount saved; net saving = fraud caught minus "
                     "review cost, against no model (nothing reviewed)",
                     f"Test period {_period(run.split.summary().get('test', ''))}: {len(y):,} transactions, "
                     f"{alerts:,} alerts, {int(y.sum()):,} frauds"],
        input_={"columns": raw, "numeric": numeric, "categorical": categorical, "kind": "table",
                "time": cols.time, "amount": cols.amount, "customer": cols.customer, "terminal": cols.terminal,
                "target": cols.target},
        profile=build_profile(train_rows, numeric=numeric, categorical=categorical),
        curves=_roc_pr(y, p),
        decision={"threshold": float(review_threshold), "review_threshold": float(review_threshold),
                  "block_threshold": block, "review_fee": float(review_fee),
                  "rule": "review when risk >= review_threshold, block when risk >= block_threshold"},
        explain=_explain(None if explanations is None else explanations.global_sample),
        verdict=_verdict(y, p, {m: test[f"score_{m}"].to_numpy() for m in run.metrics if m != NETWORK}, "pr_auc"),
    )


# ---------------------------------------------------------------- demand
def build_demand_summary(run, *, name: str, params, data: pd.DataFrame | None = None,
                         dataset_name: str | None = None, shap=None, currency: str = CURRENCY) -> dict:
    """Workspace dict of a ``DemandRun`` with the inventory policy ``params`` (``PolicyParams``).

    Money: stock-out plus holding cost of the network's policy on the backtest, against the same
    policy built on the seasonal-naive forecast (``compute_policy_backtest`` / ``summarize_policy``).
    """
    from core.demand.forecast import get_naive_sd
    from core.demand.inventory import compute_policy_backtest, summarize_policy
    from core.drift import build_profile
    from core.workspace import get_fingerprint

    H = run.wcfg.horizon
    agg = run.aggregate_scale(params.lead_time + params.review_period)
    s = summarize_policy(compute_policy_backtest(run.backtest, params, H, get_naive_sd(run), agg))
    nn, sn = run.metrics.iloc[0], run.metrics.loc["Seasonal naive"]
    cm = run.data.columns
    target = cm.target
    covs = list(run.data.covariates)
    # Training periods only (the held-out tail is the backtest), in the upload's column names.
    frame = run.data.frame
    pos = frame.groupby("series", sort=False).cumcount().to_numpy()
    n_train = frame["series"].map(run.n_train).fillna(0).to_numpy()
    train_rows = frame[pos < n_train].rename(columns={"y": target})
    bt = run.backtest.groupby("date", sort=True)[["y", "nn_p50", "seasonal_naive_p50"]].sum()
    dates = [d.strftime("%Y-%m-%d") for d in pd.to_datetime(bt.index)]
    freq = run.data.frequency
    unit = {"daily": "day", "weekly": "week", "monthly": "month"}.get(freq, "period")
    saved = s["cost_naive"] - s["cost_model"]
    return _envelope(
        "demand", name=name,
        dataset=get_fingerprint(data if data is not None else run.data.frame, name=dataset_name),
        params={**asdict(run.config), "frequency": freq, "input_len": run.wcfg.input_len,
                "n_series": len(run.n_train), "interval_calibration_factor": round(run.spread_factor, 4)},
        quality=[_quality("WAPE", nn["wape"], ".1f") | {"unit": "%"},
                 _quality("MASE", nn["mase"], ".2f"),
                 _quality("MAE vs seasonal naive", nn["mae"] / sn["mae"] if sn["mae"] else None, ".0%"),
                 _quality("P10–P90 coverage", nn["coverage_p10_p90"], ".0f") | {"unit": "%"},
                 _quality("Cycles without stock-out", s["cycle_service_model"], ".0%")],
        impact=[_money("Inventory cost saved", saved, currency),
                _money("Cost, network policy", s["cost_model"], currency),
                _money("Cost, naive policy", s["cost_naive"], currency)],
        assumptions=[f"Holding cost {_money_text(params.holding_cost, currency)} per unit per {unit}",
                     f"Stock-out cost {_money_text(params.stockout_cost, currency)} per unit short; cost "
                     "saved = stock-out + holding cost of the seasonal-naive policy minus the network's",
                     f"Service level {params.service_level:.1%}, lead time {params.lead_time} and review "
                     f"period {params.review_period} {unit}s",
                     f"Backtest over {len(run.n_train)} series × {run.config.origins} origin(s) of the held-out "
                     f"{H}-{unit} horizon: cost per {unit} of each replenishment cycle, summed; both policies "
                     "costed on the demand that really followed"],
        input_={"columns": [cm.date, target, *cm.series, *covs], "numeric": [target, *covs],
                "categorical": list(cm.series), "kind": "table", "date": cm.date, "target": target,
                "series": list(cm.series), "covariates": covs, "frequency": freq},
        profile=build_profile(train_rows, numeric=[target, *covs]),
        curves={"backtest_actual": _curve(dates, bt["y"], "Date", "Actual demand (all series)"),
                "backtest_p50": _curve(dates, bt["nn_p50"], "Date", "Forecast P50 (all series)"),
                "backtest_naive": _curve(dates, bt["seasonal_naive_p50"], "Date", "Seasonal naive (all series)")},
        decision={"service_level": params.service_level, "lead_time": params.lead_time,
                  "review_period": params.review_period, "holding_cost": params.holding_cost,
                  "stockout_cost": params.stockout_cost, "aggregate_sigma_scale": round(agg, 4),
                  "rule": "order up to the reorder point every review period"},
        explain=_explain(None if shap is None else getattr(shap, "result", shap),
                         "Press 'Compute overall importance' before saving to record global SHAP."),
    )


# ---------------------------------------------------------------- quality
def image_fingerprint(data) -> dict:
    """Fingerprint of an ``ImageDataset``: file names, labels and a hash of every image's pixels."""
    from core.workspace import get_fingerprint

    digests = [hashlib.sha256(np.ascontiguousarray(img).tobytes()).hexdigest()[:16] for img in data.images]
    frame = pd.DataFrame({"file": list(data.names), "label": [data.class_names[i] for i in data.labels],
                          "pixels_sha": digests})
    return get_fingerprint(frame)


def build_quality_summary(run, *, name: str, threshold: float, cost_escape: float, cost_false_reject: float,
                          data=None, dataset_name: str | None = None, currency: str = CURRENCY) -> dict:
    """Workspace dict of a ``QualityRun`` at the chosen reject threshold and costs.

    Money (when an OK class exists): escape cost prevented (defects caught × cost of an escape)
    against the cost of good parts rejected, on the test images; net = saving vs no inspection model.
    """
    from core.quality.evaluate import (compute_cost_analysis, compute_defect_metrics, get_defect_labels,
                                       get_defect_scores)

    m = run.metrics
    quality = [_quality("Accuracy", m["accuracy"], ".1%"), _quality("Macro F1", m["macro_f1"], ".3f")]
    impact, curves = [], {}
    n = len(run.test.labels)
    assumptions = [f"Counted on {n:,} held-out test images"]
    if run.ok_class is not None:
        y_def = get_defect_labels(run.test.labels, run.class_names, run.ok_class)
        p_def = get_defect_scores(run.test_proba, run.class_names, run.ok_class)
        cost = compute_cost_analysis(y_def, p_def, cost_escape=cost_escape, cost_false_reject=cost_false_reject,
                                     threshold=threshold)
        dm = compute_defect_metrics(y_def, p_def, threshold)
        prevented, fr_cost = dm["caught"] * cost_escape, dm["false_rejects"] * cost_false_reject
        # The reject decision's figures first: they are what the overview shows.
        quality = [_quality("Defect ROC-AUC", dm["defect_roc_auc"]),
                   _quality("Defect recall", dm["defect_recall"], ".1%"),
                   _quality("Escape rate", dm["escape_rate"], ".1%"), *quality]
        impact = [_money("Escape cost prevented", prevented, currency),
                  _money("False-reject cost", fr_cost, currency),
                  _money("Net saving", prevented - fr_cost, currency)]
        assumptions = [f"Cost of an escaped defect {_money_text(cost_escape, currency)}",
                       f"Cost of a false reject (good part scrapped) {_money_text(cost_false_reject, currency)}",
                       f"Reject when P(defect) ≥ {threshold:.2f} ({_money_text(cost.cost_at_threshold, currency)} "
                       "per part); net saving = escapes prevented minus false-reject cost, against passing "
                       "every part",
                       f"{assumptions[0]}: {int(y_def.sum())} defective, {int(n - y_def.sum())} OK"]
        curves = _roc_pr(y_def, p_def)
    else:
        quality.insert(0, _quality("ROC-AUC (one-vs-rest)", m["roc_auc"]))
        quality.append(_quality("Lowest class recall", min(v["recall"] for v in m["per_class"].values()), ".1%"))
        assumptions.append("Every class is a defect type, none means 'good part' (defect typing): no reject "
                           "decision, so no escape rate, cost threshold or money figures")
    dataset = image_fingerprint(data) if data is not None else image_fingerprint(run.test)
    dataset["name"] = dataset_name
    return _envelope(
        "quality", name=name, dataset=dataset,
        params={**asdict(run.config), "backbone_used": run.backbone_used, "image_size": run.image_size,
                "channels": run.channels},
        quality=quality, impact=impact, assumptions=assumptions,
        input_={"columns": [], "numeric": [], "categorical": [], "kind": "images", "image_size": run.image_size,
                "channels": run.channels, "class_names": list(run.class_names), "ok_class": run.ok_class},
        # Images have no column profile; drift for images would need embeddings (not recorded).
        profile={"rows": int(sum(run.counts_before.values())), "columns": {}},
        curves=curves,
        decision={"threshold": float(threshold), "cost_escape": float(cost_escape),
                  "cost_false_reject": float(cost_false_reject), "ok_class": run.ok_class,
                  "rule": "reject when P(defect) = 1 - P(ok) >= threshold"} if run.ok_class is not None else
        # Defect typing: every class is a defect type, so there is no reject threshold or cost.
        {"task": "defect_typing", "ok_class": None, "rule": "the most probable defect type per image",
         "per_class_recall": {c: v["recall"] for c, v in m["per_class"].items()}},
        explain=_explain(None, "Image explanations are per image (Grad-CAM and SHAP heatmaps); no global "
                               "importance is recorded."),
    )


BUILDERS: dict[str, Callable[..., dict]] = {
    "credit": build_credit_summary, "fraud": build_fraud_summary,
    "demand": build_demand_summary, "quality": build_quality_summary,
}


def build_summary(scenario: str, run, **settings) -> dict:
    """Dispatch to the scenario's builder (``settings`` are that builder's keywords)."""
    if scenario not in BUILDERS:
        raise DataValidationError(f"Scenario must be one of {', '.join(BUILDERS)}; got '{scenario}'. "
                                  "Fix: pass the key of a scenario.")
    return BUILDERS[scenario](run, **settings)


# ---------------------------------------------------------------- reading saved runs
def get_latest_runs(root) -> tuple[dict[str, dict], list[str]]:
    """The newest readable run of each scenario under ``root`` (metadata) and notes on skipped runs.

    Reads JSON only (no Keras import), so the overview stays fast.
    """
    from core.registry import list_runs

    runs, skipped = list_runs(root)
    latest: dict[str, dict] = {}
    for meta in runs:  # newest first
        latest.setdefault(str(meta.get("scenario")), meta)
    return {k: v for k, v in latest.items() if k in SCENARIO_KEYS}, skipped
