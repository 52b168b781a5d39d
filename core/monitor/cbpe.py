"""Performance estimated before labels arrive: confidence-based performance estimation (CBPE).

NannyML's CBPE reads a calibrated probability as the chance that the row is positive. Summed over
rows, these chances give the confusion matrix to expect at any threshold, without a single label:

    expected TP = sum of p over flagged rows        expected FP = sum of (1 - p) over flagged rows
    expected FN = sum of p over rows not flagged    expected TN = sum of (1 - p) over rows not flagged

and, at every threshold along the model's scores, the expected true and false positive rates, whose
curve gives the expected ROC-AUC. The estimate is only as good as the calibration: the monitor
checks it on the run's test rows first and calibrates the scores when they are off
(``core.monitor.calibration``).
"""

from __future__ import annotations

import numpy as np


def expected_confusion(p, flagged) -> dict[str, float]:
    """Expected TP, FP, TN, FN counts for calibrated probabilities ``p`` and a flag per row."""
    p = np.asarray(p, dtype=float)
    f = np.asarray(flagged, dtype=bool)
    return {"tp": float(p[f].sum()), "fp": float((1 - p[f]).sum()),
            "fn": float(p[~f].sum()), "tn": float((1 - p[~f]).sum())}


def expected_roc_auc(score, p) -> float | None:
    """Expected ROC-AUC of rows ranked by ``score`` whose chance of being positive is ``p``.

    Rows are taken from the highest score down; at each distinct score the expected true positives
    grow by the rows' ``p`` and the expected false positives by ``1 - p`` (tied scores move together,
    as thresholds cannot split them). None when the expected positives or negatives are zero.
    """
    score = np.asarray(score, dtype=float)
    p = np.asarray(p, dtype=float)
    ok = np.isfinite(score) & np.isfinite(p)
    score, p = score[ok], np.clip(p[ok], 0.0, 1.0)
    if not len(p):
        return None
    order = np.argsort(-score, kind="mergesort")
    s, q = score[order], p[order]
    last = np.r_[np.flatnonzero(np.diff(s)), len(s) - 1]
    tp, fp = np.cumsum(q)[last], np.cumsum(1 - q)[last]
    P, N = tp[-1], fp[-1]
    if P <= 0 or N <= 0:
        return None
    tpr, fpr = np.r_[0.0, tp / P], np.r_[0.0, fp / N]
    return float(np.sum(np.diff(fpr) * (tpr[1:] + tpr[:-1]) / 2))


def expected_rates(p, flagged) -> dict[str, float | None]:
    """Expected precision of the flagged rows, recall, and the positive share among unflagged rows."""
    c = expected_confusion(p, flagged)

    def share(a, b):
        return None if b <= 0 else a / b

    return {"precision": share(c["tp"], c["tp"] + c["fp"]), "recall": share(c["tp"], c["tp"] + c["fn"]),
            "positive_rate_unflagged": share(c["fn"], c["fn"] + c["tn"]),
            "false_positive_rate": share(c["fp"], c["fp"] + c["tn"]),
            "miss_rate": share(c["fn"], c["tp"] + c["fn"])}
