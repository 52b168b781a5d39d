"""Approve / decline economics: expected profit by threshold and the KPIs at one threshold.

An applicant is approved when the predicted probability of default is below the threshold.
Approving a good applicant earns ``margin_good`` (the margin that rejecting them would lose);
approving a defaulter costs ``loss_default``. Declined applicants earn and cost nothing, so profit
is measured against declining everyone. Every function here is vectorised (one sort, one cumulative
sum) so that a page recomputes the whole curve in milliseconds when a cost or the threshold moves.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from core.errors import DataValidationError

# The decision costs every door opens with (the credit page, ``--loss-default`` / ``--margin-good``, a
# retrain of a run saved without them): approving a defaulter loses 5,000, declining a good applicant 1,000.
LOSS_DEFAULT = 5000.0
MARGIN_GOOD = 1000.0


def _check_inputs(y, p, loss_default: float, margin_good: float) -> tuple[np.ndarray, np.ndarray]:
    y = np.asarray(y).astype(int).ravel()
    p = np.asarray(p, dtype=float).ravel()
    if y.shape != p.shape:
        raise DataValidationError(
            f"Outcomes and probabilities must have the same length; got {len(y)} and {len(p)}. "
            "Fix: score the same rows you have outcomes for."
        )
    if len(y) == 0:
        raise DataValidationError(
            "The profit curve needs scored applicants; got none. Fix: train a model or upload rows."
        )
    for name, value in (("Loss from approving a defaulter", loss_default),
                        ("Margin lost by rejecting a good applicant", margin_good)):
        if not (math.isfinite(value) and value >= 0):
            raise DataValidationError(
                f"{name} must be a non-negative amount; got {value}. Fix: enter 0 or more."
            )
    return y, p


def compute_profit_curve(y, p_default, *, loss_default: float, margin_good: float,
                         n_thresholds: int = 201) -> pd.DataFrame:
    """Expected profit, approval rate and bad rate at evenly spaced thresholds from 0 to 1.

    Columns: threshold, approved, approval_rate, approved_bads, bad_rate (default rate among the
    approved), declined_bads, profit, profit_per_applicant.
    """
    y, p = _check_inputs(y, p_default, loss_default, margin_good)
    thresholds = np.linspace(0.0, 1.0, n_thresholds)
    # Approve strictly below the threshold, so threshold 1.0 still declines a p == 1.0 applicant
    # and the grid agrees with `compute_decision_kpis` at every point.
    order = np.argsort(p, kind="mergesort")
    ps, ys = p[order], y[order]
    approved = np.searchsorted(ps, thresholds, side="left")
    approved_bads = np.r_[0, np.cumsum(ys)][approved]
    approved_goods = approved - approved_bads
    profit = margin_good * approved_goods - loss_default * approved_bads
    n = len(y)
    with np.errstate(divide="ignore", invalid="ignore"):
        bad_rate = np.where(approved > 0, approved_bads / np.maximum(approved, 1), 0.0)
    return pd.DataFrame({
        "threshold": thresholds,
        "approved": approved,
        "approval_rate": approved / n,
        "approved_bads": approved_bads,
        "bad_rate": bad_rate,
        "declined_bads": int(ys.sum()) - approved_bads,
        "profit": profit.astype(float),
        "profit_per_applicant": profit / n,
    })


def find_optimal_threshold(curve: pd.DataFrame) -> dict[str, float]:
    """The grid row with the highest profit (the lowest threshold among ties)."""
    i = int(np.argmax(curve["profit"].to_numpy()))
    row = curve.iloc[i]
    return {k: float(row[k]) for k in ("threshold", "profit", "approval_rate", "bad_rate")}


def compute_decision_kpis(y, p_default, *, threshold: float, loss_default: float,
                          margin_good: float) -> dict[str, float]:
    """Business KPIs at one threshold: approval rate, bad rate, profit and what the model catches."""
    y, p = _check_inputs(y, p_default, loss_default, margin_good)
    if not 0.0 <= threshold <= 1.0:
        raise DataValidationError(
            f"The decision threshold must be a probability between 0 and 1; got {threshold}. "
            "Fix: pick a value on the slider."
        )
    approve = p < threshold
    approved = int(approve.sum())
    approved_bads = int((approve & (y == 1)).sum())
    declined_goods = int((~approve & (y == 0)).sum())
    bads = int(y.sum())
    profit = margin_good * (approved - approved_bads) - loss_default * approved_bads
    return {
        "threshold": float(threshold),
        "applicants": int(len(y)),
        "approved": approved,
        "declined": int(len(y) - approved),
        "approval_rate": approved / len(y),
        "bad_rate": approved_bads / approved if approved else 0.0,
        "defaults_caught": (bads - approved_bads) / bads if bads else 0.0,
        "goods_declined": declined_goods,
        "profit": float(profit),
        "profit_per_applicant": float(profit) / len(y),
    }


def break_even_threshold(*, loss_default: float, margin_good: float) -> float:
    """The threshold a perfectly calibrated model would use: approve while p * loss < (1 - p) * margin."""
    total = loss_default + margin_good
    return margin_good / total if total > 0 else 0.5
