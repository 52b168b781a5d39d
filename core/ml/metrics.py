"""Classification metrics, curves and threshold / cost analysis for binary scores.

Everything here works on plain arrays (``y`` in {0, 1}, ``p`` the predicted probability of the
positive class) so that a page can recompute it instantly when a slider moves.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from core.errors import DataValidationError


def _check(y, p) -> tuple[np.ndarray, np.ndarray]:
    y = np.asarray(y).astype(int).ravel()
    p = np.asarray(p, dtype=float).ravel()
    if y.shape != p.shape:
        raise DataValidationError(
            f"Labels and scores must have the same length; got {len(y)} labels and {len(p)} scores."
        )
    if len(y) == 0:
        raise DataValidationError("Metrics need at least one row; got an empty evaluation set.")
    return y, p


def _both_classes(y: np.ndarray) -> bool:
    return 0 < y.sum() < len(y)


def compute_ks(y, p) -> float:
    """Kolmogorov–Smirnov statistic: the largest gap between the score CDFs of the two classes."""
    y, p = _check(y, p)
    if not _both_classes(y):
        return float("nan")
    order = np.argsort(p, kind="mergesort")
    ys, ps = y[order], p[order]
    # Evaluate the CDFs only at the end of each run of tied scores.
    last = np.r_[ps[1:] != ps[:-1], True]
    cdf_pos = np.cumsum(ys)[last] / ys.sum()
    cdf_neg = np.cumsum(1 - ys)[last] / (1 - ys).sum()
    return float(np.max(np.abs(cdf_pos - cdf_neg)))


def compute_confusion(y, p, threshold: float = 0.5) -> dict[str, int]:
    """Counts at ``threshold``: a row is flagged positive when ``p >= threshold``."""
    y, p = _check(y, p)
    pred = p >= threshold
    return {
        "tp": int(np.sum(pred & (y == 1))),
        "fp": int(np.sum(pred & (y == 0))),
        "tn": int(np.sum(~pred & (y == 0))),
        "fn": int(np.sum(~pred & (y == 1))),
    }


def _ratio(a: float, b: float) -> float:
    return float(a / b) if b else 0.0


def compute_binary_metrics(y, p, threshold: float = 0.5) -> dict[str, float]:
    """Threshold-free (ROC-AUC, PR-AUC, Brier, KS, Gini) and at-threshold metrics."""
    from sklearn.metrics import average_precision_score, brier_score_loss, roc_auc_score

    y, p = _check(y, p)
    c = compute_confusion(y, p, threshold)
    precision = _ratio(c["tp"], c["tp"] + c["fp"])
    recall = _ratio(c["tp"], c["tp"] + c["fn"])
    f1 = _ratio(2 * precision * recall, precision + recall)
    if _both_classes(y):
        roc_auc = float(roc_auc_score(y, p))
        pr_auc = float(average_precision_score(y, p))
    else:
        roc_auc = pr_auc = float("nan")
    return {
        "roc_auc": roc_auc,
        "pr_auc": pr_auc,
        "precision": precision,
        "recall": recall,
        "f1": f1,
        "accuracy": _ratio(c["tp"] + c["tn"], len(y)),
        "brier": float(brier_score_loss(y, np.clip(p, 0, 1))),
        "ks": compute_ks(y, p),
        "gini": 2 * roc_auc - 1 if roc_auc == roc_auc else float("nan"),
        "threshold": float(threshold),
        "positive_rate": _ratio(c["tp"] + c["fp"], len(y)),
        "prevalence": float(y.mean()),
        **{k: float(v) for k, v in c.items()},
    }


def compute_roc(y, p) -> pd.DataFrame:
    """ROC curve points: false positive rate, true positive rate, threshold."""
    from sklearn.metrics import roc_curve

    y, p = _check(y, p)
    fpr, tpr, thr = roc_curve(y, p)
    return pd.DataFrame({"fpr": fpr, "tpr": tpr, "threshold": np.clip(thr, 0, 1)})


def compute_pr(y, p) -> pd.DataFrame:
    """Precision–recall curve points."""
    from sklearn.metrics import precision_recall_curve

    y, p = _check(y, p)
    precision, recall, thr = precision_recall_curve(y, p)
    return pd.DataFrame(
        {"precision": precision, "recall": recall, "threshold": np.r_[thr, 1.0]}
    )


def compute_calibration(y, p, n_bins: int = 10) -> pd.DataFrame:
    """Reliability table over equal-width score bins: mean prediction vs observed rate."""
    y, p = _check(y, p)
    bins = np.clip((p * n_bins).astype(int), 0, n_bins - 1)
    df = pd.DataFrame({"bin": bins, "y": y, "p": p})
    out = df.groupby("bin").agg(mean_predicted=("p", "mean"), observed_rate=("y", "mean"), count=("y", "size"))
    return out.reset_index()


def compute_threshold_grid(y, p, n: int = 101) -> pd.DataFrame:
    """Confusion counts and rates at ``n`` evenly spaced thresholds from 0 to 1.

    Computed with one sort and a cumulative sum, so a whole grid costs about as much as one
    threshold and a page can redraw cost curves instantly.
    """
    y, p = _check(y, p)
    thresholds = np.linspace(0.0, 1.0, n)
    order = np.argsort(p)
    ps, ys = p[order], y[order]
    pos_total, neg_total = int(ys.sum()), int(len(ys) - ys.sum())
    # Rows strictly below t are not flagged; searchsorted('left') counts them.
    below = np.searchsorted(ps, thresholds, side="left")
    pos_below = np.r_[0, np.cumsum(ys)][below]
    fn = pos_below
    tn = below - pos_below
    tp = pos_total - fn
    fp = neg_total - tn
    flagged = tp + fp
    with np.errstate(divide="ignore", invalid="ignore"):
        precision = np.where(flagged > 0, tp / np.maximum(flagged, 1), 1.0)
        recall = np.where(pos_total > 0, tp / max(pos_total, 1), 0.0)
        fpr = np.where(neg_total > 0, fp / max(neg_total, 1), 0.0)
    return pd.DataFrame(
        {
            "threshold": thresholds,
            "tp": tp,
            "fp": fp,
            "tn": tn,
            "fn": fn,
            "precision": precision,
            "recall": recall,
            "fpr": fpr,
            "flagged_rate": flagged / len(ys),
        }
    )


def compute_cost_curve(
    grid: pd.DataFrame,
    *,
    cost_fp: float = 0.0,
    cost_fn: float = 0.0,
    gain_tp: float = 0.0,
    gain_tn: float = 0.0,
) -> pd.DataFrame:
    """Net value per threshold: gains for correct decisions minus costs for wrong ones.

    ``grid`` comes from :func:`compute_threshold_grid`. The result adds a ``value`` column; the
    best threshold is the row with the highest value.
    """
    for name, v in {"cost_fp": cost_fp, "cost_fn": cost_fn}.items():
        if v < 0:
            raise DataValidationError(
                f"{name} must be zero or more (a cost); got {v}. Enter the cost as a positive amount."
            )
    out = grid.copy()
    out["value"] = (
        gain_tp * out["tp"] + gain_tn * out["tn"] - cost_fp * out["fp"] - cost_fn * out["fn"]
    )
    return out


def get_best_threshold(curve: pd.DataFrame, column: str = "value") -> float:
    """Threshold with the highest ``column`` (the lowest threshold among ties)."""
    return float(curve.loc[curve[column].idxmax(), "threshold"])


def compute_recall_at_precision(y, p, min_precision: float) -> float:
    """Highest recall reachable while precision stays at or above ``min_precision``."""
    pr = compute_pr(y, p)
    ok = pr[pr["precision"] >= min_precision]
    return float(ok["recall"].max()) if len(ok) else 0.0


def choose_threshold(y: np.ndarray, p: np.ndarray, rule: str = "f1") -> float:
    """Default decision threshold from validation rows: the F1-best one, or 0.5."""
    if rule != "f1" or y.sum() == 0:
        return 0.5
    grid = compute_threshold_grid(y, p, n=201)
    prec, rec = grid["precision"].to_numpy(), grid["recall"].to_numpy()
    f1 = np.where(prec + rec > 0, 2 * prec * rec / np.maximum(prec + rec, 1e-12), 0)
    return float(grid["threshold"].iloc[int(np.argmax(f1))])
