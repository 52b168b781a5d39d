"""Batch scoring with a saved run: every scenario's predictions, its decision and reasons, and drift.

``score_with_run(run_dir, data, settings=...)`` is what the Score page calls: it checks the
upload's columns against what the model reads (``core.workspace.inputs``), scores every row with
the saved model, applies the scenario's decision (approve / decline, approve / review / block,
reorder levels, pass / reject) with the settings saved with the run unless the analyst changes
them, gives plain-words reasons for the riskiest rows and compares the upload with the training
population (PSI, bands < 0.1 stable, 0.1–0.25 watch, > 0.25 shifted).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

import numpy as np
import pandas as pd

from core.errors import DataValidationError
from core.workspace.inputs import (ColumnMismatchError, ColumnReport, check_columns, coerce_numbers,
                                   get_training_profile)

PAGE_MAX_ROWS = 200_000
REASON_ROWS = 200  # SHAP reasons for the riskiest rows; the CLI explains every declined row
ON_HAND_COLUMNS = ("on_hand", "stock_on_hand", "inventory_on_hand", "stock")
Progress = Callable[[float, str], None]


@dataclass
class BatchResult:
    """What a batch scoring gives back: the downloadable table and what the page shows about it."""

    scenario: str
    run_id: str
    scored: pd.DataFrame
    figures: list[tuple[str, str]]  # (label, formatted value) for the headline tiles
    decisions: pd.DataFrame  # one row per decision (or per series for demand)
    settings: dict
    drift: pd.DataFrame | None = None
    columns: ColumnReport | None = None
    notices: list[str] = field(default_factory=list)
    training_overlap: int = 0  # rows of the file that are training rows of the run (by row hash)


def get_decision_settings(meta: dict) -> dict:
    """The decision settings saved with a run, with the scenario's defaults where none were saved."""
    ws = meta.get("workspace") if isinstance(meta.get("workspace"), dict) else {}
    dec = ws.get("decision") if isinstance(ws.get("decision"), dict) else {}
    scenario = meta.get("scenario")
    if scenario == "credit":
        thr = dec.get("threshold", (meta.get("credit") or {}).get("threshold", meta.get("threshold", 0.5)))
        return {"threshold": float(thr)}
    if scenario == "fraud":
        review = float(dec.get("review_threshold", meta.get("threshold", 0.5)))
        return {"review_threshold": review, "block_threshold": float(dec.get("block_threshold", max(0.9, review)))}
    if scenario == "quality":
        return {"threshold": float(dec.get("threshold", meta.get("threshold", 0.5)))}
    if scenario == "demand":
        horizon = int((meta.get("window") or {}).get("horizon", 14))
        half = max(1, min(7, horizon // 2))
        return {"service_level": float(dec.get("service_level", 0.95)),
                "lead_time": int(dec.get("lead_time", half)), "review_period": int(dec.get("review_period", half)),
                "holding_cost": float(dec.get("holding_cost", 0.1)),
                "stockout_cost": float(dec.get("stockout_cost", 2.0)),
                "aggregate_sigma_scale": float(dec.get("aggregate_sigma_scale", 1.0))}
    raise DataValidationError(f"Run scenario must be credit, fraud, demand or quality; got {scenario!r}. "
                              "Fix: pick a run saved by one of the scenario pages.")


def _check_probability(name: str, value: float) -> float:
    value = float(value)
    if not 0 <= value <= 1:
        raise DataValidationError(f"The {name} must be between 0 and 1; got {value}. Fix: e.g. 0.3.")
    return value


def _noop(_f: float, _m: str) -> None:
    return None


def score_with_run(run_dir, data: Any, *, settings: dict | None = None, max_rows: int = PAGE_MAX_ROWS,
                   reason_rows: int = REASON_ROWS, progress: Progress | None = None) -> BatchResult:
    """Score ``data`` (a DataFrame, or an image zip / folder for quality) with the run in ``run_dir``.

    ``settings`` override the saved decision settings (``get_decision_settings``). Tables longer
    than ``max_rows`` are scored on their first ``max_rows`` rows, with a notice. Raises
    ``DataValidationError`` with expected / got / fix for anything that blocks scoring.
    """
    from core.registry import read_metadata

    run_dir = Path(run_dir)
    meta = read_metadata(run_dir)
    scenario = meta.get("scenario")
    chosen = {**get_decision_settings(meta), **(settings or {})}
    progress = progress or _noop
    if scenario == "quality":
        return _score_quality(run_dir, meta, data, chosen, progress)
    if not isinstance(data, pd.DataFrame):
        raise DataValidationError(f"A {scenario} run scores a table; got {type(data).__name__}. "
                                  "Fix: upload a CSV or Parquet file.")
    notices: list[str] = []
    if len(data) > max_rows:
        notices.append(f"The file has {len(data):,} rows; the first {max_rows:,} are scored here. Score the whole "
                       "file with `python -m core score --model RUN --data FILE --out scored.csv`.")
        data = data.iloc[:max_rows]
    report = check_columns(meta, data)
    if not report.ok:
        raise ColumnMismatchError(report)
    if scenario == "demand":
        # A forecast is a new table, not the upload's rows; stock on hand feeds the order quantities.
        on_hand = tuple(c for c in report.extra if str(c).strip().lower() in ON_HAND_COLUMNS)
        notices += report.notices(kept=False, used=on_hand)
        notices += [f"'{c}' is read as the stock on hand (its latest value per series)." for c in on_hand[:1]]
    else:
        notices += report.notices()
    df = coerce_numbers(data, report).reset_index(drop=True)
    drift = None
    profile = get_training_profile(meta)
    if profile is not None:
        from core.drift import compare_to_profile

        drift = compare_to_profile(profile, df)
    else:
        notices.append("This run was saved without a profile of its training data, so drift is not shown.")
    overlap = get_training_overlap(run_dir, meta, df)
    scorer = {"credit": _score_credit, "fraud": _score_fraud, "demand": _score_demand}[scenario]
    result = scorer(run_dir, meta, df, chosen, progress, reason_rows)
    result.drift, result.columns, result.training_overlap = drift, report, overlap
    if overlap:
        result.figures = [(f"{label} (not a test figure)" if label.startswith("ROC-AUC") else label, value)
                          for label, value in result.figures]
    result.notices = notices + result.notices
    return result


def get_training_overlap(run_dir, meta: dict, df: pd.DataFrame) -> int:
    """Rows of ``df`` the run was trained on (by the row hashes saved with it; 0 when the run has none)."""
    from core.rowhash import ROW_HASH_FILE, count_overlap, load_hashes

    columns = meta.get("row_hash_columns")
    path = Path(run_dir) / ROW_HASH_FILE
    if not columns or not path.exists():
        return 0
    return count_overlap(load_hashes(path), df, list(columns))


def describe_overlap(result: "BatchResult") -> str:
    """The warning the Score page shows when a file repeats training rows."""
    n, total = result.training_overlap, len(result.scored)
    return (f"{n:,} of {total:,} rows in this file ({n / max(total, 1):.0%}) are rows the model was trained on. "
            "Figures measured on them (ROC-AUC, bad rate) are not test figures: the model has seen these "
            "answers. Score rows from after the training period, or the run's held-out rows, for an honest figure.")


# ---------------------------------------------------------------- credit
def _score_credit(run_dir, meta, df, s, progress, reason_rows) -> BatchResult:
    from core.credit.persist import load_credit_model
    from core.credit.scoring import APPROVE, DECLINE, build_scored_frame, compute_reasons_for_rows

    thr = _check_probability("decline threshold", s["threshold"])
    progress(0.05, "Loading the model")
    model = load_credit_model(run_dir)
    chunk = 20_000
    parts = []
    for i in range(0, len(df), chunk):
        parts.append(model.predict(df.iloc[i:i + chunk]))
        progress(0.1 + 0.5 * min(1.0, (i + chunk) / max(len(df), 1)), f"Scored {min(i + chunk, len(df)):,} rows")
    p = np.concatenate(parts) if parts else np.zeros(0)
    declined = np.flatnonzero(p >= thr)
    top = declined[np.argsort(-p[declined], kind="stable")][:reason_rows]
    progress(0.65, f"Reason codes for {len(top):,} declined applicants")
    reasons = compute_reasons_for_rows(df, top.tolist(), explain_fn=model.explain_fn, references=model.references)
    scored = build_scored_frame(df, p, threshold=thr, config=model.scorecard, reasons=reasons)
    notices = []
    if len(declined) > len(top):
        notices.append(f"Reason codes are given for the {len(top):,} riskiest of {len(declined):,} declined "
                       "applicants; the command line gives them for all.")
    counts = scored["decision"].value_counts()
    decisions = pd.DataFrame({"decision": [APPROVE, DECLINE],
                              "applicants": [int(counts.get(APPROVE, 0)), int(counts.get(DECLINE, 0))]})
    decisions["share"] = decisions["applicants"] / max(len(scored), 1)
    decisions["mean_probability_of_default"] = [float(p[p < thr].mean()) if (p < thr).any() else np.nan,
                                                float(p[p >= thr].mean()) if len(declined) else np.nan]
    figures = [("Applicants scored", f"{len(scored):,}"),
               ("Approval rate", f"{1 - len(declined) / max(len(scored), 1):.1%}"),
               ("Declined", f"{len(declined):,}"),
               ("Mean P(default)", f"{p.mean():.3f}" if len(p) else "–")]
    target, positive = meta["credit"]["target"], meta["credit"]["positive"]
    if target in df.columns and df[target].nunique() == 2:
        from core.metrics import compute_binary_metrics

        y = (df[target].astype(str) == str(positive)).to_numpy().astype(int)
        if 0 < y.sum() < len(y):
            m = compute_binary_metrics(y, p, thr)
            figures.append(("ROC-AUC on this file", f"{m['roc_auc']:.3f}"))
            approved = p < thr
            figures.append(("Bad rate of approved", f"{y[approved].mean():.1%}" if approved.any() else "–"))
    progress(1.0, "Done")
    return BatchResult("credit", run_dir.name, scored, figures, decisions, {"threshold": thr}, notices=notices)


# ---------------------------------------------------------------- fraud
def fraud_decisions(risk: np.ndarray, review: float, block: float) -> np.ndarray:
    """'block' at or above the block threshold, 'review' at or above the review one, else 'approve'."""
    risk = np.asarray(risk, dtype=float)
    return np.select([risk >= block, risk >= review], ["block", "review"], "approve")


def _score_fraud(run_dir, meta, df, s, progress, reason_rows) -> BatchResult:
    from core.fraud.persist import load_fraud_model

    review = _check_probability("review threshold", s["review_threshold"])
    block = _check_probability("block threshold", s["block_threshold"])
    if block < review:
        raise DataValidationError(f"The block threshold ({block}) must be at or above the review threshold "
                                  f"({review}). Fix: raise the block threshold.")
    progress(0.05, "Loading the model and its transaction history")
    saved = load_fraud_model(run_dir)
    progress(0.2, "Computing history features and risk")
    scored, X = saved.score(df)
    decision = fraud_decisions(scored["risk"].to_numpy(), review, block)
    scored.insert(1, "decision", decision)
    alerts = int((decision != "approve").sum())
    top = min(alerts, reason_rows)
    notices = []
    progress(0.7, f"Reasons for the {top:,} riskiest alerts")
    reasons = saved.get_reasons(X.iloc[:top]) if top else []
    if reasons is None:
        notices.append("This run was saved without a SHAP background, so alerts have no reasons. Save the run "
                       "again from the fraud page to get them.")
        reasons = []
    scored.insert(2, "top_reasons", list(reasons) + [""] * (len(scored) - len(reasons)))
    if alerts > top:
        notices.append(f"Reasons are given for the {top:,} riskiest of {alerts:,} alerts.")
    amount = saved.columns.amount
    label = saved.columns.target
    rows = []
    for band in ("approve", "review", "block"):
        m = decision == band
        row = {"decision": band, "transactions": int(m.sum()), "share": float(m.mean()) if len(m) else 0.0,
               "amount_at_stake": float(pd.to_numeric(scored.loc[m, amount], errors="coerce").sum())}
        if label and label in scored.columns:
            row["known_fraud"] = int(pd.to_numeric(scored.loc[m, label], errors="coerce").fillna(0).sum())
        rows.append(row)
    figures = [("Transactions scored", f"{len(scored):,}"), ("Alerts (review + block)", f"{alerts:,}"),
               ("Blocked", f"{int((decision == 'block').sum()):,}"),
               ("Amount in alerts", f"{sum(r['amount_at_stake'] for r in rows[1:]):,.0f}")]
    progress(1.0, "Done")
    return BatchResult("fraud", run_dir.name, scored, figures, pd.DataFrame(rows),
                       {"review_threshold": review, "block_threshold": block}, notices=notices)


# ---------------------------------------------------------------- demand
def _score_demand(run_dir, meta, df, s, progress, reason_rows) -> BatchResult:
    from core.demand.export import forecast_with_saved
    from core.demand.inventory import PolicyParams, check_params, policy_from_quantiles

    params = PolicyParams(service_level=float(s["service_level"]), lead_time=int(s["lead_time"]),
                          review_period=int(s["review_period"]), holding_cost=float(s["holding_cost"]),
                          stockout_cost=float(s["stockout_cost"]))
    horizon = int(meta["window"]["horizon"])
    check_params(params, horizon)
    progress(0.1, "Forecasting each series")
    table, skipped = forecast_with_saved(run_dir, df)
    progress(0.8, "Safety stock and reorder points")
    agg = float(s.get("aggregate_sigma_scale", 1.0))
    on_hand = _stock_on_hand(df, meta)
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


def _stock_on_hand(df: pd.DataFrame, meta: dict) -> dict | None:
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


# ---------------------------------------------------------------- quality
def _score_quality(run_dir, meta, data, s, progress, _reason_rows=None) -> BatchResult:
    from core.quality.data import load_images_for_scoring
    from core.quality.evaluate import get_predictions_frame
    from core.quality.export import load_quality_model

    thr = _check_probability("reject threshold", s["threshold"])
    progress(0.05, "Reading the images")
    saved = load_quality_model(run_dir)
    images, names, labels, notices = load_images_for_scoring(
        data, image_size=saved.image_size, channels=saved.channels, class_names=saved.class_names)
    progress(0.4, f"Classifying {len(images):,} images")
    proba = saved.predict_proba(images)
    scored = get_predictions_frame(names, labels, proba, saved.class_names, saved.ok_class, thr)
    figures = [("Images scored", f"{len(scored):,}")]
    if "verdict" in scored:
        rej = scored["verdict"] == "reject"
        decisions = pd.DataFrame({"decision": ["pass", "reject"],
                                  "images": [int((~rej).sum()), int(rej.sum())]})
        figures += [("Rejected", f"{int(rej.sum()):,}"), ("Reject rate", f"{rej.mean():.1%}")]
    else:
        decisions = scored["predicted"].value_counts().rename_axis("predicted").reset_index(name="images")
        notices.append("Every class of this model is a defect type and none means 'good part' (defect typing), "
                       "so there is no pass / reject verdict and the threshold is not used; the predicted "
                       "defect type is given per image.")
    if labels is not None:
        figures.append(("Accuracy on labelled images", f"{(scored['actual'] == scored['predicted']).mean():.1%}"))
        if "verdict" not in scored:
            # Defect typing: the weakest class is the figure to watch, not a reject rate.
            recall = (scored["actual"] == scored["predicted"]).groupby(scored["actual"]).mean()
            figures.append(("Lowest class recall", f"{recall.min():.1%} ({recall.idxmin()})"))
    progress(1.0, "Done")
    return BatchResult("quality", run_dir.name, scored, figures, decisions, {"threshold": thr}, notices=notices)
