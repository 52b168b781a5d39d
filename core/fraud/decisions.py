"""Fraud-specific metrics and decisions: precision@k per day, card precision@k, cost policy, bands.

All functions take plain arrays (labels, scores, amounts, days, cards) so pages can recompute them
instantly from stored test predictions when the analyst moves a slider.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from core.errors import DataValidationError


def _check_k(k: int) -> int:
    if int(k) < 1:
        raise DataValidationError(f"Expected k (alerts per day) of at least 1; got {k}. "
                                  "Fix: set how many alerts the team can review per day, e.g. 100.")
    return int(k)


def compute_precision_at_k_per_day(days, y, scores, k: int = 100) -> tuple[float, pd.DataFrame]:
    """Per day, the share of fraud among the k highest-risk transactions; and the mean over days."""
    k = _check_k(k)
    df = pd.DataFrame({"day": np.asarray(days), "y": np.asarray(y, float),
                       "p": np.asarray(scores, float)})
    df = df.sort_values(["day", "p"], ascending=[True, False], kind="stable")
    top = df.groupby("day", sort=True).head(k)
    per_day = top.groupby("day").agg(alerts=("y", "size"), fraud=("y", "sum"))
    # Divide by k, not by the day's alerts: a quiet day with 40 transactions cannot fill 100 slots.
    per_day["precision_at_k"] = per_day["fraud"] / k
    return float(per_day["precision_at_k"].mean()), per_day.reset_index()


def compute_card_precision_at_k(days, cards, y, scores, k: int = 100, *,
                                remove_detected: bool = True) -> tuple[float, pd.DataFrame]:
    """Card precision@k (Fraud Detection Handbook, section 4.2.3).

    For each day, every card gets the highest risk and the label "fraud" if any of its
    transactions that day is fraudulent; the share of truly compromised cards among the k riskiest
    cards is that day's card precision, averaged over days. With ``remove_detected`` (the
    handbook's default), cards found in a day's top k are dropped from the following days, because
    the investigators have already blocked them.
    """
    k = _check_k(k)
    df = pd.DataFrame({"day": np.asarray(days), "card": np.asarray(cards),
                       "y": np.asarray(y, float), "p": np.asarray(scores, float)})
    cards_day = df.groupby(["day", "card"], sort=False).agg(p=("p", "max"), y=("y", "max"))
    detected: set = set()
    rows = []
    for day, g in cards_day.groupby(level="day", sort=True):
        g = g.droplevel("day")
        if remove_detected and detected:
            g = g[~g.index.isin(detected)]
        top = g.sort_values("p", ascending=False, kind="stable").head(k)
        hits = top.index[top["y"] == 1]
        rows.append({"day": day, "cards": len(g), "compromised_cards": int(g["y"].sum()),
                     "caught_in_top_k": len(hits), "card_precision_at_k": len(hits) / k})
        if remove_detected:
            detected.update(hits)
    per_day = pd.DataFrame(rows)
    return float(per_day["card_precision_at_k"].mean()), per_day


def compute_cost_curve(y, scores, amounts, *, review_fee: float = 5.0,
                       n_points: int = 200) -> pd.DataFrame:
    """Expected cost and savings over alert thresholds.

    Each missed fraud costs its amount; each alert costs ``review_fee`` (an analyst's time). With
    no model nothing is reviewed and every fraud is lost, so savings = that cost minus the policy's.
    """
    if review_fee < 0:
        raise DataValidationError(f"Expected a review fee of 0 or more; got {review_fee}. "
                                  "Fix: enter the cost of reviewing one alert, e.g. 5.")
    y = np.asarray(y, float)
    p = np.asarray(scores, float)
    a = np.asarray(amounts, float)
    order = np.argsort(-p, kind="stable")
    p_s, fraud_amt = p[order], (a * y)[order]
    caught = np.concatenate([[0.0], np.cumsum(fraud_amt)])
    n_fraud = np.concatenate([[0.0], np.cumsum(y[order])])
    total_fraud = caught[-1]
    # Candidate cut-offs: after each distinct score (alert everything >= that score).
    last_of_tie = np.flatnonzero(np.r_[p_s[1:] != p_s[:-1], True]) + 1
    n_alerts = np.r_[0, last_of_tie]
    if len(n_alerts) > n_points:
        pick = np.unique(np.r_[np.linspace(0, len(n_alerts) - 1, n_points).round().astype(int)])
        n_alerts = n_alerts[pick]
    cost = total_fraud - caught[n_alerts] + review_fee * n_alerts
    thresholds = np.where(n_alerts > 0, p_s[np.maximum(n_alerts - 1, 0)], np.inf)
    return pd.DataFrame({
        "threshold": thresholds, "alerts": n_alerts, "fraud_caught": n_fraud[n_alerts],
        "fraud_amount_caught": caught[n_alerts], "fraud_amount_missed": total_fraud - caught[n_alerts],
        "review_cost": review_fee * n_alerts, "total_cost": cost,
        "savings": total_fraud - cost,
    })


def get_optimal_threshold(curve: pd.DataFrame) -> dict:
    """The row of the cost curve with the lowest total cost, as a dict."""
    best = curve.loc[curve["total_cost"].idxmin()]
    return {k: float(v) for k, v in best.items()}


def compute_decision_bands(y, scores, amounts, *, review_threshold: float,
                           block_threshold: float) -> pd.DataFrame:
    """Approve / review / block counts, fraud caught and money at stake for two thresholds."""
    if not 0 <= review_threshold <= block_threshold <= 1:
        raise DataValidationError(
            f"Expected 0 <= review threshold <= block threshold <= 1; got {review_threshold} and "
            f"{block_threshold}. Fix: set the block threshold at or above the review threshold.")
    y = np.asarray(y, float)
    p = np.asarray(scores, float)
    a = np.asarray(amounts, float)
    band = np.where(p >= block_threshold, "block", np.where(p >= review_threshold, "review", "approve"))
    rows = []
    n_fraud = max(y.sum(), 1)
    for name in ("approve", "review", "block"):
        m = band == name
        rows.append({"band": name, "transactions": int(m.sum()), "share": float(m.mean()) if len(m) else 0.0,
                     "fraud": int(y[m].sum()), "share_of_all_fraud": float(y[m].sum() / n_fraud),
                     "amount": float(a[m].sum()), "fraud_amount": float((a * y)[m].sum())})
    return pd.DataFrame(rows)


def compute_recall_at_precision(y, scores, min_precision: float = 0.5) -> float:
    """Highest recall reachable with precision >= ``min_precision`` (0 if never reached)."""
    y = np.asarray(y, float)
    order = np.argsort(-np.asarray(scores, float), kind="stable")
    tp = np.cumsum(y[order])
    n = np.arange(1, len(y) + 1)
    ok = tp / n >= min_precision
    return float(tp[ok].max() / max(y.sum(), 1)) if ok.any() else 0.0
